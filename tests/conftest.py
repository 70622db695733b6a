"""Shared fixtures: paths to real data, an isolated findings cache, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
INTEROP = SHARED / "interop"
POSTGRES_URL = os.environ.get(
    "GOVBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never read or write the user's findings cache."""
    monkeypatch.setenv("GOVBOT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def interop() -> Path:
    if not INTEROP.is_dir():
        pytest.skip(f"the interop reference data is not at {INTEROP}")
    return INTEROP


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A reachable PostgreSQL URL; skips locally without one, fails in CI."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is mandatory in CI and {POSTGRES_URL} is unreachable: {e}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} (set GOVBOT_TEST_POSTGRES_URL): {e}")
    yield POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A migrated database of each kind: a SQLite file, or a fresh PostgreSQL schema."""
    from govbot.store import migrate
    from govbot.store.db import make_engine

    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'govbot.db'}")
        migrate.upgrade(eng)
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("postgres")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    eng = make_engine(
        url.replace("postgresql://", "postgresql+psycopg://"),
        connect_args={"options": f"-csearch_path={schema}"},
    )
    migrate.upgrade(eng)
    yield eng
    eng.dispose()
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()
