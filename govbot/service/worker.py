"""``govbot worker``: take deliveries from the inbox and act on them, one at a time.

Several workers may run at once (on PostgreSQL, on several machines): the
inbox hands each delivery to one of them under a lease. Failures are sorted:
a forge that is down is retried with exponential backoff and jitter
(honouring its Retry-After); a payload govbot cannot read is parked at once
with its error; anything else is retried, then parked. Parked deliveries stay
visible to operators (``govbot deliveries``) and never block the others.

No worker waits on a forge: a forge that asks for a wait longer than a second
(a rate limit, a Retry-After) gets a ``ForgeError`` raised instead, and the
delivery is rescheduled while the worker takes the next one. A rate limit
belongs to the installation or token, not the delivery: it is recorded in the
database (``inbox.hold_forge``) so that no worker claims that forge's
deliveries, and so sends it no request, before the limit ends. A fault of one
review's own objects (a 5xx on its check run, a request that hangs until its
timeout) costs that review a backoff, never the others their turn.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from govbot import metrics
from govbot.core.events import Event
from govbot.core.validate import FindingsCache, SchemaSet
from govbot.forges import registry
from govbot.forges.base import Forge, ForgeError, PayloadError
from govbot.forges.recording import RecordingForge
from govbot.service import voting
from govbot.service.context import Context, reports_of
from govbot.service.dispatch import handle
from govbot.store import inbox
from govbot.store.effects import Effects, apply
from govbot.store.models import utcnow

log = logging.getLogger("govbot.worker")


class UnreadableDelivery(Exception):
    """The delivery cannot be understood; retrying will not help."""


@dataclass
class Worker:
    engine: Engine
    forge_for: Callable[[str], tuple[Forge, bool]]  # source -> (forge, dry_run)
    schemas: SchemaSet
    cache: FindingsCache | None = None
    worker_id: str = ""
    lease: timedelta = inbox.DEFAULT_LEASE
    max_attempts: int = inbox.MAX_ATTEMPTS
    now: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        if not self.worker_id:
            self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"

    def run_once(self) -> str | None:
        """Process one delivery; returns its new status, or None when the inbox is empty."""
        claimed = inbox.claim(self.engine, self.worker_id, self.lease, self.max_attempts)
        if claimed is None:
            return None
        started = time.perf_counter()
        outcome = self._outcome(claimed)
        metrics.WORKER_SECONDS.observe(time.perf_counter() - started)
        metrics.DELIVERIES_PROCESSED.labels(outcome=outcome).inc()
        if outcome == "parked":
            metrics.DELIVERIES_PARKED.inc()
        extra = {"delivery": f"{claimed.source}:{claimed.id}"}
        log.info("delivery %s %s: %s", claimed.id, claimed.event, outcome, extra=extra)
        return outcome

    def _outcome(self, claimed: inbox.Claimed) -> str:
        try:
            return self._process(claimed)
        except inbox.LeaseLost:
            log.warning("delivery %s: lease lost, another worker owns it now", claimed.id)
            return "lease-lost"
        except UnreadableDelivery as e:
            log.error("delivery %s parked: %s", claimed.id, e)
            return inbox.fail(self.engine, claimed, f"unreadable: {e}", max_attempts=0)
        except ForgeError as e:
            if e.rate_limited and not e.permanent:
                return self._rate_limited(claimed, e)
            attempts = 0 if e.permanent else self.max_attempts
            log.warning(
                "delivery %s: forge error (%s): %s",
                claimed.id,
                "permanent" if e.permanent else "retrying",
                e,
            )
            # exponential backoff with jitter, never sooner than the forge asked
            wait = max(e.retry_after or 0.0, inbox.backoff(claimed.attempts).total_seconds())
            return inbox.fail(
                self.engine, claimed, f"forge: {e}", max_attempts=attempts, retry_after=wait
            )
        except Exception as e:
            log.exception("delivery %s failed", claimed.id)
            return inbox.fail(
                self.engine, claimed, f"{type(e).__name__}: {e}", max_attempts=self.max_attempts
            )

    def _rate_limited(self, claimed: inbox.Claimed, e: ForgeError) -> str:
        """The forge's limit holds every worker off it until it ends; this delivery did
        not fail (its attempt is given back) and waits for the end, holding no worker."""
        wait = max(e.retry_after or 0.0, 1.0)
        until = utcnow() + timedelta(seconds=wait)
        forge, _ = self.forge_for(claimed.source)
        key = str(getattr(forge, "rate_limit_key", "") or forge.name)
        inbox.hold_forge(self.engine, claimed.source, key, until)
        log.warning(
            "delivery %s: %s is rate-limited for %.0fs; no request to it until %s: %s",
            claimed.id,
            claimed.source,
            wait,
            until.isoformat(timespec="seconds"),
            e,
        )
        return inbox.fail(self.engine, claimed, f"forge: {e}", retry_after=wait, counted=False)

    def _process(self, claimed: inbox.Claimed) -> str:
        try:
            events: list[Event] | None = registry.events_of(
                claimed.source, claimed.event, claimed.body
            )
        except PayloadError as e:
            raise UnreadableDelivery(str(e)) from e
        if events is None:
            with self.engine.begin() as conn:
                inbox.finish(
                    conn,
                    claimed,
                    status="ignored",
                    note=f"{claimed.event} is not an event govbot handles",
                )
            return "ignored"
        forge, dry_run = self.forge_for(claimed.source)
        recorder = RecordingForge(forge, dry_run)
        ctx = Context(
            recorder, self.schemas, self.cache, self.worker_id, self.now, claimed.received_at
        )
        effects = Effects()
        with self.engine.connect() as reads:
            for event in events:
                effects.merge(handle(event, ctx, reads))
            reads.rollback()
        effects.reports += reports_of(recorder)
        if not effects.tally:
            with self.engine.begin() as conn:
                apply(conn, effects, self.worker_id)
                inbox.finish(conn, claimed)
            return "done"
        # The ballots and revisions are stored first, then each review is tallied from
        # everything stored (under its lock), then the delivery is done: a crash in
        # between replays it, and the replay's writes are idempotent.
        with self.engine.begin() as conn:
            apply(conn, effects, self.worker_id)
        for key in dict.fromkeys(effects.tally):
            voting.tally_review(ctx, self.engine, key)
        with self.engine.begin() as conn:
            inbox.finish(conn, claimed)
        return "done"

    def run(
        self, stop: threading.Event | None = None, idle: float = 0.5, once: bool = False
    ) -> int:
        """Work until ``stop`` is set (or, with ``once``, until the inbox is empty)."""
        stop = stop or threading.Event()
        done = 0
        while not stop.is_set():
            status = self.run_once()
            if status is None:
                if once:
                    break
                stop.wait(idle)
            else:
                done += 1
        return done
