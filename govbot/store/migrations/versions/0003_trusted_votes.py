"""Trusted votes: who acted and on which revision, the pinned policy, each head's content.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("login", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("source_id", sa.String(200), nullable=False, server_default=""))
    # two comments of one voter within the same second are two acts, not a redelivery
    with op.batch_alter_table("ballots", recreate="always") as batch:
        batch.drop_constraint("uq_ballots_act", type_="unique")
        batch.create_unique_constraint(
            "uq_ballots_act_source",
            ["review_key", "forge", "account", "kind", "source", "source_id", "at"],
        )
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("governed_branch", sa.String(200), nullable=True))
        batch.add_column(sa.Column("policy_sha", sa.String(64), nullable=True))
        batch.add_column(sa.Column("period_start", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("draft", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("tally_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("tallied_seq", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("vote_results") as batch:
        batch.add_column(sa.Column("policy_sha", sa.String(64), nullable=True))
    op.create_table(
        "review_heads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_key", sa.String(300), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("content_key", sa.String(64), nullable=False),
        sa.Column("vote_class", sa.String(64), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("review_key", "head_sha", name="uq_review_heads_review_head"),
    )
    op.create_index("ix_review_heads_review_key", "review_heads", ["review_key"])


def downgrade() -> None:
    op.drop_table("review_heads")
    with op.batch_alter_table("vote_results") as batch:
        batch.drop_column("policy_sha")
    with op.batch_alter_table("reviews") as batch:
        for column in (
            "tallied_seq",
            "tally_seq",
            "draft",
            "period_start",
            "policy_sha",
            "governed_branch",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("ballots", recreate="always") as batch:
        batch.drop_constraint("uq_ballots_act_source", type_="unique")
        batch.create_unique_constraint(
            "uq_ballots_act", ["review_key", "forge", "account", "kind", "source", "at"]
        )
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("source_id")
        batch.drop_column("login")
