"""Reconciliation: how far each repository was read, and deliveries keyed by forge object.

Revision ID: 0006_reconcile
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_reconcile"
down_revision = "0005_certbot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconcile_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("forge", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etags", sa.Text(), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("forge", "scope", name="uq_reconcile_marks_forge_scope"),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("event_key", sa.String(300), nullable=True))
        batch.create_unique_constraint("uq_deliveries_source_event_key", ["source", "event_key"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_source_event_key", type_="unique")
        batch.drop_column("event_key")
    op.drop_table("reconcile_marks")
