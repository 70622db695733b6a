"""What govbot posted to a forge, or would have posted in dry-run mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, desc, select

from govbot.store.tables import from_row, reports, upsert


@dataclass(frozen=True)
class Report:
    kind: str  # check | vote | comment | tag | release | change
    review_key: str
    head_sha: str
    forge: str
    dry_run: bool
    title: str
    body: str
    external_id: str | None
    posted_at: datetime


def record(conn: Connection, report: Report) -> None:
    """One row per (review, kind, revision): posting again updates it, as the forge does."""
    values = {
        "review_key": report.review_key,
        "kind": report.kind,
        "head_sha": report.head_sha,
        "forge": report.forge,
        "dry_run": report.dry_run,
        "title": report.title[:300],
        "body": report.body,
        "external_id": report.external_id,
        "posted_at": report.posted_at,
    }
    upsert(conn, reports, values, ["review_key", "kind", "head_sha"])


def recent(conn: Connection, review_key: str | None = None, limit: int = 50) -> list[Report]:
    """The newest reports first, optionally of one review."""
    query = select(reports).order_by(desc(reports.c.posted_at)).limit(limit)
    if review_key:
        query = query.where(reports.c.review_key == review_key)
    return [from_row(Report, r) for r in conn.execute(query)]
