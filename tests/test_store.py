"""The store on SQLite and PostgreSQL: migrations, the inbox's exactly-once guarantees."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlmodel import SQLModel

from govbot.store import inbox, migrate, tables
from govbot.store.db import database_url, make_engine
from govbot.store.models import utcnow

D = tables.deliveries
A = tables.audit_log


def put(engine: Any, n: int, prefix: str = "d") -> None:
    with engine.begin() as conn:
        for i in range(n):
            inbox.record(conn, "github", f"{prefix}{i}", "pull_request", "opened", b"{}")


def test_migrations_build_exactly_the_models(engine: Any) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_a_redelivery_is_stored_once(engine: Any) -> None:
    with engine.begin() as conn:
        assert inbox.record(conn, "github", "abc", "pull_request", "opened", b"{}") is True
        assert inbox.record(conn, "github", "abc", "pull_request", "opened", b"{}") is False
        assert inbox.record(conn, "gerrit", "abc", "patchset-created", None, b"{}") is True
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(D)).scalar() == 2


def test_claim_finish_and_lease_takeover(engine: Any) -> None:
    put(engine, 1)
    first = inbox.claim(engine, "w1", lease=timedelta(milliseconds=200))
    assert first is not None and first.attempts == 1
    assert inbox.claim(engine, "w2") is None  # leased to w1
    time.sleep(0.3)
    second = inbox.claim(engine, "w2")
    assert second is not None and second.id == first.id and second.attempts == 2
    with pytest.raises(inbox.LeaseLost), engine.begin() as conn:
        inbox.finish(conn, first)  # w1 woke up too late: fenced out
    with engine.begin() as conn:
        inbox.finish(conn, second)
    assert inbox.counts(engine) == {"done": 1}


def test_failures_back_off_then_park_and_can_be_requeued(engine: Any) -> None:
    put(engine, 1)
    claimed = inbox.claim(engine, "w")
    assert claimed is not None
    assert inbox.fail(engine, claimed, "forge down", max_attempts=3) == "queued"
    assert inbox.claim(engine, "w") is None  # backing off
    with engine.begin() as conn:
        conn.execute(D.update().values(available_at=utcnow()))
    again = inbox.claim(engine, "w")
    assert again is not None and again.attempts == 2
    assert inbox.fail(engine, again, "still down", max_attempts=2) == "parked"
    with engine.connect() as conn:
        row = conn.execute(select(D.c.status, D.c.last_error)).one()
    assert tuple(row) == ("parked", "still down")
    assert inbox.requeue(engine, [again.id]) == 1
    assert inbox.claim(engine, "w") is not None


def test_retry_after_is_honoured(engine: Any) -> None:
    put(engine, 1)
    claimed = inbox.claim(engine, "w")
    assert claimed is not None
    inbox.fail(engine, claimed, "rate limited", retry_after=120)
    with engine.connect() as conn:
        available = conn.execute(select(D.c.available_at)).scalar_one()
    assert timedelta(seconds=100) < available - utcnow() <= timedelta(seconds=120)


def _drain(url: str, schema: str | None, name: str) -> int:
    """A worker process: claim, record an effect, finish; all in the real inbox."""
    kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    engine = make_engine(url, **kwargs)
    done = 0
    while (claimed := inbox.claim(engine, name)) is not None:
        with engine.begin() as conn:
            conn.execute(
                A.insert().values(
                    at=utcnow(),
                    actor=name,
                    action="processed",
                    subject=claimed.delivery_id,
                    detail="{}",
                )
            )
            inbox.finish(conn, claimed)
        done += 1
    return done


def test_four_workers_process_2000_deliveries_exactly_once(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent workers are a PostgreSQL deployment (SQLite serves one machine)")
    put(engine, 2000)
    url = engine.url.render_as_string(hide_password=False)
    schema = engine.dialect.default_schema_name
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        counts = pool.starmap(_drain, [(url, schema, f"w{i}") for i in range(4)])
    assert sum(counts) == 2000
    assert min(counts) > 0  # all four took part
    with engine.connect() as conn:
        per = conn.execute(select(A.c.subject, func.count()).group_by(A.c.subject)).all()
    assert len(per) == 2000 and {n for _, n in per} == {1}
    assert inbox.counts(engine) == {"done": 2000}


HANG = """
import sys, time
from datetime import timedelta
from govbot.store import inbox
from govbot.store.db import make_engine
engine = make_engine(sys.argv[1], **({"connect_args": {"options": "-csearch_path=" + sys.argv[2]}} if sys.argv[2] else {}))
claimed = inbox.claim(engine, "doomed", lease=timedelta(seconds=1))
print(claimed.id, flush=True)
time.sleep(60)  # "mid-processing" until killed
"""


def test_a_worker_killed_mid_processing_leaves_the_delivery_to_another(engine: Any) -> None:
    put(engine, 1)
    url = engine.url.render_as_string(hide_password=False)
    schema = engine.dialect.default_schema_name if engine.dialect.name == "postgresql" else ""
    proc = subprocess.Popen(
        [sys.executable, "-c", HANG, url, schema or ""],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert proc.stdout is not None
    claimed_id = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert inbox.claim(engine, "survivor") is None  # the lease still runs
    time.sleep(1.2)
    assert _drain(url, schema or None, "survivor") == 1
    with engine.connect() as conn:
        row = conn.execute(select(D.c.id, D.c.status, D.c.attempts)).one()
    assert tuple(row) == (claimed_id, "done", 2)


def test_database_url_defaults_to_sqlite_and_normalises_postgres() -> None:
    assert database_url({}).startswith("sqlite:///")
    assert database_url({"GOVBOT_HOME": "/srv/g"}) == "sqlite:////srv/g/govbot.db"
    assert database_url({"DATABASE_URL": "postgres://u:p@h/db"}) == "postgresql+psycopg://u:p@h/db"


def test_a_batch_is_stored_in_one_statement_with_redeliveries_recognised(engine: Any) -> None:
    put(engine, 1, prefix="old")
    batch = [
        ("github", "old0", "e", None, b"{}"),
        ("github", "n1", "e", None, b"{}"),
        ("github", "n1", "e", None, b"{}"),
        ("gerrit", "n1", "e", None, b"{}"),
    ]
    with engine.begin() as conn:
        assert inbox.record_many(conn, batch) == [False, True, False, True]
        assert inbox.record_many(conn, []) == []
    assert inbox.counts(engine) == {"queued": 3}


def test_deliveries_bodies_are_compressed_with_lz4_where_postgresql_has_it(engine: Any) -> None:
    """pglz spent more of the server's CPU on a 24 kB body than the receiver spent on the
    whole delivery (migration 0008); the setting applies to bodies written from then on."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores bodies as they are")
    has_lz4 = (
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    method = (
        "SELECT attcompression FROM pg_attribute "
        "WHERE attrelid = 'deliveries'::regclass AND attname = 'body'"
    )
    with engine.connect() as conn:
        if not conn.exec_driver_sql(has_lz4).scalar():
            pytest.skip("this PostgreSQL was built without lz4")
        assert conn.exec_driver_sql(method).scalar() == "l"
    migrate.downgrade(engine, "0007_forge_limits")
    with engine.connect() as conn:
        assert conn.exec_driver_sql(method).scalar() == "p"
    migrate.upgrade(engine)
    body = b'{"x": "' + b"y" * 100_000 + b'"}'
    with engine.begin() as conn:
        inbox.record(conn, "github", "big", "pull_request", "opened", body)
    claimed = inbox.claim(engine, "w")
    assert claimed is not None and claimed.body == body
