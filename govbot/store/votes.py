"""The latest tally of each review: what its vote check shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, select

from govbot.store.tables import from_row, reviews, upsert, vote_results


@dataclass(frozen=True)
class VoteResult:
    review_key: str
    head_sha: str | None
    vote_class: str
    state: str  # pending | passed | failed | blocked | held
    earliest_decision: datetime | None
    summary: str
    computed_at: datetime
    policy_sha: str | None = None


@dataclass(frozen=True)
class Undecided:
    """An open review whose vote is still pending or held, and when it can be decided."""

    review_key: str
    forge: str
    state: str
    earliest_decision: datetime | None


def record(conn: Connection, result: VoteResult) -> None:
    upsert(conn, vote_results, asdict(result), ["review_key"])


def get(conn: Connection, review_key: str) -> VoteResult | None:
    row = conn.execute(select(vote_results).where(vote_results.c.review_key == review_key)).first()
    return None if row is None else from_row(VoteResult, row)


def undecided(conn: Connection) -> list[Undecided]:
    """Pending and held votes of open reviews: what the clock watches."""
    query = (
        select(
            vote_results.c.review_key,
            reviews.c.forge,
            vote_results.c.state,
            vote_results.c.earliest_decision,
        )
        .join(reviews, reviews.c.key == vote_results.c.review_key)
        .where(and_(vote_results.c.state.in_(["pending", "held"]), reviews.c.state == "open"))
    )
    return [from_row(Undecided, r) for r in conn.execute(query)]
