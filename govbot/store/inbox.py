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
* ``fail`` retries with exponential backoff (with jitter), then parks the
  delivery with its error for operators; a poison delivery never blocks the
  others. An attempt is counted when a delivery is claimed, so a delivery
  whose worker dies every time (a crash loop) is parked by the claim after
  ``max_attempts``, not re-claimed forever.
* A delivery is also unique on its event's identity (``event_key``, set by the
  receiver): the same event under a new delivery id (a replayed body) is a
  duplicate too.
* ``hold_forge`` records a forge's rate limit for every worker (``forge_limits``):
  until it ends, no delivery from that forge is claimed, so no worker sends it
  a request, and none sleeps waiting.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, and_, case, desc, func, or_, select, update

from govbot import metrics
from govbot.store.models import utcnow
from govbot.store.tables import aware, insert
from govbot.store.tables import deliveries as T
from govbot.store.tables import forge_limits as L

log = logging.getLogger("govbot.inbox")

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


# (source, delivery id, event, action, body), optionally + the event's identity (event_key)
Item = tuple[str, str, str, str | None, bytes] | tuple[str, str, str, str | None, bytes, str | None]


def record(
    conn: Connection,
    source: str,
    delivery_id: str,
    event: str,
    action: str | None,
    body: bytes,
    event_key: str | None = None,
) -> bool:
    """Store a delivery; False when it was already stored (a redelivery or a replay)."""
    return record_many(conn, [(source, delivery_id, event, action, body, event_key)])[0]


BATCH_ROWS = 256  # rows per statement: well under SQLite's and PostgreSQL's parameter limits
_INSERTED = ("source", "delivery_id", "event", "action", "body", "event_key",
             "received_at", "available_at")  # fmt: skip


@cache
def insert_sql(paramstyle: str, rows: int, returning: bool = True) -> str:
    """``rows`` deliveries in one INSERT that skips a row colliding on either unique
    key (the delivery id, or the event's identity), on PostgreSQL and SQLite alike;
    with ``returning``, it names the rows it stored."""
    mark = "?" if paramstyle == "qmark" else "%s"
    row = f"({', '.join([mark] * len(_INSERTED))}, 'queued', 0)"
    sql = (
        f"INSERT INTO {T.name} ({', '.join(_INSERTED)}, status, attempts) "
        f"VALUES {', '.join([row] * rows)} ON CONFLICT DO NOTHING"
    )
    return sql + " RETURNING source, delivery_id" if returning else sql


def bound_time(dialect: Dialect, at: datetime) -> Any:
    """``at`` as the statement's parameter, the way the column's type binds it on
    ``dialect``: its dialect implementation's, as Core binds it (on SQLite, text
    without the zone, which is what every comparison in this module expects)."""
    time_type = T.c.received_at.type.dialect_impl(dialect)
    bind = time_type.bind_processor(dialect)
    return at if bind is None else bind(at)


def insert_params(items: Sequence[Item], at: Any) -> tuple[Any, ...]:
    """The parameters of :func:`insert_sql` for ``items``, all received ``at`` (bound)."""
    params: list[Any] = []
    for i in items:
        params += (i[0], i[1], i[2], i[3], i[4], i[5] if len(i) > 5 else None, at, at)
    return tuple(params)


def which_new(items: Sequence[Item], stored: set[tuple[str, str]]) -> list[bool]:
    """For each item, whether it is one of the rows ``stored`` (by source and delivery
    id): an item repeated in the batch is new only the first time. Consumes ``stored``."""
    out = []
    for source, delivery_id, *_ in items:
        key = (source, delivery_id)
        out.append(key in stored)
        stored.discard(key)
    return out


def record_many(conn: Connection, items: Sequence[Item], now: datetime | None = None) -> list[bool]:
    """Store a batch within the caller's transaction; for each item, whether it was new.

    The statement is SQL text cached per batch size, not a Core construct:
    compiling and processing a Core INSERT per batch cost more than the rows.
    Every row shares one timestamp, bound the way the column's type binds it
    (SQLite keeps datetimes as text). An item repeated within the batch (same
    delivery id, or same event key) is new only the first time. The receiver
    writes its batches with ``inbox_batches``, the same statement in autocommit.
    """
    if not items:
        return []
    dialect = conn.dialect
    at = bound_time(dialect, now or utcnow())
    stored: set[tuple[str, str]] = set()
    for start in range(0, len(items), BATCH_ROWS):
        chunk = items[start : start + BATCH_ROWS]
        sql = insert_sql(dialect.paramstyle, len(chunk))
        stored.update((r[0], r[1]) for r in conn.exec_driver_sql(sql, insert_params(chunk, at)))
    return which_new(items, stored)


def _claimable(now: datetime) -> Any:
    return and_(
        or_(
            and_(T.c.status == "queued", T.c.available_at <= now),
            and_(T.c.status == "processing", T.c.locked_until < now),
        ),
        # a forge under a rate limit gets no request: its deliveries wait, holding no worker
        T.c.source.not_in(select(L.c.forge).where(L.c.until > now)),
    )


CRASH_LOOP = "parked at claim: its worker never finished it ({attempts} attempts)"


def claim(
    engine: Engine,
    worker: str,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
) -> Claimed | None:
    """The next delivery due, under a lease for ``worker``; None when none is due.

    The attempt is counted here, before any work: a delivery that has already
    been claimed ``max_attempts`` times and never finished (its worker dies
    on it, every time) is parked by this claim instead of handed out again.
    """
    now = now or utcnow()
    candidate = select(T.c.id).where(_claimable(now)).order_by(T.c.id).limit(1)
    if engine.dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    spent = T.c.attempts >= max_attempts
    stmt = (
        update(T)
        .where(T.c.id == candidate.scalar_subquery())
        .values(
            status=case((spent, "parked"), else_="processing"),
            locked_by=worker,
            locked_until=case((spent, None), else_=now + lease),
            attempts=case((spent, T.c.attempts), else_=T.c.attempts + 1),
            last_error=case(
                (
                    spent,
                    func.coalesce(T.c.last_error, "")
                    + "; "
                    + CRASH_LOOP.format(attempts=max_attempts),
                ),
                else_=T.c.last_error,
            ),
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
            T.c.status,
        )
    )
    while True:
        with engine.begin() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        if row.status == "processing":
            break
        # parked: a crash loop ends here, and the next delivery is claimed instead
        metrics.DELIVERIES_PARKED.inc()
        log.error("delivery %s parked: %s", row.id, CRASH_LOOP.format(attempts=max_attempts))
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


def backoff(
    attempts: int,
    base: float = 2.0,
    cap: float = 3600.0,
    rand: Callable[[], float] = random.random,
) -> timedelta:
    """Exponential backoff with jitter: between half and all of ``base ** attempts``
    (at most ``cap``), so deliveries that failed together do not come back together."""
    ceiling = min(cap, base ** max(0, attempts))
    return timedelta(seconds=ceiling * (0.5 + rand() / 2))


def fail(
    engine: Engine,
    claimed: Claimed,
    error: str,
    max_attempts: int = MAX_ATTEMPTS,
    retry_after: float | None = None,
    counted: bool = True,
    now: datetime | None = None,
) -> str:
    """Schedule a retry, or park the delivery; returns the new status.

    ``counted=False`` (a rate limit: the forge asked to wait, the delivery did
    not fail) gives back the attempt its claim counted and never parks.
    """
    parked = counted and claimed.attempts >= max_attempts
    wait = timedelta(seconds=retry_after) if retry_after is not None else backoff(claimed.attempts)
    values: dict[str, Any] = {
        "status": "parked" if parked else "queued",
        "available_at": (now or utcnow()) + wait,
        "locked_until": None,
        "last_error": error[:4000],
    }
    if not counted:
        values["attempts"] = T.c.attempts - 1
    with engine.begin() as conn:
        conn.execute(
            update(T).where(T.c.id == claimed.id, T.c.locked_by == claimed.worker).values(**values)
        )
    return "parked" if parked else "queued"


def hold_forge(engine: Engine, forge: str, key: str, until: datetime) -> None:
    """Record that ``forge`` (for the installation or token ``key``) takes no request
    before ``until``; a later limit extends it, an earlier one never shortens it."""
    with engine.begin() as conn:
        stmt = insert(conn.dialect.name, L).values(forge=forge, key=key[:200], until=until)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["forge", "key"],
                set_={"until": case((L.c.until < stmt.excluded.until, stmt.excluded.until),
                                    else_=L.c.until)},
            )
        )  # fmt: skip


def forge_holds(engine: Engine, now: datetime | None = None) -> dict[str, datetime]:
    """The forges under a rate limit now, and until when."""
    now = now or utcnow()
    with engine.connect() as conn:
        rows = conn.execute(
            select(L.c.forge, func.max(L.c.until)).where(L.c.until > now).group_by(L.c.forge)
        ).all()
    return {forge: aware(until) for forge, until in rows}


def requeue(engine: Engine, delivery_ids: Sequence[int]) -> int:
    """An operator's retry of parked deliveries."""
    with engine.begin() as conn:
        result = conn.execute(
            update(T)
            .where(T.c.id.in_(list(delivery_ids)), T.c.status == "parked")
            .values(status="queued", available_at=utcnow(), attempts=0)
        )
    return int(result.rowcount)


def requeue_parked(engine: Engine) -> int:
    """An operator's retry of every parked delivery (``govbot requeue --parked``)."""
    with engine.begin() as conn:
        result = conn.execute(
            update(T)
            .where(T.c.status == "parked")
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
