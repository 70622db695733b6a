"""The decision record in the database: append-only, one hash chain per governed repository.

Nothing here updates or deletes a row, and the table's triggers (migration
0003) refuse it from anywhere else. :func:`append` reads the chain's head and
writes the next entry under a lock on that chain, held to the end of the
caller's transaction, so concurrent appends queue instead of forking:

- PostgreSQL: a transaction-level advisory lock on the chain
  (``pg_advisory_xact_lock(class, key)``, the two-int4 key space, which the
  PostgreSQL manual says does not overlap the one-int8 space another lock may
  use). The head is read after the lock is granted; under READ COMMITTED (the
  default) that read sees every append committed before. A caller running at
  REPEATABLE READ with an older snapshot would read a stale head and fail on
  the unique keys below: refused, never forked.
- SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (govbot.store.db),
  so the appending transaction is the only writer from its first statement.

Take the chain lock last (after any per-review lock) and append in the
transaction that stores the vote result: the record then never disagrees
with what was shown. The unique keys (chain, seq) and (chain, prev) make a
fork impossible even for code that skips the lock.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, func, select, text

from govbot.core import decisions as core
from govbot.core.decisions import Decision, Entry
from govbot.store.tables import decisions

LOCK_CLASS = 0x60B0D5  # govbot's decision chains, in PostgreSQL's (int4, int4) advisory key space


def _lock(conn: Connection, chain: str) -> None:
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(chain.encode()).digest()[:4], "big", signed=True)
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": LOCK_CLASS, "key": key}
        )
    # SQLite: BEGIN IMMEDIATE made this transaction the only writer already


def _entry(row: Any) -> Entry:
    return Entry(row.seq, row.prev, row.hash, json.loads(row.record))


def head(conn: Connection, chain: str) -> Entry | None:
    """The last entry of ``chain`` ("forge:repo"), or None while it is empty."""
    row = conn.execute(
        select(decisions)
        .where(decisions.c.chain == chain)
        .order_by(decisions.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else _entry(row)


def latest(conn: Connection, review_key: str) -> Entry | None:
    """The last recorded decision on one review."""
    row = conn.execute(
        select(decisions)
        .where(decisions.c.review_key == review_key)
        .order_by(decisions.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else _entry(row)


def _append_locked(conn: Connection, decision: Decision) -> Entry:
    entry = core.next_entry(head(conn, decision.chain), decision)
    conn.execute(
        decisions.insert().values(
            chain=decision.chain,
            seq=entry.seq,
            prev=entry.prev,
            hash=entry.hash,
            review_key=decision.review_key,
            decided_at=decision.decided_at,
            record=core.canonical(entry.record).decode("ascii"),
        )
    )
    return entry


def append(conn: Connection, decision: Decision) -> Entry:
    """Append ``decision`` to its repository's chain; the entry, as stored."""
    _lock(conn, decision.chain)
    return _append_locked(conn, decision)


def append_if_changed(conn: Connection, decision: Decision) -> Entry | None:
    """Append ``decision`` unless the review's last entry says the same (but for its time).

    What a tally calls: a re-tally that changes nothing adds nothing, so the
    chain grows with decisions, not with clock ticks. None when nothing was
    appended.
    """
    _lock(conn, decision.chain)
    last = latest(conn, decision.review_key)
    if last is not None and core.same_decision(last.record, decision):
        return None
    return _append_locked(conn, decision)


def entries(
    conn: Connection,
    chain: str | None = None,
    review_key: str | None = None,
    upto: int | None = None,
) -> list[Entry]:
    """Entries by chain and seq: of one chain, of one review, up to seq ``upto`` (inclusive)."""
    query = select(decisions).order_by(decisions.c.chain, decisions.c.seq)
    if chain is not None:
        query = query.where(decisions.c.chain == chain)
    if review_key is not None:
        query = query.where(decisions.c.review_key == review_key)
    if upto is not None:
        query = query.where(decisions.c.seq <= upto)
    return [_entry(r) for r in conn.execute(query)]


def chains(conn: Connection) -> list[str]:
    return list(
        conn.execute(select(decisions.c.chain).distinct().order_by(decisions.c.chain)).scalars()
    )


def release_slice(conn: Connection, review_key: str, upto: int | None = None) -> list[Entry]:
    """What a release exports: its chain from the review's first decision to its last.

    Contiguous, so every link inside can be checked offline; other reviews'
    decisions of the same repository in between come along (they are the
    links). ``upto``: end at the review's last decision at or before that
    seq. Empty when the review has no decision recorded (by then).
    """
    query = select(decisions.c.chain, func.min(decisions.c.seq), func.max(decisions.c.seq))
    query = query.where(decisions.c.review_key == review_key)
    if upto is not None:
        query = query.where(decisions.c.seq <= upto)
    bounds = conn.execute(query.group_by(decisions.c.chain)).all()
    if not bounds:
        return []
    [(chain, first, last)] = bounds  # a review key names its repository: one chain
    query = (
        select(decisions)
        .where(decisions.c.chain == chain, decisions.c.seq.between(first, last))
        .order_by(decisions.c.seq)
    )
    return [_entry(r) for r in conn.execute(query)]


def verify(conn: Connection, chain: str | None = None) -> list[str]:
    """Every chain (or one) checked whole, from entry 1; problems prefixed with the chain."""
    problems = []
    for name in [chain] if chain else chains(conn):
        found = entries(conn, chain=name)
        problems += [f"{name}: {p}" for p in core.verify_chain(found, complete=True)]
    return problems
