"""``govbot clock``: deadlines that pass with no event to notice them.

Each tick looks at the database (not at memory: a restarted clock picks up
where the last one stopped) and does what has come due:

* a pending vote whose minimum review time is over is tallied again, and its
  result posted (pending -> passed or failed);
* every open review is tallied again, whatever its shown state (passed
  included), and the result posted when it differs from what was shown: a
  tally a crash interrupted, or a policy cache gone stale, is caught up;
* a reminder is posted to a review before its decision time, at the days the
  timeline policy names;
* a timeline milestone that has passed is recorded in the audit log;
* the certification half's deadlines (``service/deadlines.py``): the
  Foundation's 30-day review of a submission, certifications about to
  expire, flag requests to acknowledge.

Every act is claimed first by inserting its key into ``clock_events`` (unique):
of two clocks running at once, only the one whose insert succeeds acts, so
nothing is ever posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from govbot.core.events import ReviewRef
from govbot.core.policies import Policies
from govbot.core.timeline import Timeline
from govbot.core.validate import SchemaSet
from govbot.forges.base import Forge, ForgeError
from govbot.forges.recording import RecordingForge
from govbot.forges.registry import FORGES
from govbot.service import deadlines, reconcile, voting
from govbot.service.context import Context, reports_of
from govbot.store import clock, inbox, reviews, votes
from govbot.store.effects import Effects, apply
from govbot.store.models import utcnow
from govbot.store.votes import Undecided

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
    reconcile_interval: float | None = None  # seconds; None: the clock does not reconcile
    _reconciled_at: dict[str, datetime] = field(default_factory=dict)  # forge -> last sweep
    # forges under a rate limit (inbox.hold_forge), read once a tick: no request to them,
    # and nothing claimed that would need one; what is due is done on a later tick
    held: frozenset[str] = frozenset()

    def claim(self, key: str, kind: str, subject: str, due_at: datetime) -> bool:
        """True for exactly one caller per key, across processes and machines."""
        return clock.claim(self.engine, key, kind, subject, due_at, self.now(), self.name)

    def tick(self) -> list[str]:
        """Do what is due now; returns the keys acted on."""
        self.held = frozenset(inbox.forge_holds(self.engine))
        done = [
            *self._decisions(),
            *self._resync(),
            *self._reminders(),
            *self._milestones(),
            *deadlines.acts(self),
            *self._reconcile(),
        ]
        for key in done:
            log.info("clock: %s", key)
        return done

    def _reconcile(self) -> Iterator[str]:
        """At the first tick (start-up), then every ``reconcile_interval``: a reconciliation
        sweep of each live forge (a dry-run forge has nothing to read back)."""
        if self.reconcile_interval is None:
            return
        now = self.now()
        for forge_name in FORGES:
            last = self._reconciled_at.get(forge_name)
            if last is not None and (now - last).total_seconds() < self.reconcile_interval:
                continue
            self._reconciled_at[forge_name] = now
            forge, dry_run = self.forge_for(forge_name)
            if dry_run:
                continue
            try:
                sweeps = reconcile.reconcile(self.engine, forge_name, forge, now=self.now)
            except ForgeError as e:  # the forge is down too: the next sweep tries again
                log.warning("clock: reconciliation of %s failed: %s", forge_name, e)
                continue
            found = sum(s.stored for s in sweeps)
            if found:
                yield f"reconcile:{forge_name}:{found}"

    def _undecided(self) -> list[Undecided]:
        with self.engine.connect() as conn:
            return votes.undecided(conn)

    def _decisions(self) -> Iterator[str]:
        now = self.now()
        for u in self._undecided():
            if u.earliest_decision is None or u.earliest_decision > now or u.forge in self.held:
                continue
            claim = f"decide:{u.review_key}:{u.earliest_decision.isoformat()}"
            if self.claim(claim, "decide", u.review_key, u.earliest_decision):
                self._retally(u.review_key, u.forge)
                yield claim

    def write(self, effects: Effects, recorder: RecordingForge | None = None) -> None:
        """Record an act's effects (and what its recorder posted) in one transaction."""
        if recorder is not None:
            effects.reports += reports_of(recorder)
        with self.engine.begin() as conn:
            apply(conn, effects, self.name)

    def _retally(self, review_key: str, forge_name: str, post: bool = True) -> str | None:
        forge, dry_run = self.forge_for(forge_name)
        ctx = Context(RecordingForge(forge, dry_run), self.schemas, None, self.name, self.now)
        return voting.tally_review(ctx, self.engine, review_key, post=post)

    def _resync(self) -> Iterator[str]:
        """Every open review tallied again; a key is yielded when its shown result changed."""
        with self.engine.connect() as conn:
            todo = dict.fromkeys([*reviews.wanting_tally(conn), *reviews.open_keys(conn)])
        for key, forge_name in todo:
            if forge_name in self.held:
                continue
            try:
                if self._retally(key, forge_name, post=False) is not None:
                    yield f"tally:{key}"
            except ForgeError as e:  # one review's forge trouble never stops the others
                log.warning("clock: tally of %s failed: %s", key, e)

    def _timeline(self) -> Timeline | None:
        if self.timeline_files is None:
            return None
        policies = Policies.from_files(self.timeline_files())
        for problem in policies.problems:
            log.error("clock: %s", problem)
        return policies.timeline

    def _reminders(self) -> Iterator[str]:
        timeline = self._timeline()
        days = timeline.reminder_days if timeline is not None else (1,)
        now = self.now()
        for u in self._undecided():
            due = u.earliest_decision
            if due is None or due <= now or u.forge in self.held:
                continue
            left = due - now
            for d in sorted(days):
                if left <= timedelta(days=d):
                    claim = f"remind:{u.review_key}:{d}d:{due.isoformat()}"
                    if self.claim(claim, "reminder", u.review_key, due):
                        self._remind(u.review_key, u.forge, due, d)
                        yield claim
                    break

    def _remind(self, review_key: str, forge_name: str, due: datetime, days: int) -> None:
        forge, dry_run = self.forge_for(forge_name)
        recorder = RecordingForge(forge, dry_run)
        forge_part, rest = review_key.split(":", 1)
        repo, number = rest.rsplit("#", 1)
        body = f"The vote on this change can be decided from {due:%Y-%m-%d %H:%M} UTC (in {days} day(s) or less)."
        recorder.upsert_comment(ReviewRef(forge_part, repo, number), REMINDER_MARKER, body)
        self.write(Effects(audit=[("reminded", review_key, {"due": due.isoformat()})]), recorder)

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
                detail = {"milestone": m.id, "name": m.name, "at": m.at.isoformat()}
                self.write(Effects(audit=[("milestone-passed", m.cycle, detail)]))
                yield claim
