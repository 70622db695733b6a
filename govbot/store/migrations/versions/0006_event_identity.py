"""The event's identity on deliveries (replays are duplicates) and the shared forge rate limits.

Revision ID: 0006_event_identity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_event_identity"
down_revision = "0005_certbot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("event_key", sa.String(200), nullable=True))
        batch.create_unique_constraint("uq_deliveries_source_event", ["source", "event_key"])
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
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_source_event", type_="unique")
        batch.drop_column("event_key")
