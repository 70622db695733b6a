"""The clock's acts: each is claimed once by its key, whatever process runs the clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from govbot.store.tables import clock_events, insert


def claim(
    engine: Engine, key: str, kind: str, subject: str, due_at: datetime, now: datetime, by: str
) -> bool:
    """True for exactly one caller per key, across processes and machines."""
    stmt = (
        insert(engine.dialect.name, clock_events)
        .values(key=key, kind=kind, subject=subject[:300], due_at=due_at, done_at=now, done_by=by)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(clock_events.c.id)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).first() is not None
