"""The decision record in the database, on SQLite and PostgreSQL: append-only, never forked."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from govbot.core import decisions as core
from govbot.store import decisions
from govbot.store.db import make_engine
from govbot.store.effects import Effects, apply
from govbot.store.tables import decisions as table
from tests.test_decisions import T0, decision

CHAIN = "github:governance/guidelines"


def append(engine: Any, *decided: core.Decision) -> list[core.Entry]:
    out = []
    for d in decided:
        with engine.begin() as conn:
            out.append(decisions.append(conn, d))
    return out


def test_append_head_entries_and_a_chain_per_repository(engine: Any) -> None:
    with engine.connect() as conn:
        assert decisions.head(conn, CHAIN) is None and decisions.chains(conn) == []
    first, second = append(engine, decision(7), decision(8, minutes=1))
    [other] = append(engine, decision(1, repo="someone/else", minutes=2))
    assert (first.seq, first.prev, second.seq, second.prev) == (1, core.GENESIS, 2, first.hash)
    assert (other.seq, other.prev) == (1, core.GENESIS)  # another repository, its own chain
    with engine.connect() as conn:
        assert decisions.head(conn, CHAIN) == second
        assert decisions.chains(conn) == [CHAIN, "github:someone/else"]
        assert decisions.entries(conn, chain=CHAIN) == [first, second]
        assert decisions.entries(conn, review_key=f"{CHAIN}#8") == [second]
        assert decisions.entries(conn, chain=CHAIN, upto=1) == [first]
        assert decisions.latest(conn, f"{CHAIN}#7") == first
        assert decisions.verify(conn) == []
    assert second.decision == decision(8, minutes=1)  # stored and read back, unchanged


def test_the_stored_record_is_the_canonical_bytes_hashed(engine: Any) -> None:
    [entry] = append(engine, decision(7))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT record, decided_at FROM decisions")).one()
    assert stored.record.encode() == core.canonical(entry.record)
    assert core.chain(entry.prev, entry.record, entry.seq) == entry.hash


def test_a_re_tally_that_changes_nothing_appends_nothing(engine: Any) -> None:
    with engine.begin() as conn:
        first = decisions.append_if_changed(conn, decision(7))
        assert decisions.append_if_changed(conn, decision(7, minutes=60)) is None
        passed = decisions.append_if_changed(conn, decision(7, "passed", minutes=61))
    assert first is not None and passed is not None and passed.prev == first.hash
    with engine.connect() as conn:
        assert [e.record["state"] for e in decisions.entries(conn)] == ["pending", "passed"]


def test_effects_append_the_decision_in_the_tally_transaction(engine: Any) -> None:
    for minutes in (0, 5):  # a redelivered event, a clock re-tally: the same decision
        with engine.begin() as conn:
            apply(conn, Effects(decisions=[decision(7, minutes=minutes)]), "w1")
    with engine.begin() as conn:
        apply(conn, Effects(decisions=[decision(7, "passed", minutes=9)]), "w1")
    with engine.connect() as conn:
        assert [(e.seq, e.record["state"]) for e in decisions.entries(conn)] == [
            (1, "pending"),
            (2, "passed"),
        ]


def test_a_release_slice_runs_from_the_reviews_first_decision_to_its_last(engine: Any) -> None:
    entries = append(
        engine,
        decision(8),
        decision(7, minutes=1),
        decision(8, "failed", minutes=2),
        decision(7, "passed", minutes=3),
        decision(9, minutes=4),
    )
    with engine.connect() as conn:
        assert decisions.release_slice(conn, f"{CHAIN}#7") == entries[1:4]
        assert decisions.release_slice(conn, f"{CHAIN}#7", upto=3) == entries[1:2]
        assert decisions.release_slice(conn, f"{CHAIN}#404") == []
    data = core.export(entries[1:4], f"{CHAIN}#7")
    assert core.verify_export(data, f"{CHAIN}#7") == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE decisions SET record = '{}'",
        "UPDATE decisions SET seq = seq + 1 WHERE seq = 2",
        "DELETE FROM decisions WHERE seq = 2",
        "DELETE FROM decisions",
    ],
)
def test_update_and_delete_are_refused_by_the_database(engine: Any, statement: str) -> None:
    entries = append(engine, decision(7), decision(8, minutes=1))
    with pytest.raises(DBAPIError, match="decisions is append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert decisions.entries(conn) == entries


def test_truncate_is_refused_on_postgres(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    entries = append(engine, decision(7))
    refused = pytest.raises(DBAPIError, match="decisions is append-only: TRUNCATE refused")
    with refused, engine.begin() as conn:
        conn.execute(text("TRUNCATE decisions"))
    with engine.connect() as conn:
        assert decisions.entries(conn) == entries


def test_code_that_skips_the_lock_still_cannot_fork(engine: Any) -> None:
    """Two writers that both read entry 1 as the head: the second is refused by the keys."""
    [first] = append(engine, decision(7))
    rivals = [core.next_entry(first, decision(n, minutes=1)) for n in (8, 9)]

    def row(entry: core.Entry, number: int) -> dict[str, Any]:
        return {"chain": CHAIN, "seq": entry.seq, "prev": entry.prev, "hash": entry.hash,
                "review_key": f"{CHAIN}#{number}", "decided_at": T0,
                "record": core.canonical(entry.record).decode()}  # fmt: skip

    with engine.begin() as conn:
        conn.execute(table.insert().values(**row(rivals[0], 8)))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(table.insert().values(**row(rivals[1], 9)))
    fork = core.Entry(3, first.hash, rivals[1].hash, rivals[1].record)  # same parent, next seq
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(table.insert().values(**row(fork, 9)))
    with engine.connect() as conn:
        assert decisions.verify(conn) == []


def test_verify_names_a_record_altered_behind_the_triggers(engine: Any) -> None:
    """What `govbot decisions verify` finds when someone with the owner's rights edits a row."""
    append(engine, decision(7), decision(8, minutes=1), decision(9, minutes=2))
    if engine.dialect.name == "postgresql":
        disable, enable = (
            f"ALTER TABLE decisions {verb} TRIGGER decisions_append_only"
            for verb in ("DISABLE", "ENABLE")
        )
    else:
        disable, enable = "DROP TRIGGER decisions_no_update", "SELECT 1"
    with engine.begin() as conn:
        conn.execute(text(disable))
        conn.execute(
            text("UPDATE decisions SET record = replace(record, 'pending', 'passed') WHERE seq = 2")
        )
        conn.execute(text(enable))
    with engine.connect() as conn:
        assert decisions.verify(conn) == [
            f"{CHAIN}: entry 2: the hash does not match its contents: its record was altered "
            "(the next entry still links to the old hash)"
        ]


# -- concurrency ----------------------------------------------------------------------


def _append_many(url: str, schema: str | None, worker: int, n: int) -> int:
    """A process of its own: ``n`` appends, each in its own transaction, as fast as it can."""
    kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    engine = make_engine(url, **kwargs)
    for i in range(n):
        with engine.begin() as conn:
            decisions.append(conn, decision(100 * worker + i, minutes=i))
    engine.dispose()
    return n


def test_concurrent_processes_append_one_unforked_chain_on_postgres(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several processes appending at once is a PostgreSQL deployment")
    url = engine.url.render_as_string(hide_password=False)
    schema = engine.dialect.default_schema_name
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        counts = pool.starmap(_append_many, [(url, schema, w, 40) for w in range(4)])
    assert sum(counts) == 160
    with engine.connect() as conn:
        entries = decisions.entries(conn, chain=CHAIN)
        assert decisions.verify(conn) == []
    assert [e.seq for e in entries] == list(range(1, 161))
    assert len({e.record["number"] for e in entries}) == 160  # every append is there, once


def test_concurrent_threads_append_one_unforked_chain(engine: Any) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(15):
                with engine.begin() as conn:
                    decisions.append(conn, decision(100 * worker + i, minutes=i))
        except BaseException as e:  # reported below, in the test's own thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert [e.seq for e in decisions.entries(conn)] == list(range(1, 61))
        assert decisions.verify(conn) == []


def _waiting_on_an_advisory_lock(conn: Any) -> bool:
    """A session waits for a decision chain's lock (the (int4, int4) key space: objsubid 2)."""
    query = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND objsubid = 2 AND classid::bigint = :cls"
    )
    return bool(conn.execute(text(query), {"cls": decisions.LOCK_CLASS}).scalar())


def test_a_waiting_append_reads_the_head_its_predecessor_committed(engine: Any) -> None:
    """The lock is held to commit; the next appender then sees the new head, not the old."""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the second BEGIN IMMEDIATE waits before reading anything")
    append(engine, decision(7))
    holder = engine.connect()
    tx = holder.begin()
    decisions.append(holder, decision(8, minutes=1))  # holds the chain's lock, uncommitted
    done: list[core.Entry] = []
    waiter = threading.Thread(target=lambda: done.extend(append(engine, decision(9, minutes=2))))
    waiter.start()
    for _ in range(3000):  # the waiter queues behind the lock (a bound, not a time limit)
        if _waiting_on_an_advisory_lock(holder):
            break
        assert waiter.is_alive() and done == [], "the second append did not wait"
        time.sleep(0.01)
    else:
        pytest.fail("the second append never waited for the chain's lock")
    tx.commit()
    holder.close()
    waiter.join()
    assert [e.seq for e in done] == [3]
    with engine.connect() as conn:
        assert decisions.verify(conn) == []


def test_datetimes_come_back_in_utc(engine: Any) -> None:
    [entry] = append(engine, decision(7, minutes=5))
    assert entry.decision.decided_at == T0 + timedelta(minutes=5)
