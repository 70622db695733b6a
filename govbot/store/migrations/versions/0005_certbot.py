"""The certification bot: flag requests (2017A C3), managed labels, certified products.

Revision ID: 0005_certbot
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_certbot"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(800), nullable=False, unique=True),
        sa.Column("asked_on", sa.String(300), nullable=False),
        sa.Column("forge", sa.String(16), nullable=False),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("test", sa.String(400), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("governed_branch", sa.String(200), nullable=False),
        sa.Column("guidelines", sa.String(300), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_flag_requests_asked_on", "flag_requests", ["asked_on"])
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_key", sa.String(300), nullable=False, unique=True),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "certifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("forge", sa.String(16), nullable=False),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("product", sa.String(300), nullable=False),
        sa.Column("review_key", sa.String(300), nullable=False),
        sa.Column("governed_branch", sa.String(200), nullable=False),
        sa.Column("merge_sha", sa.String(64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vote_state", sa.String(16), nullable=False),
        sa.UniqueConstraint(
            "forge", "repo", "product", "merge_sha", name="uq_certifications_merge"
        ),
    )
    op.create_index("ix_certifications_review_key", "certifications", ["review_key"])


def downgrade() -> None:
    op.drop_table("certifications")
    op.drop_table("review_labels")
    op.drop_table("flag_requests")
