"""Who decides and by which rule: the committee roster and the voting policy.

Both are YAML in the governed repo (``policies/committee.yaml``,
``policies/voting.yaml``) and are read from the governed branch at the commit
pinned when a review opened, so a change cannot vote itself in under rules it
introduces. These loaders assume schema-valid data and fall back to defaults;
a vote is judged only by ``Policies.load``, which fails closed (a broken or
missing policy blocks every vote, naming its file and line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from fnmatch import translate
from fractions import Fraction
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from govbot.core.diff import Change

FORGES = ("github", "gerrit")
CASE_INSENSITIVE = frozenset({"github"})
"""GitHub logins ignore case (a ``/vote`` by ``Chair-Alice`` is ``chair-alice``); Gerrit's do not."""


@dataclass(frozen=True)
class Role:
    name: str
    description: str = ""
    # actions: "hold", "release" (lift anyone's hold), "prepare-release" (/release ID),
    # "acknowledge-flags" (/flag-ack TEST: answer a vendor's flag request, 2017A C3.3)
    may: frozenset[str] = frozenset()


DEFAULT_ROLES = (
    Role(
        "chair",
        "Co-chair: a core reviewer (2017A B4)",
        frozenset({"hold", "release", "prepare-release", "acknowledge-flags"}),
    ),
    Role("member", "Voting member of the committee"),
)


@dataclass(frozen=True)
class Member:
    """A seat on the committee. Identity is the immutable account id of each forge
    (``github_id``, ``gerrit_id``); the login is only how the member is shown."""

    name: str
    github: str | None = None
    gerrit: str | None = None
    roles: tuple[str, ...] = ()
    term_from: date | None = None
    term_until: date | None = None
    github_id: str | None = None
    gerrit_id: str | None = None

    def account(self, forge: str) -> str | None:
        """The login shown for this member on ``forge``."""
        return {"github": self.github, "gerrit": self.gerrit}.get(forge)

    def account_id(self, forge: str) -> str | None:
        """The account id that identifies this member on ``forge``."""
        return {"github": self.github_id, "gerrit": self.gerrit_id}.get(forge)

    def standing(self, at: datetime) -> str:
        """Whether the member sits at ``at``: "member", "term ended" or "term not started".

        Terms are whole UTC days, both ends included, so "until 2024-12-31"
        still counts a vote cast late on New Year's Eve in UTC wherever the
        committee sits: one clock for everyone avoids arguing over midnight.
        """
        day = at.astimezone(UTC).date()
        if self.term_from is not None and day < self.term_from:
            return "term not started"
        if self.term_until is not None and day > self.term_until:
            return "term ended"
        return "member"


def _norm(forge: str, account: str) -> str:
    return account.casefold() if forge in CASE_INSENSITIVE else account


@dataclass(frozen=True)
class Committee:
    """The roster, indexed once: each lookup is a dict probe, whatever the size.

    An account may appear in several entries (a member re-elected after a
    gap); the entry whose term covers the moment wins.
    """

    members: tuple[Member, ...] = ()
    roles: tuple[Role, ...] = DEFAULT_ROLES
    timezone: str = "UTC"
    _index: dict[tuple[str, str], tuple[Member, ...]] = field(init=False, repr=False, compare=False)
    _logins: dict[tuple[str, str], tuple[Member, ...]] = field(
        init=False, repr=False, compare=False
    )
    _roles: dict[str, Role] = field(init=False, repr=False, compare=False)
    by_name: tuple[Member, ...] = field(init=False, repr=False, compare=False)
    tz: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], list[Member]] = {}
        logins: dict[tuple[str, str], list[Member]] = {}
        for m in self.members:
            for forge in FORGES:
                account_id = m.account_id(forge)
                if account_id:
                    index.setdefault((forge, account_id), []).append(m)
                login = m.account(forge)
                if login:
                    logins.setdefault((forge, _norm(forge, login)), []).append(m)
        try:
            tz: tzinfo = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown or malformed: UTC
            tz = UTC
        by_name = sorted(self.members, key=lambda m: (m.name.casefold(), m.name))
        set_ = object.__setattr__
        set_(self, "_index", {k: tuple(v) for k, v in index.items()})
        set_(self, "_logins", {k: tuple(v) for k, v in logins.items()})
        set_(self, "_roles", {r.name: r for r in self.roles})
        set_(self, "by_name", tuple(by_name))
        set_(self, "tz", tz)

    def entry_for(
        self, forge: str, account_id: str, at: datetime, login: str = ""
    ) -> tuple[Member | None, str]:
        """The roster entry of an account id and its standing at ``at``.

        The standing is "member", "term ended", "term not started" or "not on
        the committee"; an entry is returned even when its term does not cover
        ``at``, so a table can say *why* a vote stopped counting. Only the id
        identifies: a ``login`` that names a member under another account id
        (a renamed or taken-over login) never counts, and the standing says so.
        """
        found, standing = None, "not on the committee"
        for m in self._index.get((forge, account_id), ()) if account_id else ():
            standing = m.standing(at)
            if standing == "member":
                return m, standing
            found = m
        if found is None and login:
            for m in self._logins.get((forge, _norm(forge, login)), ()):
                recorded = m.account_id(forge)
                standing = (
                    f"not on the committee: {m.name}'s login, but account {recorded} is theirs"
                    if recorded
                    else f"not on the committee: {m.name} has no {forge} account id on record"
                )
                break
        return found, standing

    def member_for(
        self, forge: str, account_id: str, at: datetime, login: str = ""
    ) -> Member | None:
        member, standing = self.entry_for(forge, account_id, at, login)
        return member if standing == "member" else None

    def may(self, member: Member, action: str) -> bool:
        return any(action in self._roles[r].may for r in member.roles if r in self._roles)

    def roles_that_may(self, action: str) -> tuple[str, ...]:
        return tuple(r.name for r in self.roles if action in r.may)

    @classmethod
    def from_data(cls, data: Any) -> Committee:
        d = _d(data)
        raw_roles = _d(d.get("roles"))
        roles = (
            tuple(
                Role(
                    str(n), str(_d(b).get("description") or ""), frozenset(_strs(_d(b).get("may")))
                )
                for n, b in raw_roles.items()
            )
            if raw_roles
            else DEFAULT_ROLES
        )
        members = tuple(m for m in map(_member, _l(d.get("members"))) if m is not None)
        tz = d.get("timezone")
        return cls(members, roles, tz if isinstance(tz, str) and tz else "UTC")


def _member(data: Any) -> Member | None:
    d = _d(data)
    name = d.get("name")
    if not isinstance(name, str) or not name:
        return None
    term = _d(d.get("term"))
    return Member(
        name=name,
        github=_str(d.get("github")),
        gerrit=_str(d.get("gerrit")),
        roles=tuple(_strs(d.get("roles"))),
        term_from=day_of(term.get("from")),
        term_until=day_of(term.get("until")),
        github_id=_id(d.get("github_id")),
        gerrit_id=_id(d.get("gerrit_id")),
    )


def _id(v: Any) -> str | None:
    """An account id as written (an integer, or its digits quoted): always its digits."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int) and v > 0:
        return str(v)
    if isinstance(v, str) and v.strip().isdigit():
        return str(int(v.strip()))
    return None


@dataclass(frozen=True)
class VoteRule:
    """What a review needs to pass; see schemas/voting.schema.json for each field."""

    quorum: int = 1
    ratio: Fraction = Fraction(1, 2)
    of: str = "cast"  # "cast": of binding non-zero votes; "committee": of active members
    strict: bool = False  # True: more than ``ratio`` (a majority), not at least
    approvals: tuple[tuple[str, int], ...] = ()
    veto: frozenset[str] = frozenset()
    min_days_open: float = 0.0
    stale_on_change: bool = True
    closes_after_days: float | None = None
    """The vote's closing date, counted from its opening: then it is decided, met or not."""
    business_days: bool = False
    """min_days_open and closes_after_days count business days of the committee's calendar."""

    @classmethod
    def from_data(cls, data: Any) -> VoteRule:
        """One rule as voting.yaml writes it (also the approval rule of certification.yaml)."""
        return _rule(data)

    def describe_threshold(self) -> str:
        whom = "the committee" if self.of == "committee" else "binding votes cast"
        return f"{'more than' if self.strict else 'at least'} {self.ratio} of {whom}"


@dataclass(frozen=True)
class ChangePattern:
    """``kind[@path][:after]``, e.g. ``guideline.field@status:approved``.

    ``path`` is the Change's key path joined with dots; path and after are
    fnmatch patterns, and ``after`` is compared with the value as YAML writes
    it (``null``, ``true``, ``approved``).
    """

    kind: str
    path: str | None = None
    after: str | None = None

    @classmethod
    def parse(cls, text: str) -> ChangePattern:
        head, _, after = text.partition(":")
        kind, _, path = head.partition("@")
        return cls(kind, path or None, after if ":" in text else None)

    def matches(self, c: Change) -> bool:
        if c.kind != self.kind:
            return False
        if self.path is not None and not _glob(self.path).match(".".join(map(str, c.path))):
            return False
        return self.after is None or bool(_glob(self.after).match(_scalar(c.after)))


# The only changes a class for editorial fixes may take: wording. Anything else a
# change does (must-pass tests, statuses, scores, criteria, the cut-off, programs,
# designated sections, approval metadata, policies) is substantive.
EDITORIAL_CHANGES: dict[str, frozenset[str]] = {
    "capability.field": frozenset({"description", "name"}),
    "criterion.changed": frozenset({"description", "name"}),
    "guideline.field": frozenset({"source"}),
}


def substantive(c: Change) -> bool:
    """Whether a change can alter what a product must do or how the committee decides."""
    allowed = EDITORIAL_CHANGES.get(c.kind)
    return allowed is None or not c.path or str(c.path[-1]) not in allowed


def _policy_path(path: str) -> bool:
    return path.startswith(("policies/", "schemas/"))


@dataclass(frozen=True)
class VoteClass:
    """A kind of change and its rule. It matches when any path glob matches a
    changed path or any change pattern matches a change; an empty ``match``
    matches nothing (such a class is only reached as the default).

    A class is *editorial* when it says so (``editorial: true``) or when its
    votes survive content changes (``stale_on_change: false``): such a class
    never judges a substantive change (see :meth:`VotingPolicy.classify`).
    """

    name: str
    rule: VoteRule = VoteRule()
    description: str = ""
    paths: tuple[str, ...] = ()
    changes: tuple[ChangePattern, ...] = ()
    editorial_declared: bool = False

    @property
    def editorial(self) -> bool:
        return self.editorial_declared or not self.rule.stale_on_change

    @property
    def strictness(self) -> tuple[float, int, Fraction]:
        r = self.rule
        return (r.min_days_open, r.quorum, r.ratio)

    def matches(self, paths: list[str], changes: list[Change]) -> bool:
        globs = [_glob(p) for p in self.paths]
        return any(g.match(p) for g in globs for p in paths) or any(
            pat.matches(c) for pat in self.changes for c in changes
        )


FALLBACK = VoteClass(
    "default", VoteRule(strict=True), "built-in: the voting policy names no usable default"
)


@dataclass(frozen=True)
class VotingPolicy:
    classes: tuple[VoteClass, ...] = ()
    default_class: str = FALLBACK.name
    substantive_class: str | None = None
    # Gerrit: a TRIVIAL_REBASE / NO_CODE_CHANGE patch set keeps the prior one's votes
    trivial_rebase_keeps_votes: bool = True

    def classify(
        self, paths: Iterable[str], changes: Iterable[Change], ambiguous: bool = False
    ) -> VoteClass:
        """The first class that matches, else the default class; never an editorial one
        for a substantive change.

        A change to must-pass tests, statuses, criteria, the cut-off or a policy
        file is never judged as editorial, whatever the policy's patterns say:
        if the match (or the default) is editorial, the strictest class that is
        not (longest review period, then quorum, then ratio) judges instead.
        Nor is an ``ambiguous`` change: one leaving a changed file that does not
        read one way (a duplicate key: ``cutoff_score: 74`` then ``cutoff_score:
        10``), whose meaning to other readers the structural diff cannot show.
        """
        paths, changes = list(paths), list(changes)
        chosen = next((vc for vc in self.classes if vc.matches(paths, changes)), self.default)
        if chosen.editorial and (
            ambiguous or any(substantive(c) for c in changes) or any(_policy_path(p) for p in paths)
        ):
            return self.substantive
        return chosen

    @property
    def substantive(self) -> VoteClass:
        """The class for a change that is not wording: ``substantive_class``, else the
        strictest class that is not editorial. Also what judges a revision whose class
        could not be decided (its files could not be read): never the editorial one."""
        strict = [vc for vc in self.classes if not vc.editorial]
        named = next((vc for vc in strict if vc.name == self.substantive_class), None)
        if named is not None:
            return named
        return max(strict, key=lambda vc: vc.strictness) if strict else FALLBACK

    @property
    def default(self) -> VoteClass:
        return next((c for c in self.classes if c.name == self.default_class), FALLBACK)

    @classmethod
    def from_data(cls, data: Any) -> VotingPolicy:
        d = _d(data)
        classes = tuple(c for c in map(_vote_class, _l(d.get("classes"))) if c is not None)
        default = d.get("default_class")
        substantive_class = d.get("substantive_class")
        keeps = d.get("trivial_rebase_keeps_votes", True)
        return cls(
            classes,
            default if isinstance(default, str) else FALLBACK.name,
            substantive_class if isinstance(substantive_class, str) else None,
            keeps is True,  # anything but a boolean is the schema's error: the stricter reading
        )


def _vote_class(data: Any) -> VoteClass | None:
    d = _d(data)
    name = d.get("name")
    if not isinstance(name, str) or not name:
        return None
    match = _d(d.get("match"))
    return VoteClass(
        name=name,
        rule=_rule(d.get("rule")),
        description=str(d.get("description") or ""),
        paths=tuple(_strs(match.get("paths"))),
        changes=tuple(ChangePattern.parse(s) for s in _strs(match.get("changes"))),
        editorial_declared=d.get("editorial") is True,
    )


def _rule(data: Any) -> VoteRule:
    d, default = _d(data), VoteRule()
    threshold = _d(d.get("threshold"))
    approvals = _d(d.get("approvals"))
    return VoteRule(
        quorum=_int(d.get("quorum"), default.quorum),
        ratio=_ratio(threshold.get("ratio"), default.ratio),
        of=str(threshold["of"]) if threshold.get("of") in ("cast", "committee") else default.of,
        strict=threshold.get("strict", not threshold) is True,  # no threshold: a majority
        approvals=tuple(sorted((str(r), n) for r, v in approvals.items() if (n := _int(v, 0)) > 0)),
        veto=frozenset(_strs(d.get("veto"))),
        min_days_open=max(0.0, _num(d.get("min_days_open"), default.min_days_open)),
        stale_on_change=d.get("stale_on_change") is not False,  # the safe default
        closes_after_days=(
            max(0.0, _num(d.get("closes_after_days"), 0.0))
            if d.get("closes_after_days") is not None
            else None
        ),
        business_days=d.get("business_days") is True,
    )


def _ratio(value: Any, default: Fraction) -> Fraction:
    """A number or "n/d"; numbers are exact decimals (0.667 is 667/1000: write 2/3)."""
    try:
        if isinstance(value, bool):
            return default
        r = Fraction(str(value)) if isinstance(value, (int, float, str)) else default
    except (ValueError, ZeroDivisionError, OverflowError):
        return default
    return r if 0 < r <= 1 else default


def _scalar(v: Any) -> str:
    return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """fnmatch, case-sensitive, compiled once per pattern (``*`` crosses ``/``)."""
    return re.compile(translate(pattern))


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _strs(v: Any) -> list[str]:
    return [x for x in _l(v) if isinstance(x, str)]


def _int(v: Any, default: int) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else default


def _num(v: Any, default: float) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def day_of(v: Any) -> date | None:
    """A day as a policy file writes it: YAML 1.2 (ryaml) gives "2024-01-31", PyYAML a
    date. None for anything else (a bad value is no bound)."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(v) if isinstance(v, str) else None
    except ValueError:
        return None
