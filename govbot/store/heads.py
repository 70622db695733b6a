"""Each review's head history: which revision it pointed at from when, and its content.

Votes are bound to revisions: a comment vote to the head at the comment's
own time, which needs the history, not just the latest head (a push
processed before an older comment must not capture the vote). A vote goes
stale when the governed content changes, so each head keeps the hash of its
governed files: two commits with the same content are the same for a vote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from govbot.store.tables import from_row, insert, review_heads


@dataclass(frozen=True)
class Head:
    head_sha: str
    content_key: str
    vote_class: str | None
    seen_at: datetime


def record(
    conn: Connection,
    review_key: str,
    head_sha: str,
    content_key: str,
    vote_class: str | None,
    seen_at: datetime,
) -> None:
    """The first sighting of a head wins: a redelivered push keeps the original time."""
    conn.execute(
        insert(conn.dialect.name, review_heads)
        .values(
            review_key=review_key,
            head_sha=head_sha,
            content_key=content_key,
            vote_class=vote_class,
            seen_at=seen_at,
        )
        .on_conflict_do_nothing(index_elements=["review_key", "head_sha"])
    )


def history(conn: Connection, review_key: str) -> list[Head]:
    """A review's heads in the order they were seen."""
    rows = conn.execute(
        select(review_heads)
        .where(review_heads.c.review_key == review_key)
        .order_by(review_heads.c.seen_at, review_heads.c.id)
    )
    return [from_row(Head, r) for r in rows]


def head_at(heads: list[Head], at: datetime) -> str | None:
    """The revision a review pointed at, at ``at`` (None: before its first known head)."""
    current = None
    for h in heads:
        if h.seen_at > at:
            break
        current = h.head_sha
    return current
