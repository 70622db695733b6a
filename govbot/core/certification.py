"""The certification policy (``policies/certification.yaml``): who approves, and by when.

2017A section C as data: the Foundation reviews a vendor's results within 30
days (C2.3) and has the final word (C2.2); only the two latest approved
guidelines may be used (C6.1); the Interop Working Group acknowledges flag
requests within 30 days (C3.3); self-test results carry the "unofficial"
label until accepted (C1.4). Waivers were a temporary grey list for strict
API response checking, not allowed after the 2017.01 guideline.

The reviewers are a roster in the shape of ``policies/committee.yaml`` and
approval is a voting rule, so the bot tallies a submission with the same
``tally`` it uses for guideline changes. Like :mod:`govbot.core.policy`, the
loader assumes schema-valid data and falls back to defaults rather than
raising; the schema and :func:`issues` make defects loud, with their line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from govbot.core import integrity
from govbot.core.policy import DEFAULT_ROLES, Committee, VoteRule, day_of
from govbot.core.rules import split_key

PATH = "policies/certification.yaml"
VOTE_CLASS = "certification"
"""The vote class of a product submission: a change that touches nothing but ``products/``."""
SCHEMA = "certification.schema.json"
UNOFFICIAL = "Unofficial Results - Not Yet Accepted By The OpenStack Foundation"
DEFAULT_RULE = VoteRule(quorum=1, approvals=(("foundation", 1),), veto=frozenset({"foundation"}))


@dataclass(frozen=True)
class Waiver:
    """Tests a product may fail against one guideline until ``expires`` (exclusive)."""

    product: str
    guideline: str
    tests: frozenset[str]
    reason: str
    expires: date
    granted: date | None = None

    def active(self, at: date) -> bool:
        return at < self.expires


@dataclass(frozen=True)
class CertificationPolicy:
    reviewers: Committee = field(default_factory=lambda: Committee(roles=DEFAULT_ROLES))
    approval: VoteRule = DEFAULT_RULE
    review_within_days: int = 30
    review_remind_days: tuple[int, ...] = (7, 1)
    valid_latest: int = 2
    flag_ack_days: int = 30
    expiry_remind_days: tuple[int, ...] = (30, 7)
    waivers_last_guideline: str | None = "2017.01"
    waivers: tuple[Waiver, ...] = ()
    unofficial_label: str = UNOFFICIAL

    @classmethod
    def from_data(cls, data: Any) -> CertificationPolicy:
        d = _d(data)
        default = cls()
        review, waivers = _d(d.get("review")), _d(d.get("waivers"))
        last = waivers.get("last_guideline", default.waivers_last_guideline)
        return cls(
            reviewers=Committee.from_data(d["reviewers"])
            if "reviewers" in d
            else default.reviewers,
            approval=VoteRule.from_data(d["approval"]) if "approval" in d else default.approval,
            review_within_days=_pos(review.get("within_days"), default.review_within_days),
            review_remind_days=_days(review.get("remind_before_days"), default.review_remind_days),
            valid_latest=_pos(_d(d.get("guidelines")).get("valid_latest"), default.valid_latest),
            flag_ack_days=_pos(
                _d(d.get("flag_requests")).get("acknowledge_within_days"), default.flag_ack_days
            ),
            expiry_remind_days=_days(
                _d(d.get("expiry")).get("remind_before_days"), default.expiry_remind_days
            ),
            waivers_last_guideline=str(last) if last is not None else None,
            waivers=tuple(w for w in map(_waiver, _l(waivers.get("granted"))) if w is not None),
            unofficial_label=str(_d(d.get("labels")).get("unofficial") or UNOFFICIAL),
        )

    def review_due(self, submitted_at: datetime) -> datetime:
        """C2.3: when the Foundation's review of a submission is due (``within_days`` × 24 h)."""
        return _utc(submitted_at, "submitted_at") + timedelta(days=self.review_within_days)

    def flag_ack_due(self, requested_at: datetime) -> datetime:
        """C3.3: when a vendor's request to flag a test must be acknowledged."""
        return _utc(requested_at, "requested_at") + timedelta(days=self.flag_ack_days)

    def deciders(self, forge: str, at: datetime) -> list[str]:
        """The logins on ``forge`` of the reviewers who sit at ``at`` in a role whose
        approval or veto decides (the people to tell about a submission)."""
        rule = self.approval
        roles = {role for role, _ in rule.approvals} | set(rule.veto)
        return sorted(
            login
            for m in self.reviewers.members
            if m.standing(at) == "member" and roles & set(m.roles)
            for login in [m.account(forge)]
            if login
        )

    def waiver_allowed(self, guideline: str) -> bool:
        """Whether a waiver may apply to a guideline: none after ``last_guideline``."""
        parts = split_key(guideline)
        if self.waivers_last_guideline is None or parts is None or parts[1] == "next":
            return False
        return parts[1] <= self.waivers_last_guideline

    def waivers_for(self, product: str, guideline: str) -> tuple[Waiver, ...]:
        return tuple(w for w in self.waivers if w.product == product and w.guideline == guideline)


def expiry_reminders(
    expires: date, days: tuple[int, ...], now: datetime, horizon_days: int
) -> list[tuple[datetime, int]]:
    """Reminders (instant, days before) for an expiry, falling in [now, now + horizon).

    An expiry is a whole UTC day: the certification ends at 00:00 UTC on
    ``expires``, and a reminder N days before goes out at 00:00 UTC N days
    earlier. The clock calls this each tick; recording what it sent (so each
    goes out once) is the store's business.
    """
    start = _utc(now, "now")
    end = start + timedelta(days=horizon_days)
    at_expiry = datetime.combine(expires, time(0), tzinfo=UTC)
    out = [(at_expiry - timedelta(days=n), n) for n in sorted(set(days), reverse=True)]
    return [(at, n) for at, n in out if start <= at < end]


def reminder_due(due: datetime, days: tuple[int, ...], now: datetime) -> int | None:
    """Which reminder of a deadline is due at ``now``: the nearest of those ``days`` before
    ``due`` whose time has come (0: the deadline itself has passed); None before the first.

    A clock that was down past several reminder times sends only the latest one; the
    caller records each it sends, so none goes twice.
    """
    start = _utc(due, "due")
    passed = [n for n in {*days, 0} if start - timedelta(days=n) <= _utc(now, "now")]
    return min(passed) if passed else None


def issues(data: Any) -> Iterator[integrity.Issue]:
    """What the schema cannot see: approval roles the roster lacks, expired or late waivers."""
    d = _d(data)
    reviewers = _d(d.get("reviewers"))
    roles = set(_d(reviewers.get("roles"))) or {r.name for r in DEFAULT_ROLES}
    rule = _d(d.get("approval"))
    defined = ", ".join(sorted(roles))
    for role in _d(rule.get("approvals")):
        if role not in roles:
            yield integrity.Issue(
                ("approval", "approvals", role),
                "policy.unknown-role",
                f"role {role!r} is not a reviewers role (defined: {defined}); "
                "no submission could ever be approved",
            )
    for i, role in enumerate(_l(rule.get("veto"))):
        if role not in roles:
            yield integrity.Issue(
                ("approval", "veto", i),
                "policy.unknown-role",
                f"veto role {role!r} is not a reviewers role (defined: {defined}); it never applies",
            )
    waivers = _d(d.get("waivers"))
    last = waivers.get("last_guideline")
    for i, w in enumerate(_l(waivers.get("granted"))):
        parts = split_key(str(_d(w).get("guideline", "")))
        if isinstance(last, str) and parts is not None and parts[1] > last:
            yield integrity.Issue(
                ("waivers", "granted", i, "guideline"),
                "certification.waiver-not-allowed",
                f"a waiver for {_d(w).get('guideline')} is not allowed: waivers end with "
                f"the {last} guideline",
            )
        granted, expires = day_of(_d(w).get("granted")), day_of(_d(w).get("expires"))
        if granted is not None and expires is not None and expires <= granted:
            yield integrity.Issue(
                ("waivers", "granted", i, "expires"),
                "certification.waiver-dates",
                f"waiver expires ({expires}) on or before it was granted ({granted})",
            )


def _waiver(data: Any) -> Waiver | None:
    d = _d(data)
    expires = day_of(d.get("expires"))
    if not isinstance(d.get("product"), str) or not isinstance(d.get("guideline"), str):
        return None
    if expires is None:
        return None
    return Waiver(
        d["product"],
        d["guideline"],
        frozenset(t for t in _l(d.get("tests")) if isinstance(t, str)),
        str(d.get("reason") or ""),
        expires,
        day_of(d.get("granted")),
    )


def _utc(at: datetime, what: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} {at.isoformat()} is naive; pass an aware datetime")
    return at.astimezone(UTC)


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _pos(v: Any, default: int) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else default


def _days(v: Any, default: tuple[int, ...]) -> tuple[int, ...]:
    if not isinstance(v, list):
        return default
    return tuple(sorted({x for x in v if isinstance(x, int) and x >= 0}, reverse=True))
