"""The decision record: hash-chained vote results, append-only (triggers refuse UPDATE/DELETE).

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REFUSE = "decisions is append-only"

POSTGRES_UP = (
    f"""
    CREATE FUNCTION govbot_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSE}: % refused', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION govbot_decisions_append_only()
    """,
)
SQLITE_UP = tuple(
    f"""
    CREATE TRIGGER decisions_no_{op_name.lower()} BEFORE {op_name} ON decisions
    BEGIN SELECT RAISE(ABORT, '{REFUSE}: {op_name} refused'); END
    """
    for op_name in ("UPDATE", "DELETE")
)


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chain", sa.String(300), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("review_key", sa.String(300), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.UniqueConstraint("chain", "seq", name="uq_decisions_chain_seq"),
        sa.UniqueConstraint("chain", "prev", name="uq_decisions_chain_prev"),
    )
    op.create_index("ix_decisions_review_key", "decisions", ["review_key"])
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_UP if dialect == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("decisions")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS govbot_decisions_append_only()")
