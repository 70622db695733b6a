"""The forges' rate limits, shared by every worker (``forge_limits``).

The event's identity on deliveries (``event_key``: a replay under a new delivery id
is a duplicate) came with 0006_reconcile.

Revision ID: 0007_forge_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_forge_limits"
down_revision = "0006_reconcile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forge_limits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("forge", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("forge", "key", name="uq_forge_limits_forge_key"),
    )


def downgrade() -> None:
    op.drop_table("forge_limits")
