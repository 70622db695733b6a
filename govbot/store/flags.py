"""Vendors' flag requests (2017A C3): recorded once per place and test, acknowledged once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy import update as sql_update

from govbot.core.flag_requests import ACKNOWLEDGED, OPEN, FlagRequest
from govbot.store.tables import aware, flag_requests, insert


def record(conn: Connection, request: FlagRequest) -> None:
    """The first recording wins: a redelivered or edited command never moves its date."""
    forge, _, rest = request.asked_on.partition(":")
    repo = rest.rpartition("#")[0]
    values = {
        "key": request.key,
        "asked_on": request.asked_on,
        "forge": forge,
        "repo": repo,
        "test": request.test,
        "reason": request.reason,
        "requester": request.requester,
        "requested_at": request.requested_at,
        "due_at": request.due_at,
        "governed_branch": request.governed_branch,
        "guidelines": ",".join(request.guidelines)[:300],
        "state": request.state,
        "note": request.note,
    }
    stmt = insert(conn.dialect.name, flag_requests).values(**values)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))


def acknowledge(conn: Connection, key: str, at: datetime, by: str, note: str) -> None:
    """Only an open request is acknowledged: the first acknowledgement stands."""
    conn.execute(
        sql_update(flag_requests)
        .where(flag_requests.c.key == key, flag_requests.c.state == OPEN)
        .values(state=ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=by, note=note)
    )


def get(conn: Connection, key: str) -> FlagRequest | None:
    row = conn.execute(select(flag_requests).where(flag_requests.c.key == key)).first()
    return None if row is None else _request(row)


def open_requests(conn: Connection) -> list[FlagRequest]:
    """Every request not yet acknowledged, oldest first: what the clock chases."""
    query = (
        select(flag_requests)
        .where(flag_requests.c.state == OPEN)
        .order_by(flag_requests.c.requested_at, flag_requests.c.id)
    )
    return [_request(r) for r in conn.execute(query)]


def _request(row: Any) -> FlagRequest:
    acked = row.acknowledged_at
    return FlagRequest(
        asked_on=row.asked_on,
        test=row.test,
        reason=row.reason,
        requester=row.requester,
        requested_at=aware(row.requested_at),
        due_at=aware(row.due_at),
        governed_branch=row.governed_branch,
        guidelines=tuple(g for g in row.guidelines.split(",") if g),
        state=row.state,
        acknowledged_at=aware(acked) if acked is not None else None,
        acknowledged_by=row.acknowledged_by,
        note=row.note,
    )
