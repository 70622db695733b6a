"""Reviews (pull requests, Gerrit changes) as govbot last saw them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy import update as sql_update

from govbot.core.events import ReviewRef
from govbot.store.tables import from_row, insert, reviews


@dataclass(frozen=True)
class ReviewState:
    """One review's row: where it points and since when it is open."""

    key: str
    forge: str
    repo: str
    number: str
    base_ref: str | None
    head_sha: str | None
    state: str  # open | merged | abandoned
    title: str
    url: str
    updated_at: datetime
    opened_at: datetime | None  # when govbot first received the review
    governed_branch: str | None
    policy_sha: str | None  # the governed branch's commit whose policies judge the vote
    period_start: datetime | None  # the minimum review time runs from here
    draft: bool
    tally_seq: int
    tallied_seq: int

    @property
    def ref(self) -> ReviewRef:
        return ReviewRef(self.forge, self.repo, self.number)


@dataclass(frozen=True)
class ReviewUpdate:
    """What an event says about a review; a field left None is left as it is.

    ``updated_at`` orders updates: an older event processed late never rolls
    the row back. ``opened_at``, ``governed_branch`` and ``policy_sha`` are
    written once: the review's first sighting pins them, later ones keep them.
    """

    ref: ReviewRef
    updated_at: datetime
    state: str | None = None
    base_ref: str | None = None
    head_sha: str | None = None
    title: str | None = None
    url: str | None = None
    opened_at: datetime | None = None
    governed_branch: str | None = None
    policy_sha: str | None = None
    period_start: datetime | None = None
    draft: bool | None = None


WRITE_ONCE = ("opened_at", "governed_branch", "policy_sha")


def get(conn: Connection, key: str) -> ReviewState | None:
    row = conn.execute(select(reviews).where(reviews.c.key == key)).first()
    return None if row is None else from_row(ReviewState, row)


def update(conn: Connection, change: ReviewUpdate) -> None:
    given = {k: v for k, v in asdict(change).items() if v is not None and k != "ref"}
    values: dict[str, Any] = {
        "key": change.ref.key,
        "forge": change.ref.forge,
        "repo": change.ref.repo,
        "number": change.ref.number,
        **given,
    }
    stmt = insert(conn.dialect.name, reviews).values(
        **{"state": "open", "title": "", "url": "", **values}
    )
    set_: dict[str, Any] = {k: stmt.excluded[k] for k in values if k != "key"}
    for column in WRITE_ONCE:
        if column in values:
            set_[column] = func.coalesce(reviews.c[column], stmt.excluded[column])
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_=set_,
            where=reviews.c.updated_at <= stmt.excluded.updated_at,
        )
    )


def want_tally(conn: Connection, key: str) -> None:
    """Ask for a tally: the review changed (a ballot, a revision) since the last one."""
    conn.execute(
        sql_update(reviews).where(reviews.c.key == key).values(tally_seq=reviews.c.tally_seq + 1)
    )


def tallied(conn: Connection, key: str, seq: int) -> None:
    """The tally that read request ``seq`` is done; a later request stays open."""
    conn.execute(
        sql_update(reviews)
        .where(reviews.c.key == key, reviews.c.tallied_seq < seq)
        .values(tallied_seq=seq)
    )


def wanting_tally(conn: Connection) -> list[tuple[str, str]]:
    """(key, forge) of open reviews with a tally asked for and not done (a crash between)."""
    rows = conn.execute(
        select(reviews.c.key, reviews.c.forge).where(
            reviews.c.state == "open", reviews.c.tally_seq > reviews.c.tallied_seq
        )
    )
    return [(r.key, r.forge) for r in rows]


def open_keys(conn: Connection) -> list[tuple[str, str]]:
    """(key, forge) of every open review: the clock tallies them all again."""
    rows = conn.execute(
        select(reviews.c.key, reviews.c.forge)
        .where(reviews.c.state == "open")
        .order_by(reviews.c.id)
    )
    return [(r.key, r.forge) for r in rows]


def open_reviews(conn: Connection) -> list[ReviewState]:
    """Every open review, oldest first: the committee dashboard's rows (read only)."""
    rows = conn.execute(select(reviews).where(reviews.c.state == "open").order_by(reviews.c.id))
    return [from_row(ReviewState, r) for r in rows]
