"""The interop process rules (2017A) as small pure functions over guidelines.

Two kinds of rule:

* *state* rules judge a guideline against its predecessor (``next`` against the
  newest approved guideline, ``2020.06`` against the approved one before it,
  ``dns.next`` against the newest approved DNS add-on). They run on the base
  and on the head, and only what the head adds is reported: a change answers
  for what it introduces, not for the history it inherits.
* *transition* rules judge the step from base to head of one guideline
  (immutability, status transitions, frozen criteria).

Every hit carries a fingerprint (what it is about), a message saying what was
found, and a fix; the rule adds its id and its text from the process document.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from govbot.core.diff import component_statuses, section_statuses
from govbot.core.findings import KeyPath, Severity
from govbot.core.mustpass import is_flagged

GuidelineData = Mapping[str, Any]
KEY = re.compile(r"^(?:(?P<family>[a-z][a-z0-9_-]*)\.)?(?P<version>\d{4}\.\d{2}|next)$")
FROZEN = ("approved", "superseded")


@dataclass(frozen=True)
class Hit:
    path: KeyPath
    message: str
    fix: str
    fingerprint: tuple[Any, ...]


@dataclass(frozen=True)
class StateContext:
    key: str
    guideline: GuidelineData
    predecessor: GuidelineData | None
    predecessor_key: str | None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransitionContext:
    key: str
    base: GuidelineData | None
    head: GuidelineData | None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    severity: Severity
    kind: str  # "state" or "transition"
    check: Callable[[Any], Iterator[Hit]]


def split_key(key: str) -> tuple[str, str] | None:
    m = KEY.match(key)
    return (m.group("family") or "", m.group("version")) if m else None


def predecessors(docs: Mapping[str, GuidelineData]) -> dict[str, str | None]:
    """A1.1: each guideline's predecessor, the previous Board-approved one of its family.

    ``next`` follows the newest approved guideline; a dated one, the newest
    approved guideline dated before it. One pass and a sort per family, since a
    repo holds every guideline ever approved.
    """
    approved: dict[str, list[tuple[str, str]]] = {}
    for key, g in docs.items():
        parts = split_key(key)
        if parts and parts[1] != "next" and g.get("status") in FROZEN:
            approved.setdefault(parts[0], []).append((parts[1], key))
    for versions in approved.values():
        versions.sort()
    out: dict[str, str | None] = {}
    for key in docs:
        parts = split_key(key)
        family = approved.get(parts[0], []) if parts else []
        if parts is None or not family:
            out[key] = None
            continue
        i = len(family) if parts[1] == "next" else bisect_left(family, (parts[1], ""))
        out[key] = family[i - 1][1] if i > 0 else None
    return out


def predecessor(key: str, docs: Mapping[str, GuidelineData]) -> str | None:
    return predecessors(docs).get(key)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _where(statuses: Mapping[tuple[str, str], str], comp: str, cap: str) -> str:
    return statuses.get((comp, cap), "absent")


# -- state rules ---------------------------------------------------------------


def capability_removal(ctx: StateContext) -> Iterator[Hit]:
    if ctx.predecessor is None:
        return
    before, after = component_statuses(ctx.predecessor), component_statuses(ctx.guideline)
    for (comp, cap), status in sorted(before.items()):
        now = _where(after, comp, cap)
        # leaving the required set any other way than through deprecation removes it
        if status == "required" and now not in ("required", "deprecated"):
            yield Hit(
                ("components", comp, "capabilities", now if now != "absent" else "required"),
                f"capability {cap!r} was required in {ctx.predecessor_key} and is {now} in {ctx.key} ({comp})",
                f"keep it required and list it as deprecated in {ctx.key} first; remove it in the guideline after",
                (comp, cap, now),
            )


def capability_addition(ctx: StateContext) -> Iterator[Hit]:
    before = component_statuses(ctx.predecessor) if ctx.predecessor is not None else None
    if before is None:
        return
    for (comp, cap), status in sorted(component_statuses(ctx.guideline).items()):
        was = _where(before, comp, cap)
        if status == "required" and was not in ("required", "advisory"):
            yield Hit(
                ("components", comp, "capabilities", "required"),
                f"capability {cap!r} is required in {ctx.key} ({comp}) but was {was} in {ctx.predecessor_key}",
                f"list it as advisory in {ctx.key}; it can become required in the guideline after",
                (comp, cap),
            )


def section_removal(ctx: StateContext) -> Iterator[Hit]:
    if ctx.predecessor is None:
        return
    before, after = section_statuses(ctx.predecessor), section_statuses(ctx.guideline)
    for project, statuses in sorted(before.items()):
        if (
            "required" in statuses
            and "required" not in after.get(project, set())
            and "deprecated" not in statuses
        ):
            yield Hit(
                ("designated_sections", project),
                f"designated sections of {project!r} were required in {ctx.predecessor_key} and are not in {ctx.key}",
                f"mark them deprecated in {ctx.key} first",
                (project,),
            )


def section_addition(ctx: StateContext) -> Iterator[Hit]:
    if ctx.predecessor is None:
        return
    before, after = section_statuses(ctx.predecessor), section_statuses(ctx.guideline)
    for project, statuses in sorted(after.items()):
        was = before.get(project, set())
        if "required" in statuses and "required" not in was and "advisory" not in was:
            yield Hit(
                ("designated_sections", project, "required"),
                f"designated sections of {project!r} are required in {ctx.key} but were not advisory in {ctx.predecessor_key}",
                f"make them advisory in {ctx.key}; they can become required in the guideline after",
                (project,),
            )


def criteria_approval(ctx: StateContext) -> Iterator[Hit]:
    if ctx.predecessor is None:
        return
    before = _d(_d(ctx.predecessor.get("scoring")).get("criteria"))
    after = _d(_d(ctx.guideline.get("scoring")).get("criteria"))
    for name in sorted(before.keys() | after.keys()):
        b, a = _d(before.get(name)), _d(after.get(name))
        if (b.get("name"), b.get("weight")) != (a.get("name"), a.get("weight")):
            yield Hit(
                ("scoring", "criteria", name),
                f"scoring criterion {name!r} differs from {ctx.predecessor_key} "
                f"({b.get('name')}/{b.get('weight')} -> {a.get('name')}/{a.get('weight')})",
                "record the Board's approval of the new criteria in the change description",
                (name, a.get("name"), a.get("weight")),
            )


def score(cap: GuidelineData, weights: Mapping[str, int]) -> int:
    return sum(weights.get(a, 0) for a in cap.get("achievements") or [] if isinstance(a, str))


def scored(g: GuidelineData) -> Iterator[tuple[str, str, str, int, int]]:
    """(component, capability, status, score, cut-off) for every listed capability (A4.1, A4.4)."""
    scoring = _d(g.get("scoring"))
    limit = scoring.get("cutoff_score")
    if not isinstance(limit, int):
        return
    criteria = _d(scoring.get("criteria")).items()
    weights = {k: v.get("weight", 0) for k, v in criteria if isinstance(v, dict)}
    caps = _d(g.get("capabilities"))
    for (comp, cap), status in sorted(component_statuses(g).items()):
        body = caps.get(cap)
        if isinstance(body, dict):
            yield comp, cap, status, score(body, weights), limit


def cutoff(ctx: StateContext) -> Iterator[Hit]:
    for comp, cap, status, points, limit in scored(ctx.guideline):
        if status == "required" and points < limit:
            yield Hit(
                ("capabilities", cap, "achievements"),
                f"required capability {cap!r} ({comp}) scores {points}, below the cut-off {limit}",
                "record the achievements that justify it, or list it as advisory",
                (comp, cap),
            )


def candidates(ctx: StateContext) -> Iterator[Hit]:
    for comp, cap, status, points, limit in scored(ctx.guideline):
        if status == "advisory" and points >= limit:
            yield Hit(
                ("capabilities", cap),
                f"advisory capability {cap!r} ({comp}) scores {points}, at or above the cut-off {limit}",
                f"consider making it required in the guideline after {ctx.key}",
                (comp, cap),
            )


def _test_ids(g: GuidelineData) -> tuple[dict[str, str], dict[str, str]]:
    by_name: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for body in _d(g.get("capabilities")).values():
        for test, details in _d(_d(body).get("tests")).items():
            ident = _d(details).get("idempotent_id")
            if isinstance(ident, str) and ident:
                by_name.setdefault(test, ident)
                by_id.setdefault(ident, test)
    return by_name, by_id


def durable_test_ids(ctx: StateContext) -> Iterator[Hit]:
    if ctx.predecessor is None:
        return
    old_by_name, old_by_id = _test_ids(ctx.predecessor)
    new_by_name, _ = _test_ids(ctx.guideline)
    for cap, body in sorted(_d(ctx.guideline.get("capabilities")).items()):
        for test, details in _d(_d(body).get("tests")).items():
            ident = _d(details).get("idempotent_id")
            path: KeyPath = ("capabilities", cap, "tests", test, "idempotent_id")
            if test in old_by_name and isinstance(ident, str) and ident != old_by_name[test]:
                yield Hit(
                    path,
                    f"test {test!r} had idempotent id {old_by_name[test]} in {ctx.predecessor_key}, now {ident}",
                    f"keep {old_by_name[test]}: the id is what follows a test across guidelines",
                    ("changed", test, ident),
                )
            owner = old_by_id.get(ident) if isinstance(ident, str) else None
            if owner is not None and owner != test and owner in new_by_name:
                yield Hit(
                    path,
                    f"idempotent id {ident} of {test!r} named {owner!r} in {ctx.predecessor_key}, which is still listed",
                    "give the new test its own id (a renamed test keeps its id and drops the old name)",
                    ("reused", test, ident),
                )


def flag_details(ctx: StateContext) -> Iterator[Hit]:
    for cap, body in sorted(_d(ctx.guideline.get("capabilities")).items()):
        for test, details in _d(_d(body).get("tests")).items():
            if not is_flagged(_d(details)):
                continue
            flag = _d(_d(details).get("flagged"))
            missing = [k for k in ("reason", "action") if not flag.get(k)]
            if missing:
                yield Hit(
                    ("capabilities", cap, "tests", test, "flagged"),
                    f"flagged test {test!r} has no {' and no '.join(missing)}",
                    "say why the test is flagged (reason) and what will happen to it (action)",
                    (cap, test, tuple(missing)),
                )


def all_tests_flagged(ctx: StateContext) -> Iterator[Hit]:
    statuses = component_statuses(ctx.guideline)
    for cap, body in sorted(_d(ctx.guideline.get("capabilities")).items()):
        tests = _d(_d(body).get("tests"))
        required = any(s == "required" and c == cap for (_, c), s in statuses.items())
        if required and tests and all(is_flagged(_d(t)) for t in tests.values()):
            yield Hit(
                ("capabilities", cap, "tests"),
                f"every test of required capability {cap!r} is flagged, so it tests nothing",
                "unflag a test, add a working one, or deprecate the capability",
                (cap,),
            )


# -- transition rules ------------------------------------------------------------


def _without_status(g: GuidelineData) -> dict[str, Any]:
    return {k: v for k, v in g.items() if k != "status"}


def immutable(ctx: TransitionContext) -> Iterator[Hit]:
    if ctx.base is None or ctx.base.get("status") not in FROZEN:
        return
    if ctx.head is None:
        yield Hit(
            (),
            f"{ctx.key} is {ctx.base.get('status')} and this change deletes it",
            "restore the file",
            ("deleted",),
        )
        return
    changed = sorted(
        k
        for k in _without_status(ctx.base).keys() | _without_status(ctx.head).keys()
        if ctx.base.get(k) != ctx.head.get(k)
    )
    if changed:
        yield Hit(
            (changed[0],),
            f"{ctx.key} is {ctx.base.get('status')} and this change edits it ({', '.join(changed)})",
            "make the change in next instead; an approved guideline only changes status (to superseded)",
            tuple(changed),
        )


def status_transition(ctx: TransitionContext) -> Iterator[Hit]:
    allowed: Mapping[str, list[str]] = ctx.params.get("transitions", {})
    initial: list[str] = ctx.params.get("initial", ["draft"])
    after = ctx.head.get("status") if ctx.head is not None else None
    if ctx.base is None:
        if ctx.head is not None and after not in initial:
            yield Hit(
                ("status",),
                f"new guideline {ctx.key} starts as {after}",
                f"start it as one of: {', '.join(initial)}",
                (after,),
            )
        return
    before = ctx.base.get("status")
    if ctx.head is None or before == after:
        return
    if after not in allowed.get(str(before), []):
        legal = ", ".join(allowed.get(str(before), [])) or "nothing"
        yield Hit(
            ("status",),
            f"{ctx.key} moves from {before} to {after}",
            f"from {before} it may move to: {legal}",
            (before, after),
        )


def criteria_frozen(ctx: TransitionContext) -> Iterator[Hit]:
    if ctx.base is None or ctx.head is None or ctx.base.get("status") in (None, "draft"):
        return
    b = _d(_d(ctx.base.get("scoring")).get("criteria"))
    h = _d(_d(ctx.head.get("scoring")).get("criteria"))
    for name in sorted(b.keys() | h.keys()):
        if (_d(b.get(name)).get("name"), _d(b.get(name)).get("weight")) != (
            _d(h.get(name)).get("name"),
            _d(h.get(name)).get("weight"),
        ):
            yield Hit(
                ("scoring", "criteria", name),
                f"criterion {name!r} of {ctx.key} changes after the draft was published (status {ctx.base.get('status')})",
                "keep the published criteria; propose new ones for the next guideline",
                (name,),
            )


def starts_from_previous(ctx: StateContext) -> Iterator[Hit]:
    if ctx.predecessor_key is None:
        return
    replaces = ctx.guideline.get("replaces")
    if replaces != ctx.predecessor_key:
        yield Hit(
            ("replaces",),
            f"{ctx.key} replaces {replaces!r}, but the newest approved guideline before it is {ctx.predecessor_key}",
            f"start {ctx.key} from {ctx.predecessor_key} and set replaces: '{ctx.predecessor_key}'",
            (replaces, ctx.predecessor_key),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "2017A.A1.1",
        "New Guidelines start from the previous Board approved document.",
        Severity.WARNING,
        "state",
        starts_from_previous,
    ),
    Rule(
        "2017A.A2.4",
        "Tests must have unique identifiers that are durable across releases and changes in grouping.",
        Severity.ERROR,
        "state",
        durable_test_ids,
    ),
    Rule(
        "2017A.A3.1",
        "Designated Sections will not be removed without being deprecated in the previous Guideline.",
        Severity.ERROR,
        "state",
        section_removal,
    ),
    Rule(
        "2017A.A3.2",
        "Designated Sections will not be added without being advisory in the previous Guideline.",
        Severity.ERROR,
        "state",
        section_addition,
    ),
    Rule(
        "2017A.A4.1",
        "The Interop Working Group uses Board approved scoring criteria to evaluate Capabilities.",
        Severity.NOTICE,
        "state",
        candidates,
    ),
    Rule(
        "2017A.A4.2",
        "The Interop Working Group needs Board approval to change scoring criteria.",
        Severity.WARNING,
        "state",
        criteria_approval,
    ),
    Rule(
        "2017A.A4.3",
        "Scoring criteria factors or weights cannot change after Draft is published.",
        Severity.ERROR,
        "transition",
        criteria_frozen,
    ),
    Rule(
        "2017A.A4.4",
        "The Interop Working Group identifies a cut-off score for determining that a Capability is required.",
        Severity.WARNING,
        "state",
        cutoff,
    ),
    Rule(
        "2017A.A4.5",
        "Capabilities will not be removed without being deprecated in the previous Guideline.",
        Severity.ERROR,
        "state",
        capability_removal,
    ),
    Rule(
        "2017A.A4.6",
        "Capabilities will not be added without being advisory in the previous Guideline.",
        Severity.ERROR,
        "state",
        capability_addition,
    ),
    Rule(
        "2017A.C3.2",
        "The Interop Working Group may choose to remove tests from a Guideline (known as flagging).",
        Severity.ERROR,
        "state",
        flag_details,
    ),
    Rule(
        "govbot.all-tests-flagged",
        "A required capability must keep at least one test that vendors run.",
        Severity.WARNING,
        "state",
        all_tests_flagged,
    ),
    Rule(
        "govbot.immutable",
        "An approved guideline is what vendors were certified against: its content never changes.",
        Severity.ERROR,
        "transition",
        immutable,
    ),
    Rule(
        "govbot.status-transition",
        "A guideline moves draft -> review -> approved -> superseded.",
        Severity.ERROR,
        "transition",
        status_transition,
    ),
)
RULES_BY_ID = {r.id: r for r in RULES}
