"""The inbox: a durable queue of deliveries in the database govbot already has.

* ``record`` stores a delivery once (unique on source + delivery id), so a
  redelivery is recognised and has no second effect; a delivery may also name
  the forge object it reports (``event_key``, unique per source), so the same
  comment or review reached by reconciliation and by a late webhook (two
  delivery ids) is stored once.
* ``claim`` hands a delivery to one worker under a lease. On PostgreSQL the
  candidate row is locked ``FOR UPDATE SKIP LOCKED``, so concurrent workers
  never take the same delivery and never wait on each other; on SQLite the
  ``BEGIN IMMEDIATE`` transaction serialises claimers. A worker that dies
  leaves its lease to expire, and the delivery is claimed again.
* ``finish`` is fenced by the lease: a worker whose lease was taken over
  cannot mark the delivery done, so its transaction (with the results) rolls
  back instead of committing a second, stale outcome.
* ``fail`` retries with exponential backoff, then parks the delivery with its
  error for operators; a poison delivery never blocks the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, and_, desc, func, or_, select, update

from govbot.store.models import utcnow
from govbot.store.tables import aware, insert
from govbot.store.tables import deliveries as T

DEFAULT_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


class LeaseLost(Exception):
    """The worker's lease expired and another worker took the delivery over."""


@dataclass(frozen=True)
class Claimed:
    id: int
    source: str
    delivery_id: str
    event: str
    action: str | None
    body: bytes
    attempts: int
    worker: str
    received_at: datetime | None = None  # govbot's time for the delivery: when it was stored


def record(
    conn: Connection, source: str, delivery_id: str, event: str, action: str | None, body: bytes
) -> bool:
    """Store a delivery; False when it was already stored (a redelivery)."""
    return record_many(conn, [(source, delivery_id, event, action, body)])[0]


@cache
def _insert_statement(dialect_name: str) -> Any:
    return (
        insert(dialect_name, T)
        # no conflict target: either unique key (delivery id, event key) makes a duplicate
        .on_conflict_do_nothing()
        .returning(T.c.source, T.c.delivery_id)
    )


Item = tuple[str, str, str, str | None, bytes] | tuple[str, str, str, str | None, bytes, str | None]
"""(source, delivery id, event, action, body[, event key])"""


def record_many(
    conn: Connection,
    items: Sequence[Item],
    now: datetime | None = None,
) -> list[bool]:
    """Store a batch in one statement; for each item, whether it was new.

    The receiver's writer commits whatever arrived while the last commit ran:
    one multi-row INSERT costs about what one row costs. An item repeated
    within the batch is new only the first time. An item whose event key
    (its optional sixth element) is already stored for its source is a
    duplicate too, whatever its delivery id.
    """
    if not items:
        return []
    now = now or utcnow()
    rows = [
        {"source": i[0], "delivery_id": i[1], "event": i[2], "action": i[3], "body": i[4],
         "event_key": i[5] if len(i) > 5 else None, "received_at": now,
         "status": "queued", "attempts": 0, "available_at": now}
        for i in items
    ]  # fmt: skip
    # One statement whatever the batch holds, executed with many parameter sets:
    # SQLAlchemy compiles it once (insertmanyvalues batches the rows itself),
    # where .values(rows) compiled a new statement of every batch's size.
    stored = {
        (r.source, r.delivery_id) for r in conn.execute(_insert_statement(conn.dialect.name), rows)
    }
    out = []
    for source, delivery_id, *_ in items:
        key = (source, delivery_id)
        out.append(key in stored)
        stored.discard(key)
    return out


def _claimable(now: datetime) -> Any:
    return or_(
        and_(T.c.status == "queued", T.c.available_at <= now),
        and_(T.c.status == "processing", T.c.locked_until < now),
    )


def claim(engine: Engine, worker: str, lease: timedelta = DEFAULT_LEASE) -> Claimed | None:
    now = utcnow()
    candidate = select(T.c.id).where(_claimable(now)).order_by(T.c.id).limit(1)
    if engine.dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    stmt = (
        update(T)
        .where(T.c.id == candidate.scalar_subquery())
        .values(
            status="processing",
            locked_by=worker,
            locked_until=now + lease,
            attempts=T.c.attempts + 1,
        )
        .returning(
            T.c.id,
            T.c.source,
            T.c.delivery_id,
            T.c.event,
            T.c.action,
            T.c.body,
            T.c.attempts,
            T.c.received_at,
        )
    )
    with engine.begin() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return Claimed(
        row.id,
        row.source,
        row.delivery_id,
        row.event,
        row.action,
        bytes(row.body),
        row.attempts,
        worker,
        aware(row.received_at),
    )


def finish(
    conn: Connection, claimed: Claimed, status: str = "done", note: str | None = None
) -> None:
    """Mark done (or 'ignored') inside the caller's transaction, fenced by the lease."""
    result = conn.execute(
        update(T)
        .where(T.c.id == claimed.id, T.c.locked_by == claimed.worker, T.c.status == "processing")
        .values(status=status, finished_at=utcnow(), locked_until=None, last_error=note)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"delivery {claimed.id}: lease lost by {claimed.worker}")


def backoff(attempts: int, base: float = 2.0, cap: float = 3600.0) -> timedelta:
    return timedelta(seconds=min(cap, base ** max(0, attempts)))


def fail(
    engine: Engine,
    claimed: Claimed,
    error: str,
    max_attempts: int = MAX_ATTEMPTS,
    retry_after: float | None = None,
) -> str:
    """Schedule a retry, or park the delivery; returns the new status."""
    parked = claimed.attempts >= max_attempts
    wait = timedelta(seconds=retry_after) if retry_after is not None else backoff(claimed.attempts)
    with engine.begin() as conn:
        conn.execute(
            update(T)
            .where(T.c.id == claimed.id, T.c.locked_by == claimed.worker)
            .values(
                status="parked" if parked else "queued",
                available_at=utcnow() + wait,
                locked_until=None,
                last_error=error[:4000],
            )
        )
    return "parked" if parked else "queued"


def requeue(engine: Engine, delivery_ids: Sequence[int]) -> int:
    """An operator's retry of parked deliveries."""
    with engine.begin() as conn:
        result = conn.execute(
            update(T)
            .where(T.c.id.in_(list(delivery_ids)), T.c.status == "parked")
            .values(status="queued", available_at=utcnow(), attempts=0)
        )
    return int(result.rowcount)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(T.c.status, func.count()).group_by(T.c.status)).all()
    return {status: int(n) for status, n in rows}


def recent(engine: Engine, status: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest deliveries (without their bodies), for operators."""
    query = select(
        T.c.id,
        T.c.source,
        T.c.event,
        T.c.action,
        T.c.status,
        T.c.attempts,
        T.c.last_error,
        T.c.received_at,
    )
    if status:
        query = query.where(T.c.status == status)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(desc(T.c.id)).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def oldest_queued(engine: Engine) -> datetime | None:
    """When the oldest delivery still waiting for a worker was received (None: none waits)."""
    with engine.connect() as conn:
        value = conn.execute(
            select(func.min(T.c.received_at)).where(T.c.status == "queued")
        ).scalar()
    return aware(value) if value is not None else None
