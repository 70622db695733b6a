"""Ballots: every vote, withdrawal, hold and unhold cast on a review (append-only)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from govbot.core.votes import Ballot
from govbot.store.tables import aware, ballots, insert


def for_review(conn: Connection, review_key: str) -> list[Ballot]:
    """A review's ballots in the order they were cast."""
    rows = conn.execute(
        select(ballots)
        .where(ballots.c.review_key == review_key)
        .order_by(ballots.c.at, ballots.c.id)
    ).all()
    return [
        Ballot(
            r.forge,
            r.account,
            r.kind,
            r.value,
            aware(r.at),
            r.head_sha,
            r.source,
            r.login,
            r.source_id,
        )
        for r in rows
    ]


def add(conn: Connection, review_key: str, b: Ballot) -> None:
    """Store a ballot once: a retried event's ballots are already there."""
    values = {
        "review_key": review_key,
        "forge": b.forge,
        "account": b.account,
        "kind": b.kind,
        "value": b.value,
        "source": b.source,
        "head_sha": b.head_sha,
        "at": b.at,
        "login": b.login,
        "source_id": b.source_id,
    }
    conn.execute(
        insert(conn.dialect.name, ballots)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["review_key", "forge", "account", "kind", "source", "source_id", "at"]
        )
    )
