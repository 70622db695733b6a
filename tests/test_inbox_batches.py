"""The receiver's write path (``store/inbox_batches.py``) on SQLite and PostgreSQL.

A batch is one autocommitted INSERT on a kept connection; these tests hold it
to what the transactional ``inbox.record_many`` guarantees (the same rows,
redeliveries recognised, each delivery's own outcome) and to what a kept
connection adds: it is committed at once, survives the server dropping it,
and goes back to the pool as the pool lent it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from govbot.store import inbox, inbox_batches, tables
from govbot.store.db import make_engine
from govbot.store.inbox_batches import WRITER_CHECKPOINT_PAGES, BatchWriter
from webhooks.group_commit import InboxWriter

AT = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=UTC)


def item(delivery: str, key: str | None = None, event: Any = "pull_request") -> tuple[Any, ...]:
    return ("github", delivery, event, "opened", b'{"n": "' + delivery.encode() + b'"}', key)


def checkpoints_done() -> None:
    """Wait for SQLite's background checkpoints queued so far (one thread runs them)."""
    if inbox_batches._checkpoints is not None:
        inbox_batches._checkpoints.submit(lambda: None).result()


def rows(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        result = conn.execute(
            text(
                "SELECT source, delivery_id, event, action, body, event_key, received_at, "
                "available_at, status, attempts FROM deliveries ORDER BY id"
            )
        )
        return [tuple(r) for r in result]


def test_a_batch_stores_the_rows_record_many_would(engine: Any) -> None:
    writer = BatchWriter(engine)
    assert writer.write([item("a", "k-a"), item("b")], AT) == [True, True]
    by_batch = rows(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM deliveries"))
        assert inbox.record_many(conn, [item("a", "k-a"), item("b")], AT) == [True, True]
    assert rows(engine) == by_batch
    with engine.begin() as conn:  # and what a Core INSERT writes (SQLite keeps times as text)
        conn.execute(text("DELETE FROM deliveries"))
        for source, delivery, event, action, body, key in [item("a", "k-a"), item("b")]:
            conn.execute(
                tables.deliveries.insert().values(
                    source=source, delivery_id=delivery, event=event, action=action, body=body,
                    event_key=key, received_at=AT, available_at=AT, status="queued", attempts=0,
                )
            )  # fmt: skip
    assert rows(engine) == by_batch
    claimed = inbox.claim(engine, "w", now=AT)
    assert claimed is not None and claimed.received_at == AT  # the time reads back, zoned
    writer.close()


@pytest.mark.parametrize("skipped", [[0], [1], [2], [0, 2], [0, 1, 2]])
def test_redeliveries_are_recognised_wherever_they_fall_in_a_batch(
    engine: Any, skipped: list[int]
) -> None:
    """SQLite reports which rows were new through the rowids of the ones it inserted;
    PostgreSQL through RETURNING: either way, each delivery gets its own answer."""
    writer = BatchWriter(engine)
    batch = [item(f"d{i}", f"k{i}") for i in range(3)]
    writer.write([batch[i] for i in skipped], AT)
    replay = ("github", "new-id-same-event", "pull_request", None, b"{}", "k1")
    # the replay shares d1's event key: a duplicate whether d1 came before or in this batch
    expected = [i not in skipped for i in range(3)] + [False]
    assert writer.write([*batch, replay], AT) == expected
    assert writer.write([item("d9"), item("d9")], AT) == [True, False]  # within one batch
    assert len(rows(engine)) == 4
    writer.close()


def test_the_batch_is_committed_when_write_returns(engine: Any) -> None:
    writer = BatchWriter(engine)
    writer.write([item("a")], AT)
    other = make_engine(engine.url.render_as_string(hide_password=False), **_same_schema(engine))
    with other.connect() as conn:  # another connection sees it: nothing left open
        assert conn.execute(text("SELECT count(*) FROM deliveries")).scalar_one() == 1
    other.dispose()
    writer.close()


def test_one_bad_delivery_fails_alone(engine: Any) -> None:
    writer = BatchWriter(engine)
    outcomes = writer.write([item("a"), item("bad", event=None), item("c")], AT)
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], IntegrityError | engine.dialect.loaded_dbapi.IntegrityError)
    assert [r[1] for r in rows(engine)] == ["a", "c"]
    writer.close()


def test_kept_connections_go_back_to_the_pool_as_lent(engine: Any) -> None:
    writer = BatchWriter(engine)
    writer.write([item("a")], AT)
    checkpoints_done()  # SQLite's background checkpoint borrows a connection meanwhile
    assert engine.pool.checkedout() == 1  # kept between batches
    writer.close()
    assert engine.pool.checkedout() == 0
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            assert raw.driver_connection.autocommit is False
        with engine.begin() as conn:  # the pool's next user gets an ordinary transaction
            conn.execute(text("DELETE FROM deliveries"))
    finally:
        raw.close()
    assert rows(engine) == []


def test_a_kept_connection_the_server_dropped_is_replaced(engine: Any) -> None:
    """PostgreSQL: an idle connection killed by the server (a restart, an idle timeout)
    costs nothing: the batch goes through on a new one, stored once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    writer = BatchWriter(engine)
    writer.write([item("a")], AT)
    kept = writer._kept[0].driver_connection
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": kept.info.backend_pid})
    assert writer.write([item("b"), item("a")], AT) == [True, False]
    assert [r[1] for r in rows(engine)] == ["a", "b"]
    writer.close()


@pytest.mark.parametrize(
    "url",
    ["sqlite:///{tmp}/missing-dir/govbot.db", "postgresql+psycopg://postgres@127.0.0.1:1/none"],
)
def test_an_unreachable_database_is_unavailable_for_every_delivery(tmp_path, url: str) -> None:
    engine = make_engine(
        url.format(tmp=tmp_path),
        **({"connect_args": {"connect_timeout": 2}} if "psycopg" in url else {}),
    )
    outcomes = BatchWriter(engine).write([item("a"), item("b")], AT)
    assert len(outcomes) == 2 and all(isinstance(o, OperationalError) for o in outcomes)


def _same_schema(engine: Any) -> dict[str, Any]:
    """Connect arguments that reach the test engine's tables (PostgreSQL: its schema)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return {"connect_args": {"options": f"-csearch_path={schema}"}}


def test_the_receiver_holds_no_connection_once_no_delivery_waits(engine: Any) -> None:
    """The group commit keeps its connection only while deliveries keep coming: one kept
    past its app (a timer that never fired) exhausted PostgreSQL's connection slots."""
    writer = InboxWriter(engine, now=lambda: AT)

    async def burst() -> list[bool]:
        return await asyncio.gather(*(writer.store(item(f"d{i}")) for i in range(20)))

    assert asyncio.run(burst()) == [True] * 20
    checkpoints_done()
    assert engine.pool.checkedout() == 0
    assert len(rows(engine)) == 20


def test_sqlite_checkpoints_are_copied_in_the_background_and_the_log_stays_bounded(
    engine: Any,
) -> None:
    """The writer's connection checkpoints only past WRITER_CHECKPOINT_PAGES; after each
    batch a background thread copies the log into the database; the connection goes
    back to the pool with the pool's own setting."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL checkpoints on its own")
    writer = BatchWriter(engine)
    big = [("github", f"d{i}", "e", None, bytes(20_000), None) for i in range(50)]
    assert writer.write(big, AT) == [True] * 50
    kept = writer._kept[0].driver_connection
    assert kept.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WRITER_CHECKPOINT_PAGES
    assert inbox_batches._checkpoints is not None
    checkpoints_done()
    database = Path(engine.url.database)
    assert database.stat().st_size > 50 * 20_000  # the rows were copied out of the log
    writer.close()
    raw = engine.raw_connection()  # outside a transaction: a checkpoint cannot run in one
    try:
        driver = raw.driver_connection
        busy, logged, copied = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and logged > 250 and copied == logged
        assert driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    finally:
        raw.close()
