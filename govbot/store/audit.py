"""The audit log: every decision govbot made, and why (append-only)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from govbot.store.models import utcnow
from govbot.store.tables import audit_log

Entry = tuple[str, str, dict[str, Any]]
"""(action, subject, detail): what happened, to which review or release, with its facts."""


def append(conn: Connection, actor: str, entries: list[Entry]) -> None:
    for action, subject, detail in entries:
        conn.execute(
            audit_log.insert().values(
                at=utcnow(),
                actor=actor,
                action=action,
                subject=subject[:300],
                detail=json.dumps(detail, default=str),
            )
        )
