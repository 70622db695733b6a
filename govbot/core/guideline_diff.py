"""What changed between two guidelines, as a vendor reads it: the diff page of the site.

Not the check's structural diff (``govbot.core.diff``, every key of a change
for the committee): this answers "what must my product do differently under
the newer guideline?" Capabilities added or removed, promoted (towards
required) or demoted (away from it), and tests added or removed, each test
followed by identity (its idempotent id, else its name, 2017A A2.4) so a
renamed test is neither added nor removed. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RANK = {"required": 3, "advisory": 2, "deprecated": 1, "removed": 0}
"""A capability's standing: promoted moves up this ladder, demoted moves down. A capability
newly listed as ``removed`` was never in the older guideline's lists: it is no change for a
product (the release notes once called such records "added")."""


@dataclass(frozen=True)
class StatusChange:
    capability: str
    before: str
    after: str


@dataclass(frozen=True)
class TestChange:
    capability: str
    test: str


@dataclass
class GuidelineDiff:
    before: str
    after: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (capability, status)
    removed: list[tuple[str, str]] = field(default_factory=list)
    promoted: list[StatusChange] = field(default_factory=list)
    demoted: list[StatusChange] = field(default_factory=list)
    tests_added: list[TestChange] = field(default_factory=list)
    tests_removed: list[TestChange] = field(default_factory=list)
    flagged: list[TestChange] = field(default_factory=list)  # newly flagged
    unflagged: list[TestChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.added,
                self.removed,
                self.promoted,
                self.demoted,
                self.tests_added,
                self.tests_removed,
                self.flagged,
                self.unflagged,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        def tests(items: list[TestChange]) -> list[dict[str, str]]:
            return [{"capability": t.capability, "test": t.test} for t in items]

        def moves(items: list[StatusChange]) -> list[dict[str, str]]:
            return [{"capability": s.capability, "from": s.before, "to": s.after} for s in items]

        return {
            "from": self.before,
            "to": self.after,
            "capabilities": {
                "added": [{"capability": c, "status": s} for c, s in self.added],
                "removed": [{"capability": c, "status": s} for c, s in self.removed],
                "promoted": moves(self.promoted),
                "demoted": moves(self.demoted),
            },
            "tests": {
                "added": tests(self.tests_added),
                "removed": tests(self.tests_removed),
                "flagged": tests(self.flagged),
                "unflagged": tests(self.unflagged),
            },
        }


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def statuses(g: dict[str, Any]) -> dict[str, str]:
    """Each capability's highest status over the guideline's components."""
    out: dict[str, str] = {}
    for component in _d(g.get("components")).values():
        for status, names in _d(_d(component).get("capabilities")).items():
            if status not in RANK or not isinstance(names, list):
                continue
            for name in names:
                key = str(name)
                if key not in out or RANK[status] > RANK[out[key]]:
                    out[key] = status
    return out


def tests(g: dict[str, Any]) -> dict[str, tuple[str, str, bool]]:
    """identity -> (capability, name as listed, flagged) of every test of a guideline."""
    found: dict[str, tuple[str, str, bool]] = {}
    for cap, body in sorted(_d(g.get("capabilities")).items()):
        for name, details in _d(_d(body).get("tests")).items():
            d = _d(details)
            ident = str(d.get("idempotent_id") or name).removeprefix("id-")
            found.setdefault(ident, (str(cap), str(name), bool(d.get("flagged"))))
    return found


def compare(before: dict[str, Any], after: dict[str, Any]) -> GuidelineDiff:
    """``after`` against ``before`` (an older guideline, usually its predecessor)."""
    diff = GuidelineDiff(str(before.get("id") or "?"), str(after.get("id") or "?"))
    # A capability listed as removed is not one a product must have: it is absent.
    listed_old, listed_new = statuses(before), statuses(after)
    old = {c: s for c, s in listed_old.items() if s != "removed"}
    new = {c: s for c, s in listed_new.items() if s != "removed"}
    for cap in sorted(new.keys() - old.keys()):
        diff.added.append((cap, new[cap]))
    for cap in sorted(old.keys() - new.keys()):
        diff.removed.append((cap, f"was {old[cap]}"))
    for cap in sorted(old.keys() & new.keys()):
        if RANK[new[cap]] > RANK[old[cap]]:
            diff.promoted.append(StatusChange(cap, old[cap], new[cap]))
        elif RANK[new[cap]] < RANK[old[cap]]:
            diff.demoted.append(StatusChange(cap, old[cap], new[cap]))
    a, b = tests(before), tests(after)

    def change(entry: tuple[str, str, bool]) -> TestChange:
        return TestChange(entry[0], entry[1])

    diff.tests_added = sorted((change(b[i]) for i in b.keys() - a.keys()), key=_order)
    diff.tests_removed = sorted((change(a[i]) for i in a.keys() - b.keys()), key=_order)
    for i in a.keys() & b.keys():
        if b[i][2] and not a[i][2]:
            diff.flagged.append(change(b[i]))
        elif a[i][2] and not b[i][2]:
            diff.unflagged.append(change(b[i]))
    diff.flagged.sort(key=_order)
    diff.unflagged.sort(key=_order)
    return diff


def _order(t: TestChange) -> tuple[str, str]:
    return (t.capability, t.test)
