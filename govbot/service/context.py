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
    """``received_at`` is govbot's own time for the event being handled: when the
    receiver stored its delivery (the clock's now, for the clock). Durations run
    from it, never from a time the sender wrote in the payload."""

    forge: RecordingForge
    schemas: SchemaSet
    cache: FindingsCache | None
    actor: str  # the worker or the clock, as named in the audit log
    now: Callable[[], datetime] = utcnow  # injectable: tests and the clock move time
    received_at: datetime | None = None

    @property
    def receipt(self) -> datetime:
        return self.received_at or self.now()

    def when(self, at: datetime | None) -> datetime:
        """An event's time for ordering: the forge's, never later than its receipt.

        A payload's time orders acts that arrive out of order (a comment made
        before a push but processed after it); capping it at receipt keeps a
        sender from dating an act into the future.
        """
        return min(at, self.receipt) if at is not None else self.receipt


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
