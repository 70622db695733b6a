"""``govbot clock``: deadlines that pass with no event to notice them.

Each tick looks at the database (not at memory: a restarted clock picks up
where the last one stopped) and does what has come due:

* a pending vote whose minimum review time is over is tallied again, and its
  result posted (pending -> passed or failed);
* a reminder is posted to a review before its decision time, at the days the
  timeline policy names;
* a timeline milestone that has passed is recorded in the audit log.

Every act is claimed first by inserting its key into ``clock_events`` (unique):
of two clocks running at once, only the one whose insert succeeds acts, so
nothing is ever posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, select
from sqlalchemy.dialects import postgresql, sqlite

from govbot.core.events import ReviewRef
from govbot.core.timeline import Timeline
from govbot.core.validate import SchemaSet
from govbot.core.yamlio import parse_bytes
from govbot.forges.base import Forge
from govbot.service import handlers, voting
from govbot.service.recording import RecordingForge
from govbot.store.models import ClockEvent, Review, VoteResultRow, utcnow

log = logging.getLogger("govbot.clock")
REMINDER_MARKER = "<!-- govbot:reminder -->"


@dataclass
class Clock:
    engine: Engine
    forge_for: Callable[[str], tuple[Forge, bool]]
    schemas: SchemaSet
    timeline_files: Callable[[], dict[str, bytes]] | None = None  # the policies' snapshot
    name: str = "clock"
    now: Callable[[], datetime] = utcnow

    def claim(self, key: str, kind: str, subject: str, due_at: datetime) -> bool:
        """True for exactly one caller per key, across processes and machines."""
        values = {
            "key": key,
            "kind": kind,
            "subject": subject[:300],
            "due_at": due_at,
            "done_at": self.now(),
            "done_by": self.name,
        }
        table = ClockEvent.__table__  # type: ignore[attr-defined]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.id)
        )
        with self.engine.begin() as conn:
            return conn.execute(stmt).first() is not None

    def tick(self) -> list[str]:
        """Do what is due now; returns the keys acted on."""
        done = [*self._decisions(), *self._reminders(), *self._milestones()]
        for key in done:
            log.info("clock: %s", key)
        return done

    def _open_results(self) -> list[tuple[str, str, datetime | None, str]]:
        results = VoteResultRow.__table__  # type: ignore[attr-defined]
        reviews = Review.__table__  # type: ignore[attr-defined]
        query = (
            select(
                results.c.review_key, results.c.state, results.c.earliest_decision, reviews.c.forge
            )
            .join(reviews, reviews.c.key == results.c.review_key)
            .where(and_(results.c.state.in_(["pending", "held"]), reviews.c.state == "open"))
        )
        with self.engine.connect() as conn:
            return [
                (r.review_key, r.state, r.earliest_decision, r.forge) for r in conn.execute(query)
            ]

    def _decisions(self) -> Iterator[str]:
        now = self.now()
        for key, _state, due, forge in self._open_results():
            if due is None or voting.aware(due) > now:
                continue
            claim = f"decide:{key}:{voting.aware(due).isoformat()}"
            if self.claim(claim, "decide", key, voting.aware(due)):
                self._retally(key, forge)
                yield claim

    def _retally(self, review_key: str, forge_name: str) -> None:
        forge, dry_run = self.forge_for(forge_name)
        recorder = RecordingForge(forge, dry_run)
        ctx = handlers.Context(recorder, self.schemas, None, self.name, self.now)
        with self.engine.connect() as reads:
            effects = handlers.retally(ctx, reads, review_key)
        with self.engine.begin() as conn:
            handlers.apply(conn, effects, recorder.posted, forge.name, dry_run, self.name)

    def _timeline(self) -> Timeline | None:
        if self.timeline_files is None:
            return None
        raw = self.timeline_files().get("policies/timeline.yaml")
        if raw is None:
            return None
        try:
            return Timeline.from_data(parse_bytes("policies/timeline.yaml", raw).data)
        except ValueError as e:
            log.error("clock: the timeline policy is unusable: %s", e)
            return None

    def _reminders(self) -> Iterator[str]:
        timeline = self._timeline()
        days = timeline.reminder_days if timeline is not None else (1,)
        now = self.now()
        for key, _state, due, forge_name in self._open_results():
            if due is None or voting.aware(due) <= now:
                continue
            left = voting.aware(due) - now
            for d in sorted(days):
                if left <= timedelta(days=d):
                    claim = f"remind:{key}:{d}d:{voting.aware(due).isoformat()}"
                    if self.claim(claim, "reminder", key, voting.aware(due)):
                        self._remind(key, forge_name, voting.aware(due), d)
                        yield claim
                    break

    def _remind(self, review_key: str, forge_name: str, due: datetime, days: int) -> None:
        forge, dry_run = self.forge_for(forge_name)
        recorder = RecordingForge(forge, dry_run)
        forge_part, rest = review_key.split(":", 1)
        repo, number = rest.rsplit("#", 1)
        body = f"The vote on this change can be decided from {due:%Y-%m-%d %H:%M} UTC (in {days} day(s) or less)."
        recorder.upsert_comment(ReviewRef(forge_part, repo, number), REMINDER_MARKER, body)
        with self.engine.begin() as conn:
            handlers.apply(
                conn,
                handlers.Effects(audit=[("reminded", review_key, {"due": due.isoformat()})]),
                recorder.posted,
                forge.name,
                dry_run,
                self.name,
            )

    def _milestones(self) -> Iterator[str]:
        timeline = self._timeline()
        if timeline is None:
            return
        now = self.now()
        for m in timeline.milestones:
            if m.at > now:
                continue
            claim = f"milestone:{m.cycle}:{m.id}"
            if self.claim(claim, "milestone", m.cycle, m.at):
                audit = [
                    (
                        "milestone-passed",
                        m.cycle,
                        {"milestone": m.id, "name": m.name, "at": m.at.isoformat()},
                    )
                ]
                with self.engine.begin() as conn:
                    handlers.apply(
                        conn, handlers.Effects(audit=audit), [], "clock", True, self.name
                    )
                yield claim
