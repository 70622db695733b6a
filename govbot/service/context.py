"""What a handler is given: the forge to talk to, the checker's inputs, who acts, and the time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from govbot.core.validate import FindingsCache, SchemaSet
from govbot.forges.recording import RecordingForge
from govbot.store.models import utcnow
from govbot.store.reports import Report


@dataclass(frozen=True)
class Context:
    forge: RecordingForge
    schemas: SchemaSet
    cache: FindingsCache | None
    actor: str  # the worker or the clock, as named in the audit log
    now: Callable[[], datetime] = utcnow  # injectable: tests and the clock move time


def reports_of(recorder: RecordingForge) -> list[Report]:
    """What went out through ``recorder`` (or would have, in dry-run), as report rows."""
    at = utcnow()
    return [
        Report(
            p.kind,
            p.review_key,
            p.head_sha,
            recorder.name,
            recorder.dry_run,
            p.title,
            p.body,
            p.external_id,
            at,
        )
        for p in recorder.posted
    ]
