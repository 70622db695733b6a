"""The PostgreSQL the persistence layer will run on is there (mandatory in CI)."""

from __future__ import annotations

import psycopg
import pytest


@pytest.mark.postgres
def test_postgres_answers_with_a_supported_version(postgres: str) -> None:
    with psycopg.connect(postgres) as conn:
        row = conn.execute("show server_version_num").fetchone()
    assert row is not None
    assert int(row[0]) >= 120000, (
        "govbot needs PostgreSQL 12 or later (SKIP LOCKED, generated columns)"
    )
