"""Reviews (pull requests, Gerrit changes) as govbot last saw them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

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
    opened_at: datetime | None  # starts the minimum review time

    @property
    def ref(self) -> ReviewRef:
        return ReviewRef(self.forge, self.repo, self.number)


@dataclass(frozen=True)
class ReviewUpdate:
    """What an event says about a review; a field left None is left as it is.

    ``updated_at`` orders updates: an older event processed late never rolls
    the row back. ``opened_at`` is written once: the first proposal starts
    the review clock and later ones keep it.
    """

    ref: ReviewRef
    updated_at: datetime
    state: str | None = None
    base_ref: str | None = None
    head_sha: str | None = None
    title: str | None = None
    url: str | None = None
    opened_at: datetime | None = None


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
    if "opened_at" in values:
        set_["opened_at"] = func.coalesce(reviews.c.opened_at, stmt.excluded.opened_at)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_=set_,
            where=reviews.c.updated_at <= stmt.excluded.updated_at,
        )
    )
