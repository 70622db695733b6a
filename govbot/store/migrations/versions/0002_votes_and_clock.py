"""Votes, tallies and the clock's once-only events; when a review opened.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("check_results") as batch:
        batch.add_column(sa.Column("vote_class", sa.String(64), nullable=True))
    op.create_table(
        "ballots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_key", sa.String(300), nullable=False),
        sa.Column("forge", sa.String(16), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "review_key", "forge", "account", "kind", "source", "at", name="uq_ballots_act"
        ),
    )
    op.create_index("ix_ballots_review_key", "ballots", ["review_key"])
    op.create_table(
        "vote_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_key", sa.String(300), nullable=False, unique=True),
        sa.Column("head_sha", sa.String(64), nullable=True),
        sa.Column("vote_class", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("earliest_decision", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "clock_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clock_events")
    op.drop_table("vote_results")
    op.drop_table("ballots")
    with op.batch_alter_table("check_results") as batch:
        batch.drop_column("vote_class")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("opened_at")
