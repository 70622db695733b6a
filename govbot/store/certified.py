"""Products that entered the registry through a review govbot judged (append-only).

The registry itself is the governed branch's products tree (data in Git);
this table remembers what Git cannot say: which review brought each product
in (where its expiry reminders are posted), when, and how the Foundation's
vote stood when it merged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, select

from govbot.store.tables import certifications, from_row, insert, reviews, vote_results


@dataclass(frozen=True)
class Certification:
    forge: str
    repo: str
    product: str
    review_key: str
    governed_branch: str
    merge_sha: str
    approved_at: datetime
    vote_state: str


def record(conn: Connection, entry: Certification) -> None:
    """Once per product and merge: a redelivered merge event records nothing new."""
    stmt = insert(conn.dialect.name, certifications).values(**asdict(entry))
    conn.execute(
        stmt.on_conflict_do_nothing(index_elements=["forge", "repo", "product", "merge_sha"])
    )


def latest(conn: Connection) -> list[Certification]:
    """Each product's newest merge, per forge and repository (what reminders are sent to)."""
    rows = conn.execute(
        select(certifications).order_by(certifications.c.approved_at, certifications.c.id)
    )
    newest: dict[tuple[str, str, str], Certification] = {}
    for row in rows:
        entry = from_row(Certification, row)
        newest[(entry.forge, entry.repo, entry.product)] = entry
    return list(newest.values())


@dataclass(frozen=True)
class OpenSubmission:
    """An open product submission the Foundation has not decided yet (2017A C2.3)."""

    review_key: str
    forge: str
    repo: str
    period_start: datetime
    policy_sha: str


def open_submissions(conn: Connection, vote_class: str) -> list[OpenSubmission]:
    """Open reviews of ``vote_class`` whose vote is pending or held, out of draft, pinned."""
    query = (
        select(
            reviews.c.key.label("review_key"),
            reviews.c.forge,
            reviews.c.repo,
            reviews.c.period_start,
            reviews.c.policy_sha,
        )
        .join(vote_results, vote_results.c.review_key == reviews.c.key)
        .where(
            and_(
                reviews.c.state == "open",
                reviews.c.period_start.is_not(None),
                reviews.c.policy_sha.is_not(None),
                vote_results.c.vote_class == vote_class,
                vote_results.c.state.in_(["pending", "held"]),
            )
        )
        .order_by(reviews.c.key)
    )
    return [from_row(OpenSubmission, r) for r in conn.execute(query)]
