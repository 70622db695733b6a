"""The outcome of govbot's check on each revision of a review."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, desc, select

from govbot.store.tables import check_results, from_row, upsert


@dataclass(frozen=True)
class CheckRecord:
    review_key: str
    head_sha: str
    base_sha: str | None
    conclusion: str  # success | failure | neutral
    errors: int
    warnings: int
    summary: str
    findings_json: str
    created_at: datetime
    vote_class: str | None = None  # which voting rule applies to this revision


def record(conn: Connection, check: CheckRecord) -> None:
    """One row per (review, revision): a re-run of the same revision replaces it."""
    upsert(conn, check_results, asdict(check), ["review_key", "head_sha"])


def latest(conn: Connection, review_key: str) -> CheckRecord | None:
    """The newest check of a review (None: never checked)."""
    row = conn.execute(
        select(check_results)
        .where(check_results.c.review_key == review_key)
        .order_by(desc(check_results.c.created_at))
        .limit(1)
    ).first()
    return None if row is None else from_row(CheckRecord, row)


def latest_base(conn: Connection, review_key: str) -> str | None:
    """The base the newest check of a review was made against (None: never checked)."""
    return conn.execute(
        select(check_results.c.base_sha)
        .where(check_results.c.review_key == review_key)
        .order_by(desc(check_results.c.created_at))
        .limit(1)
    ).scalar()


def base_of(conn: Connection, review_key: str, head_sha: str) -> str | None:
    """The base ``head_sha`` was checked against (its newest check; None: never checked)."""
    return conn.execute(
        select(check_results.c.base_sha)
        .where(check_results.c.review_key == review_key, check_results.c.head_sha == head_sha)
        .order_by(desc(check_results.c.created_at))
        .limit(1)
    ).scalar()


def vote_class_of(conn: Connection, review_key: str, head_sha: str | None) -> str | None:
    """The vote class the check gave ``head_sha`` (or the newest revision when None)."""
    query = select(check_results.c.vote_class).where(check_results.c.review_key == review_key)
    if head_sha:
        query = query.where(check_results.c.head_sha == head_sha)
    return conn.execute(query.order_by(desc(check_results.c.created_at)).limit(1)).scalar()
