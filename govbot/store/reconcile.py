"""Reconciliation marks: how far a forge's repository (or Gerrit project) was read.

``watermark`` is the forge's own time of the newest change a sweep read
(never govbot's clock: the two may disagree); ``etags`` are the validators of
the listings last read, sent back as ``If-None-Match`` so an unchanged
listing costs a 304; ``swept_at`` is govbot's time of the last complete sweep
(what the reconciliation-lag metric measures from).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from govbot.store.tables import aware, reviews, upsert
from govbot.store.tables import reconcile_marks as T


@dataclass
class Mark:
    forge: str
    scope: str
    watermark: datetime | None = None
    etags: dict[str, str] = field(default_factory=dict)
    swept_at: datetime | None = None


def get(conn: Connection, forge: str, scope: str) -> Mark:
    """The mark of ``scope`` on ``forge``; an empty one when it was never swept."""
    row = conn.execute(select(T).where(T.c.forge == forge, T.c.scope == scope)).first()
    if row is None:
        return Mark(forge, scope)
    etags = json.loads(row.etags or "{}")
    return Mark(
        forge,
        scope,
        aware(row.watermark) if row.watermark is not None else None,
        {str(k): str(v) for k, v in etags.items()} if isinstance(etags, dict) else {},
        aware(row.swept_at) if row.swept_at is not None else None,
    )


def save(conn: Connection, mark: Mark) -> None:
    upsert(
        conn,
        T,
        {
            "forge": mark.forge,
            "scope": mark.scope,
            "watermark": mark.watermark,
            "etags": json.dumps(mark.etags, sort_keys=True),
            "swept_at": mark.swept_at,
        },
        ["forge", "scope"],
    )


def all_marks(conn: Connection) -> list[Mark]:
    rows = conn.execute(select(T.c.forge, T.c.scope).order_by(T.c.forge, T.c.scope)).all()
    return [get(conn, r.forge, r.scope) for r in rows]


def known_scopes(conn: Connection, forge: str) -> list[str]:
    """The repositories (projects) of ``forge`` govbot has reviews of."""
    rows = conn.execute(
        select(reviews.c.repo).where(reviews.c.forge == forge).distinct().order_by(reviews.c.repo)
    ).all()
    return [r.repo for r in rows]
