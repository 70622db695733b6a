"""Deliveries' bodies compressed with lz4 on PostgreSQL, where the server has it.

A delivery's body is tens of kilobytes of JSON, stored out of line (TOAST)
and compressed. PostgreSQL's default compressor (pglz) spent about 340 us of
the server's CPU per 24 kB body, more than the receiver spent on the whole
delivery; lz4 spends about 110 us for a body about twice as large on disk
(measured on the bench's payload). The bodies already stored are left as
they are: the setting applies to values written from now on. SQLite stores
bodies as they are; nothing to do there.

Revision ID: 0008_inbox_lz4
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_inbox_lz4"
down_revision = "0007_forge_limits"
branch_labels = None
depends_on = None

# Lists lz4 only on PostgreSQL 14 and later built with it; no row before 14.
HAS_LZ4 = sa.text(
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
)


def _compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.execute(HAS_LZ4).scalar():
        op.execute(f"ALTER TABLE deliveries ALTER COLUMN body SET COMPRESSION {method}")


def upgrade() -> None:
    _compression("lz4")


def downgrade() -> None:
    _compression("pglz")
