"""Vendors' requests to flag a test (2017A C3), as the bot takes, answers and chases them.

C3.1: "Vendors may raise concerns with specific tests to the Interop Working
Group"; C3.3: "The Interop Working Group will acknowledge vendor requests to
flag tests within 30 days." A request is a comment command on a review (or a
GitHub issue): ``/flag-request TEST reason...``; it names one test of a
guideline vendors use now (the latest approved of its family, or a draft),
by name, alias or idempotent id. Someone whose role may ``acknowledge-flags``
(``committee.yaml``, or the reviewers of ``certification.yaml``) answers
``/flag-ack TEST [note]`` on the same review or issue; until then the clock
reminds them before the deadline and on it.

The number of days is ``certification.yaml``'s
``flag_requests.acknowledge_within_days``: the one source (a timeline.yaml
that says otherwise is a ``policy.conflict``, see :mod:`govbot.core.policy_links`).
Pure: the service stores the requests and posts what this module words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from govbot.core.check import Side
from govbot.core.results import normal_id, split_test_id
from govbot.core.rules import FROZEN, split_key
from govbot.core.timeline import FlagReminder, Timeline
from govbot.core.validity import Validity

PERMISSION = "acknowledge-flags"
RULE = "2017A.C3.3"
TEXT = "The Interop Working Group will acknowledge vendor requests to flag tests within 30 days."
REQUEST_USAGE = "Usage: `/flag-request TEST_ID reason...` (the test's name or `id-…`, then why)."
ACK_USAGE = "Usage: `/flag-ack TEST_ID [note]`, on the review or issue where the request was made."
OPEN, ACKNOWLEDGED = "open", "acknowledged"


class FlagCommandError(ValueError):
    """A flag command govbot cannot act on; the message says why, for the reply."""


@dataclass(frozen=True)
class FlagRequest:
    """One request: where it was made (a review or issue key), for which test, by whom."""

    asked_on: str
    test: str
    reason: str
    requester: str
    requested_at: datetime
    due_at: datetime
    governed_branch: str
    guidelines: tuple[str, ...] = ()
    """The guidelines (usable now) that hold the test, as found when it was asked."""
    state: str = OPEN
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.asked_on}|{self.test}"


def parse_request(args: tuple[str, ...]) -> tuple[str, str]:
    """``/flag-request TEST reason...`` -> (test, reason); a request says why (C3.1)."""
    if not args:
        raise FlagCommandError(f"which test? {REQUEST_USAGE}")
    test, reason = args[0], " ".join(args[1:]).strip()
    if not reason:
        raise FlagCommandError(f"say why {test} should be flagged. {REQUEST_USAGE}")
    return normal_test(test), reason


def parse_ack(args: tuple[str, ...]) -> tuple[str, str]:
    """``/flag-ack TEST [note]`` -> (test, note)."""
    if not args:
        raise FlagCommandError(f"which test? {ACK_USAGE}")
    return normal_test(args[0]), " ".join(args[1:]).strip()


def normal_test(text: str) -> str:
    """A test as people write it: ``name``, ``name[id-…]`` or ``id-…``. Its idempotent id
    (``id-`` and lower case) when one is given, since that survives renames (A2.4); else
    its name. ``/flag-ack`` names the test the same way as the request did."""
    ident = normal_id(text)
    if ident is not None:
        return f"id-{ident}"
    split = split_test_id(text)
    if split is None:
        raise FlagCommandError(f"{text!r} is not a test id. {REQUEST_USAGE}")
    name, ident = split
    return f"id-{ident}" if ident else name


def guidelines_holding(files: Mapping[str, bytes], test: str, today: date) -> list[str]:
    """The guidelines in use today that hold ``test`` (name, alias or idempotent id):
    each family's latest approved (C6.1) and its drafts, newest first."""
    side = Side(files)
    in_use = [k for k, s in side.statuses.items() if s.get("status") not in FROZEN]
    validity = Validity.from_files(files)
    for family in validity.families.values():
        in_use += validity.valid_at(family[-1].key, today)
    found = [key for key in dict.fromkeys(in_use) if _holds(side.data(key), test)]
    return sorted(found, key=lambda k: split_key(k) or ("", ""), reverse=True)


def _holds(data: dict[str, Any] | None, test: str) -> bool:
    wanted = normal_id(test)
    capabilities = (data or {}).get("capabilities")
    for cap in capabilities.values() if isinstance(capabilities, dict) else ():
        tests = cap.get("tests") if isinstance(cap, dict) else None
        if isinstance(tests, list):
            if test in tests:
                return True
            continue
        for name, detail in tests.items() if isinstance(tests, dict) else ():
            d = detail if isinstance(detail, dict) else {}
            ident = d.get("idempotent_id") or d.get("id")
            if wanted is None and (test == name or test in (d.get("aliases") or ())):
                return True
            if wanted is not None and isinstance(ident, str) and normal_id(ident) == wanted:
                return True
    return False


def due_reminders(
    timeline: Timeline | None, within_days: int, requests: Iterable[FlagRequest], now: datetime
) -> list[FlagReminder]:
    """For each open request, the latest reminder whose time has come (none after its
    deadline's own): before the deadline at the timeline's reminder days, and on it.

    Uses :meth:`Timeline.flag_reminders` with the certification policy's days;
    a branch without a time line reminds 3 and 1 days ahead, in UTC.
    """
    base = timeline or Timeline("UTC", ())
    timeline = replace(base, flag_requests=replace(base.flag_requests, within_days=within_days))
    start = now - timedelta(days=within_days + 1)
    opened = [(r.key, r.requested_at, None) for r in requests if r.state == OPEN]
    latest: dict[str, FlagReminder] = {}
    for reminder in timeline.flag_reminders(opened, start, within_days + 2):
        if reminder.at <= now:
            latest[reminder.key] = reminder  # sorted by time: the last one due wins
    return sorted(latest.values(), key=lambda r: (r.at, r.key))


def request_text(request: FlagRequest, tz_note: str = "UTC") -> str:
    where = ", ".join(request.guidelines) or "no guideline in use"
    return (
        f"**Flag request recorded** for `{request.test}` (in {where}), asked by "
        f"@{request.requester}: {request.reason}\n\n"
        f"{RULE}: \u201c{TEXT}\u201d It is due by **{request.due_at:%Y-%m-%d %H:%M} {tz_note}**. "
        f"Whoever may acknowledge flag requests answers `/flag-ack {request.test} [note]` here."
    )


def ack_text(request: FlagRequest) -> str:
    at = request.acknowledged_at
    when = f"{at:%Y-%m-%d %H:%M} UTC" if at is not None else "?"
    late = at is not None and at > request.due_at
    note = f": {request.note}" if request.note else ""
    return (
        f"**Flag request acknowledged** for `{request.test}` by @{request.acknowledged_by} on "
        f"{when}{' (after its deadline)' if late else ''}{note}\n\n"
        f"Asked by @{request.requester}: {request.reason}"
    )


def reminder_text(request: FlagRequest, reminder: FlagReminder) -> str:
    if reminder.days_before == 0:
        lead = f"**The acknowledgement of this flag request is due now** ({RULE})"
    else:
        lead = (
            f"**Reminder**: the flag request for `{request.test}` must be acknowledged within "
            f"{reminder.days_before} day(s) ({RULE})"
        )
    return (
        f"{lead}: due {request.due_at:%Y-%m-%d %H:%M} UTC, asked by @{request.requester} on "
        f"{request.requested_at:%Y-%m-%d}: {request.reason}\n\n"
        f"Answer `/flag-ack {request.test} [note]` here."
    )
