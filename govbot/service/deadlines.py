"""The certification half's deadlines, for the clock: each act claimed once, then posted.

* **The Foundation's review** (2017A C2.3: "a review of the results within 30
  days"): an open submission whose vote is still pending is reminded to the
  reviewers at ``review.remind_before_days`` before its due date, and once
  more when the date passes. The policy is the one pinned for the review.
* **Expiry** (C6.1: only the two latest approved guidelines may be used):
  each current certification of the governed branch's registry is reminded
  at ``expiry.remind_before_days`` before the day its guideline leaves the
  latest approved, on the review that brought the product in, naming the
  vendor's contact (from the product file) and telling the reviewers.
* **Flag requests** (C3.3): an open request is reminded to whoever may
  acknowledge it, before its deadline (the time line's reminder days) and
  on it (``Timeline.flag_reminders``).

When the clock was down past several reminder times, only the latest goes
out. Keys name the deadline, so a deadline that moves (a new guideline
approved, a new period) gets its own reminders.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Protocol

from sqlalchemy import Engine

from govbot.core import products, registry
from govbot.core.certification import VOTE_CLASS, expiry_reminders, reminder_due
from govbot.core.events import ReviewRef
from govbot.core.flag_requests import FlagRequest, due_reminders, reminder_text
from govbot.core.policies import Policies, PolicyUnusable
from govbot.core.validate import SchemaSet
from govbot.forges.base import Forge, ForgeError
from govbot.forges.recording import RecordingForge
from govbot.service.certified import approval_dates
from govbot.service.context import Context
from govbot.service.flag_requests import acknowledgers
from govbot.service.governed import pinned_policies
from govbot.store import certified, flags
from govbot.store.effects import Effects


class Clock(Protocol):
    """What these acts need of ``service.clock.Clock`` (which calls them)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def forge_for(self) -> Callable[[str], tuple[Forge, bool]]: ...

    @property
    def schemas(self) -> SchemaSet: ...

    @property
    def name(self) -> str: ...

    @property
    def now(self) -> Callable[[], datetime]: ...

    def claim(self, key: str, kind: str, subject: str, due_at: datetime) -> bool: ...

    def write(self, effects: Effects, recorder: RecordingForge | None = None) -> None: ...


log = logging.getLogger("govbot.clock")
REVIEW_MARKER = "<!-- govbot:review-deadline -->"
EXPIRY_MARKER = "<!-- govbot:expiry -->"
_snapshots: dict[tuple[str, str], tuple[str, dict[str, bytes]]] = {}
"""(forge, repo) -> (commit, files) of the governed branch last read: read again only when
the branch has moved, since a tick runs every minute and a tree costs many requests."""
_registries: dict[tuple[str, str], tuple[str, date, registry.Registry]] = {}
"""(forge, repo) -> (commit, day, registry): verifying every product's results is done
again only when the branch moves or the day changes, not at every tick."""


def acts(clock: Clock) -> Iterator[str]:
    """Every certification act due now; the claimed keys."""
    yield from _review_deadlines(clock)
    yield from _expiries(clock)
    yield from _flag_requests(clock)


def _context(clock: Clock, forge_name: str) -> Context:
    forge, dry_run = clock.forge_for(forge_name)
    return Context(RecordingForge(forge, dry_run), clock.schemas, None, clock.name, clock.now)


def _post(
    clock: Clock,
    ctx: Context,
    review_key: str,
    marker: str,
    body: str,
    notify: list[str],
    audit: tuple[str, dict[str, object]],
) -> None:
    forge_part, rest = review_key.split(":", 1)
    repo, number = rest.rsplit("#", 1)
    ctx.forge.upsert_comment(
        ReviewRef(forge_part, repo, number), marker, body, notify=tuple(notify)
    )
    action, detail = audit
    effects = Effects(audit=[(action, review_key, detail)])
    clock.write(effects, ctx.forge)


def _governed(ctx: Context, repo: str, branch: str) -> dict[str, bytes]:
    sha = ctx.forge.resolve(repo, branch)
    cached = _snapshots.get((ctx.forge.name, repo))
    if cached is None or cached[0] != sha:
        cached = (sha, ctx.forge.read_files(repo, sha))
        _snapshots[(ctx.forge.name, repo)] = cached
    return cached[1]


# -- C2.3: the Foundation's review ---------------------------------------------------------


def _review_deadlines(clock: Clock) -> Iterator[str]:
    now = clock.now()
    with clock.engine.connect() as conn:
        waiting = certified.open_submissions(conn, VOTE_CLASS)
    for s in waiting:
        ctx = _context(clock, s.forge)
        try:
            policies = pinned_policies(ctx, s.repo, s.policy_sha)
        except (PolicyUnusable, ForgeError) as e:
            log.warning("clock: review deadline of %s: %s", s.review_key, e)
            continue
        cert = policies.certification
        due = cert.review_due(s.period_start)
        days = reminder_due(due, cert.review_remind_days, now)
        if days is None:
            continue
        key = f"review-due:{s.review_key}:{days}d:{due.isoformat()}"
        if not clock.claim(key, "review-deadline", s.review_key, due):
            continue
        when = f"{due:%Y-%m-%d %H:%M} UTC"
        body = (
            f"**The Foundation's review of this submission was due {when}** and no decision "
            "is recorded: 2017A C2.3, \u201cThe Foundation will provide a review of the results "
            "within 30 days.\u201d"
            if days == 0
            else f"**Reminder**: the Foundation's review of this submission is due {when}, in "
            f"{days} day(s) or less (2017A C2.3). A reviewer approves or objects on the review."
        )
        _post(
            clock,
            ctx,
            s.review_key,
            REVIEW_MARKER,
            body,
            policies.certification.deciders(s.forge, now),
            ("review-deadline-reminded", {"due": due.isoformat(), "days_before": days}),
        )
        yield key


# -- C6.1: certifications expire ---------------------------------------------------------


def _expiries(clock: Clock) -> Iterator[str]:
    now = clock.now()
    with clock.engine.connect() as conn:
        rows = certified.latest(conn)
        dates = {(r.forge, r.repo): approval_dates(conn, r.forge, r.repo) for r in rows}
    for (forge, repo, branch), group in groupby(sorted(rows, key=_branch_of), key=_branch_of):
        routes = {r.product: r for r in group}
        ctx = _context(clock, forge)
        try:
            files = _governed(ctx, repo, branch)
        except ForgeError as e:
            log.warning("clock: registry of %s %s: %s", forge, repo, e)
            continue
        policies = Policies.from_files(files)
        days = policies.certification.expiry_remind_days
        if not days:
            continue
        listed = _registry(ctx, repo, files, now.date(), dates[(forge, repo)], policies)
        for entry in listed.current():
            if entry.expires is None:
                continue
            window = max(days) + 1
            due = [
                n
                for at, n in expiry_reminders(
                    entry.expires, days, now - timedelta(days=window), window + 1
                )
                if at <= now
            ]
            if not due:
                continue
            n = min(due)
            key = f"expiry:{forge}:{repo}:{entry.product}:{entry.program}:{entry.guideline}:{entry.expires}:{n}d"
            if not clock.claim(key, "expiry", f"{forge}:{repo}:{entry.product}", now):
                continue
            route = routes.get(entry.path)
            detail: dict[str, object] = {
                "product": entry.product,
                "program": entry.program,
                "guideline": entry.guideline,
                "expires": entry.expires.isoformat(),
                "days_before": n,
            }
            if route is None:
                clock.write(Effects(audit=[("expiry-unrouted", f"{forge}:{repo}", detail)]))
            else:
                body = _expiry_text(entry, n, _contact(files, entry.path))
                notify = policies.certification.deciders(forge, now)
                _post(
                    clock,
                    ctx,
                    route.review_key,
                    EXPIRY_MARKER + _tag(entry),
                    body,
                    notify,
                    ("expiry-reminded", detail),
                )
            yield key


def _registry(
    ctx: Context,
    repo: str,
    files: dict[str, bytes],
    day: date,
    dates: dict[str, date],
    policies: Policies,
) -> registry.Registry:
    sha = _snapshots[(ctx.forge.name, repo)][0]
    cached = _registries.get((ctx.forge.name, repo))
    if cached is None or cached[:2] != (sha, day):
        cached = (sha, day, registry.build(files, day, dates, policies.certification))
        _registries[(ctx.forge.name, repo)] = cached
    return cached[2]


def _tag(e: registry.Certified) -> str:
    """One comment per program's certification (its own marker), edited at each reminder."""
    return f"<!-- {hashlib.sha256(f'{e.program}:{e.guideline}'.encode()).hexdigest()[:8]} -->"


def _contact(files: dict[str, bytes], path: str) -> str:
    product, _ = products.load(path, files[path])
    contact = product.data.get("contact") if product is not None else None
    if not isinstance(contact, dict):
        return "the vendor (no contact in the product file)"
    name, email = contact.get("name"), contact.get("email")
    return " ".join(str(x) for x in (name, f"<{email}>" if email else None) if x) or "the vendor"


def _expiry_text(e: registry.Certified, days: int, contact: str) -> str:
    return (
        f"**Reminder to {contact} and the Foundation**: the certification of `{e.product}` for "
        f"{e.program_name} against {e.guideline} expires on **{e.expires}**, in {days} day(s) "
        f"(2017A C6.1: only the two latest approved guidelines may be used). It stays on record "
        f"as a past validation (C6.2); to stay current, submit results against a newer guideline."
    )


# -- C3.3: flag requests ----------------------------------------------------------------


def _flag_requests(clock: Clock) -> Iterator[str]:
    now = clock.now()
    with clock.engine.connect() as conn:
        waiting = flags.open_requests(conn)
    for (forge, repo, branch), group in groupby(sorted(waiting, key=_asked_at), key=_asked_at):
        requests = {r.key: r for r in group}
        ctx = _context(clock, forge)
        try:
            policies = Policies.from_files(_governed(ctx, repo, branch))
        except ForgeError as e:
            log.warning("clock: flag requests of %s %s: %s", forge, repo, e)
            continue
        within = policies.certification.flag_ack_days
        for reminder in due_reminders(policies.timeline, within, requests.values(), now):
            request = requests[reminder.key]
            key = f"flag-remind:{request.key}:{reminder.days_before}d"
            if not clock.claim(key, "flag-reminder", request.asked_on, reminder.due_at):
                continue
            digest = hashlib.sha256(request.test.encode()).hexdigest()[:12]
            _post(
                clock,
                ctx,
                request.asked_on,
                f"<!-- govbot:flag-reminder:{digest} -->",
                reminder_text(request, reminder),
                acknowledgers(policies, forge, now),
                (
                    "flag-request-reminded",
                    {"test": request.test, "days_before": reminder.days_before},
                ),
            )
            yield key


def _asked_at(request: FlagRequest) -> tuple[str, str, str]:
    """(forge, repository, governed branch) of a request."""
    forge, _, rest = request.asked_on.partition(":")
    return forge, rest.rpartition("#")[0], request.governed_branch


def _branch_of(row: certified.Certification) -> tuple[str, str, str]:
    return row.forge, row.repo, row.governed_branch
