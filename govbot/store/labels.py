"""The labels govbot wants on each review: its verdict, which it puts back when edited."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, select

from govbot.store.tables import review_labels, upsert


def record(
    conn: Connection, review_key: str, head_sha: str, labels: tuple[str, ...], at: datetime
) -> None:
    values = {
        "review_key": review_key,
        "head_sha": head_sha,
        "labels": json.dumps(sorted(labels)),
        "updated_at": at,
    }
    upsert(conn, review_labels, values, ["review_key"])


def wanted(conn: Connection, review_key: str) -> frozenset[str] | None:
    """The labels govbot set on the review last; None if it never managed any there."""
    raw = conn.execute(
        select(review_labels.c.labels).where(review_labels.c.review_key == review_key)
    ).scalar()
    return None if raw is None else frozenset(json.loads(raw))
