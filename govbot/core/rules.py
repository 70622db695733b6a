"""The interop process rules as small pure functions over guidelines.

Each :class:`Rule` carries the paragraph it enforces, as the current process
(2017A) numbers and words it; a change is judged by the process era in force
at its date (:mod:`govbot.core.eras`), which cites the same paragraph in its
own words (``2015B.A4.5``), or drops the rule where the era had no such
paragraph.

Two kinds of rule:

* *state* rules judge a guideline against its predecessor (``next`` against the
  newest approved guideline, ``2020.06`` against the approved one before it,
  ``dns.next`` against the newest approved DNS add-on). The checker runs them
  on the base and on the head and reports only what the head adds: a change
  answers for what it introduces, not for the history it inherits.
* *transition* rules judge the step from base to head of one guideline
  (status moves, what may change in an approved guideline, frozen criteria).

The rules compare what guidelines *require* (:mod:`govbot.core.content`), not
how their schema spelled it, so a 2015 guideline (schema 1.2) and its 2015
successor (1.3) are compared test by test, and a capability regrouped with
its tests carried over (A2.3: "Groupings may change between iterations") is
not a capability removed.

Every hit carries a fingerprint (what it is about), a message saying what was
found, and a fix; the checker adds the rule's id and text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from govbot.core.content import (
    TestIndex,
    aliases_of,
    capability_statuses,
    capability_tests,
    cutoff_of,
    d,
    designated_sections,
    method_of,
    scoring_weights,
    test_id,
    tests_with_status,
)
from govbot.core.eras import GOVBOT_SCHEMA, ProcessEra, SchemaEra
from govbot.core.findings import KeyPath, Severity
from govbot.core.layout import GUIDELINE_ID, is_draft_version
from govbot.core.mustpass import is_flagged
from govbot.core.timeline import Timeline

GuidelineData = Mapping[str, Any]
KEY = re.compile(rf"^{GUIDELINE_ID.pattern}$")
FROZEN = ("approved", "superseded")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Hit:
    path: KeyPath
    message: str
    fix: str
    fingerprint: tuple[Any, ...]
    excused: str | None = None
    """Why the letter of the rule is met but not its purpose (a regrouping): not
    reported, but still what the guideline was, so a later change that removes
    the excuse without touching the capability is not blamed for it."""


@dataclass(frozen=True)
class StateContext:
    key: str
    guideline: GuidelineData
    predecessor: GuidelineData | None
    predecessor_key: str | None
    params: Mapping[str, Any] = field(default_factory=dict)
    era: ProcessEra | None = None
    schema: SchemaEra = GOVBOT_SCHEMA


@dataclass(frozen=True)
class TransitionContext:
    key: str
    base: GuidelineData | None
    head: GuidelineData | None
    params: Mapping[str, Any] = field(default_factory=dict)
    era: ProcessEra | None = None
    base_schema: SchemaEra = GOVBOT_SCHEMA
    head_schema: SchemaEra = GOVBOT_SCHEMA

    @property
    def before(self) -> Any:
        """The base's status, in govbot's words ("superceded" is "superseded")."""
        return self.base_schema.status(self.base.get("status")) if self.base is not None else None

    @property
    def after(self) -> Any:
        return self.head_schema.status(self.head.get("status")) if self.head is not None else None


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    severity: Severity
    kind: str  # "state" or "transition"
    check: Callable[[Any], Iterator[Hit]]
    cites: str | None = None
    """For govbot's own rules: the paragraph that backs it in the eras that have one."""
    frozen_severity: Severity | None = None
    """The severity in an approved (or superseded) guideline, where it is history, if lower."""


def split_key(key: str) -> tuple[str, str] | None:
    m = KEY.match(key)
    return (m.group("family") or "", m.group("version")) if m else None


def is_draft(key: str) -> bool:
    parts = split_key(key)
    return parts is not None and is_draft_version(parts[1])


def predecessors(docs: Mapping[str, GuidelineData]) -> dict[str, str | None]:
    """A1.1: each guideline's predecessor, the previous Board-approved one of its family.

    A draft (``next``, 2015A's ``2015.next``) follows the newest approved
    guideline; a dated one, the newest approved guideline dated before it.
    One pass and a sort per family, since a repo holds every guideline ever
    approved. Statuses are expected in govbot's words (see :class:`SchemaEra`).
    """
    approved: dict[str, list[tuple[str, str]]] = {}
    for key, g in docs.items():
        parts = split_key(key)
        if parts and not is_draft_version(parts[1]) and g.get("status") in FROZEN:
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
        i = len(family) if is_draft_version(parts[1]) else bisect_left(family, (parts[1], ""))
        out[key] = family[i - 1][1] if i > 0 else None
    return out


def predecessor(key: str, docs: Mapping[str, GuidelineData]) -> str | None:
    return predecessors(docs).get(key)


# -- state rules ---------------------------------------------------------------


def _status_path(comp: str, status: str) -> KeyPath:
    return ("components", comp, "capabilities", status)


def _tests_of(cap: str, g: GuidelineData, index: TestIndex) -> set[str]:
    return {index.identity(t, details) for c, t, details in capability_tests(g) if c == cap}


def capability_removal(ctx: StateContext) -> Iterator[Hit]:
    """A4.5: a required capability leaves only through deprecation.

    A2.3 lets groupings change: a capability whose every test is still
    required (or deprecated) under other capabilities was regrouped: vendors
    lose no requirement they were told about, so nothing is removed.
    """
    if ctx.predecessor is None:
        return
    kept: set[str] | None = None  # the guideline's required-or-deprecated tests, when needed
    index = TestIndex.of(ctx.predecessor)
    before, after = capability_statuses(ctx.predecessor), capability_statuses(ctx.guideline)
    for cap, (status, comp) in sorted(before.items()):
        now, where = after.get(cap, ("absent", comp))
        # leaving the required set any other way than through deprecation removes it
        if status != "required" or now in ("required", "deprecated"):
            continue
        if kept is None:
            kept = tests_with_status(ctx.guideline, ("required", "deprecated"), index)
        tests = _tests_of(cap, ctx.predecessor, index)
        yield Hit(
            _status_path(where, now if now != "absent" else "required"),
            f"capability {cap!r} was required in {ctx.predecessor_key} and is {now} in {ctx.key} ({where})",
            f"keep it required and list it as deprecated in {ctx.key} first; remove it in the guideline after",
            (cap, now),
            "regrouped" if tests <= kept else None,
        )


def capability_addition(ctx: StateContext) -> Iterator[Hit]:
    """A4.6: a capability is advisory for one guideline before it is required.

    What the rule guards is vendors' notice: a capability made only of tests
    that were already required or advisory (a split, a merge, a rename: A2.3)
    asks nothing new of them, so it is a regrouping, not an addition.
    """
    if ctx.predecessor is None:
        return
    known: set[str] | None = None  # the predecessor's required-or-advisory tests, when needed
    index = TestIndex.of(ctx.predecessor)
    before, after = capability_statuses(ctx.predecessor), capability_statuses(ctx.guideline)
    for cap, (status, comp) in sorted(after.items()):
        was = before.get(cap, ("absent", ""))[0]
        if status != "required" or was in ("required", "advisory"):
            continue
        if known is None:
            known = tests_with_status(ctx.predecessor, ("required", "advisory"), index)
        tests = _tests_of(cap, ctx.guideline, index)
        yield Hit(
            _status_path(comp, "required"),
            f"capability {cap!r} is required in {ctx.key} ({comp}) but was {was} in {ctx.predecessor_key}",
            f"list it as advisory in {ctx.key}; it can become required in the guideline after",
            (cap,),
            "regrouped" if tests <= known else None,
        )


def _section_name(project: str, section: str | None) -> str:
    return f"{project!r}" if section is None else f"{section!r} of {project!r}"


def _section_path(project: str, status: str, section: str | None) -> KeyPath:
    base: KeyPath = ("designated_sections", project, status)
    return base if section is None else (*base, "sections", section)


def _sections(g: GuidelineData) -> dict[tuple[str, str | None], dict[str, bool]] | None:
    """Designated sections by (project, section); None when the guideline records none."""
    if not d(g.get("designated_sections")):
        return None
    return designated_sections(g)


def _state(entry: Mapping[str, bool] | None) -> str:
    if not entry:
        return "absent"
    return ", ".join(
        f"{s}" if designated else f"{s} (not designated)" for s, designated in sorted(entry.items())
    )


def section_removal(ctx: StateContext) -> Iterator[Hit]:
    """A3.1, per project and per section: a designation leaves only through deprecation.

    A project's required block designates its code by default ("designated
    except ..."); a named section marked ``designated: false`` is an
    exception. So a project's block dropped, or a designated section turned
    into an exception, removes a designation; a section no longer named falls
    back to its project's default and removes nothing. Listed as deprecated in
    the predecessor, it may go.
    """
    if ctx.predecessor is None:
        return
    before, after = _sections(ctx.predecessor), _sections(ctx.guideline)
    if before is None or after is None:
        return  # one side never recorded its sections: nothing to compare
    for (project, section), was in sorted(before.items(), key=str):
        if not was.get("required") or "deprecated" in was:
            continue
        now = after.get((project, section))
        if now is not None and (now.get("required") or "deprecated" in now):
            continue
        if section is not None and now is None:
            continue  # no longer named: its project's default designation covers it
        yield Hit(
            _section_path(project, "required", section),
            f"designated section {_section_name(project, section)} was required in "
            f"{ctx.predecessor_key} and is {_state(now)} in {ctx.key}",
            f"keep it and mark it deprecated in {ctx.key} first; remove it in the guideline after",
            (project, section, _state(now)),
        )


def section_addition(ctx: StateContext) -> Iterator[Hit]:
    """A3.2, per project and per section: a designation is advisory for one guideline first.

    A project's required block, or a section its predecessor excluded
    (``designated: false``) now designated, is an addition; naming a section
    the project's default already designated is not.
    """
    if ctx.predecessor is None:
        return
    before, after = _sections(ctx.predecessor), _sections(ctx.guideline)
    if before is None or after is None:
        return
    for (project, section), now in sorted(after.items(), key=str):
        if not now.get("required"):
            continue
        was = before.get((project, section))
        if was is not None and ("advisory" in was or was.get("required")):
            continue
        if section is not None and was is None:
            continue  # newly named: designated by its project's default, or the project is judged
        yield Hit(
            _section_path(project, "required", section),
            f"designated section {_section_name(project, section)} is required in {ctx.key} "
            f"but was {_state(was)} in {ctx.predecessor_key}",
            f"make it advisory in {ctx.key}; it can become required in the guideline after",
            (project, section),
        )


def criteria_approval(ctx: StateContext) -> Iterator[Hit]:
    if ctx.predecessor is None:
        return
    before = d(d(ctx.predecessor.get("scoring")).get("criteria"))
    after = d(d(ctx.guideline.get("scoring")).get("criteria"))
    wb, wa = scoring_weights(ctx.predecessor), scoring_weights(ctx.guideline)
    for name in sorted(before.keys() | after.keys()):
        b, a = d(before.get(name)), d(after.get(name))
        if (b.get("name"), wb.get(name)) != (a.get("name"), wa.get(name)):
            yield Hit(
                ("scoring", "criteria", name),
                f"scoring criterion {name!r} differs from {ctx.predecessor_key} "
                f"({b.get('name')}/{wb.get(name)} -> {a.get('name')}/{wa.get(name)})",
                "record the Board's approval of the new criteria in the change description",
                (name, a.get("name"), wa.get(name)),
            )


def score(cap: GuidelineData, weights: Mapping[str, Any]) -> int:
    return sum(
        w
        for a in cap.get("achievements") or []
        if isinstance(a, str) and isinstance(w := weights.get(a, 0), int)
    )


def scored(
    g: GuidelineData, default: int | None = None
) -> Iterator[tuple[str, str, str, int, int]]:
    """(component, capability, status, score, cut-off) for every listed capability (A4.4).

    The cut-off is the guideline's own, else ``default`` (the era's approved one):
    recording it for the first time (fbd9c0d, 2016) reveals no new shortfall.
    """
    limit = cutoff_of(g)
    limit = limit if isinstance(limit, int) else default
    if not isinstance(limit, int):
        return
    weights = scoring_weights(g)
    caps = d(g.get("capabilities"))
    for cap, (status, comp) in sorted(capability_statuses(g).items()):
        body = caps.get(cap)
        # no achievements at all (a typo'd key, c19e288) is unscored, not a score of 0:
        # the schema reports the missing key
        if isinstance(body, dict) and isinstance(body.get("achievements"), list):
            yield comp, cap, status, score(body, weights), limit


def _era_cutoff(ctx: StateContext) -> int | None:
    spec = ctx.era.scoring.get(kind_of(ctx.key)) if ctx.era is not None else None
    return spec.cutoff if spec is not None else None


def cutoff(ctx: StateContext) -> Iterator[Hit]:
    """A4.4: a required capability reaches the cut-off score."""
    for comp, cap, status, points, limit in scored(ctx.guideline, _era_cutoff(ctx)):
        if status == "required" and points < limit:
            yield Hit(
                ("capabilities", cap, "achievements"),
                f"required capability {cap!r} ({comp}) scores {points}, below the cut-off {limit}",
                "record the achievements that justify it, or list it as advisory",
                (cap,),
            )


def candidates(ctx: StateContext) -> Iterator[Hit]:
    """A4.4's other side: an advisory capability at the cut-off is a candidate for required."""
    for comp, cap, status, points, limit in scored(ctx.guideline, _era_cutoff(ctx)):
        if status == "advisory" and points >= limit:
            yield Hit(
                ("capabilities", cap),
                f"advisory capability {cap!r} ({comp}) scores {points}, at or above the cut-off {limit}: a candidate",
                f"consider making it required in the guideline after {ctx.key}",
                (cap,),
            )


def kind_of(key: str) -> str:
    """``guideline`` (the platform's) or ``add-on``: which scoring the era approved for it."""
    return "add-on" if (split_key(key) or ("", ""))[0] else "guideline"


def approved_criteria(ctx: StateContext) -> Iterator[Hit]:
    """A4.1: the criteria, their weights and the cut-off are the ones the Board approved.

    What the era approved is data (policies/eras.yaml, ``scoring``): the set of
    criteria (the twelve of CoreCriteria; nine for add-ons), the sum of their
    weights, the cut-off. Weights themselves change with Board approval (A4.2).
    """
    spec = ctx.era.scoring.get(kind_of(ctx.key)) if ctx.era is not None else None
    criteria = d(d(ctx.guideline.get("scoring")).get("criteria"))
    if spec is None or not criteria:
        return
    names, wanted = set(criteria), set(spec.criteria)
    if names != wanted:
        missing, extra = sorted(wanted - names), sorted(names - wanted)
        what = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not approved: {', '.join(extra)}" if extra else "",
            )
            if part
        )
        yield Hit(
            ("scoring", "criteria"),
            f"{ctx.key} scores on {len(names)} criteria, the Board approved {len(wanted)} ({what})",
            f"use the {len(wanted)} approved criteria: {', '.join(spec.criteria)}",
            ("criteria", tuple(sorted(names))),
        )
    weights = scoring_weights(ctx.guideline)
    total = sum(w for w in weights.values() if isinstance(w, int))
    if spec.weight_sum is not None and total != spec.weight_sum:
        yield Hit(
            ("scoring", "criteria"),
            f"the weights of {ctx.key}'s criteria sum to {total}, not {spec.weight_sum}",
            f"rebalance them to sum to {spec.weight_sum}; a change of weights needs the Board's approval (A4.2)",
            ("weight sum", total),
        )
    limit = cutoff_of(ctx.guideline)
    if spec.cutoff is not None and limit is not None and limit != spec.cutoff:
        yield Hit(
            ("scoring", "cutoff_score"),
            f"{ctx.key}'s cut-off score is {limit}, the approved one is {spec.cutoff}",
            f"set cutoff_score: {spec.cutoff}",
            ("cutoff", limit),
        )


def _uuid(ident: str) -> str | None:
    m = UUID.search(ident.lower())
    return m.group(0) if m else None


def durable_test_ids(ctx: StateContext) -> Iterator[Hit]:
    """A2.4: a test keeps its id across guidelines, and an id names one test.

    An id corrected in form only (``d-1234...`` -> ``id-1234...``: the same
    UUID) is the same id; a Tempest subclass listing its parent's test under
    the parent's id (same method name) is the same test, not a reused id.
    """
    if ctx.predecessor is None:
        return
    old_ids: dict[str, str] = {}  # name or alias -> id, in the predecessor
    old_owner: dict[str, str] = {}  # id -> first name holding it, in the predecessor
    for _, test, details in capability_tests(ctx.predecessor):
        ident = test_id(details)
        if ident is None:
            continue
        for name in (test, *aliases_of(details)):
            old_ids.setdefault(name.strip(), ident)
        old_owner.setdefault(ident, test)
    listed = {t.strip() for _, t, _ in capability_tests(ctx.guideline)}
    aliased = {
        frozenset((t.strip(), a.strip()))
        for _, t, details in capability_tests(ctx.guideline)
        for a in aliases_of(details)
    }
    for cap, test, details in sorted(capability_tests(ctx.guideline), key=lambda x: x[:2]):
        ident = test_id(details)
        if ident is None:
            continue
        path: KeyPath = ("capabilities", cap, "tests", test, "idempotent_id")
        was = old_ids.get(test.strip())
        if was is not None and ident != was and _uuid(ident) != _uuid(was) and _uuid(was):
            yield Hit(
                path,
                f"test {test!r} had idempotent id {was} in {ctx.predecessor_key}, now {ident}",
                f"keep {was}: the id is what follows a test across guidelines",
                ("changed", test, ident),
            )
        owner = old_owner.get(ident)
        if (
            owner is not None
            and owner.strip() != test.strip()
            and owner.strip() in listed
            and method_of(owner) != method_of(test)
            and frozenset((owner.strip(), test.strip())) not in aliased
        ):
            yield Hit(
                path,
                f"idempotent id {ident} of {test!r} named {owner!r} in {ctx.predecessor_key}, which is still listed",
                "give the new test its own id (a renamed test keeps its id and drops the old name)",
                ("reused", test, ident),
            )


def flag_details(ctx: StateContext) -> Iterator[Hit]:
    fields = [f for f in ("reason", "action") if f in ctx.schema.flag_fields]
    if not fields:
        return  # the file's schema recorded flags as a bare list of names
    for cap, test, details in sorted(capability_tests(ctx.guideline), key=lambda x: x[:2]):
        if not is_flagged(details):
            continue
        flag = d(details.get("flagged"))
        missing = [k for k in fields if not flag.get(k)]
        if missing:
            yield Hit(
                ("capabilities", cap, "tests", test, "flagged"),
                f"flagged test {test!r} has no {' and no '.join(missing)}",
                "say why the test is flagged (reason) and what will happen to it (action)",
                (cap, test, tuple(missing)),
            )


def all_tests_flagged(ctx: StateContext) -> Iterator[Hit]:
    statuses = capability_statuses(ctx.guideline)
    for cap, body in sorted(d(ctx.guideline.get("capabilities")).items()):
        tests = d(d(body).get("tests"))
        required = statuses.get(cap, ("", ""))[0] == "required"
        if required and tests and all(is_flagged(d(t)) for t in tests.values()):
            yield Hit(
                ("capabilities", cap, "tests"),
                f"every test of required capability {cap!r} is flagged, so it tests nothing",
                "unflag a test, add a working one, or deprecate the capability",
                (cap,),
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


# -- transition rules ------------------------------------------------------------


def status_transition(ctx: TransitionContext) -> Iterator[Hit]:
    """C6.3: draft -> review -> approved -> superseded, in the words of each file's schema.

    Superseding is the Board's act, recorded with the approval of a newer
    guideline of the same family: in that change a guideline may be marked
    superseded from any status (a draft the approval retired, too).
    """
    allowed: Mapping[str, list[str]] = ctx.params.get("transitions", {})
    initial: list[str] = ctx.params.get("initial", ["draft"])
    before, after = ctx.before, ctx.after
    if ctx.base is None:
        if ctx.head is not None and after not in initial:
            yield Hit(
                ("status",),
                f"new guideline {ctx.key} starts as {after}",
                f"start it as one of: {', '.join(initial)}",
                (after,),
            )
        return
    if ctx.head is None or before == after:
        return
    family = (split_key(ctx.key) or ("", ""))[0]
    if after == "superseded" and family in ctx.params.get("approving", ()):
        return
    if after not in allowed.get(str(before), []):
        legal = ", ".join(allowed.get(str(before), [])) or "nothing"
        yield Hit(
            ("status",),
            f"{ctx.key} moves from {before} to {after}",
            f"from {before} it may move to: {legal}",
            (before, after),
        )


def _criteria_changes(ctx: TransitionContext) -> list[str]:
    assert ctx.base is not None and ctx.head is not None
    b = d(d(ctx.base.get("scoring")).get("criteria"))
    h = d(d(ctx.head.get("scoring")).get("criteria"))
    wb, wh = scoring_weights(ctx.base), scoring_weights(ctx.head)
    return sorted(
        name
        for name in b.keys() | h.keys()
        if (d(b.get(name)).get("name"), wb.get(name)) != (d(h.get(name)).get("name"), wh.get(name))
    )


def _window(ctx: TransitionContext, action: str) -> tuple[bool, str] | None:
    """Whether the program's time line allows ``action`` when the change is made, and why;
    None when there is no time line, no date, or no cycle makes this guideline."""
    timeline: Timeline | None = ctx.params.get("timeline")
    when = ctx.params.get("when")
    if timeline is None or when is None:
        return None
    family = (split_key(ctx.key) or ("?", ""))[0]
    for cycle in timeline.cycles:
        cycle_family = (split_key(cycle.guideline) or ("", ""))[0]
        if ctx.key == cycle.guideline or (action == "approval" and cycle_family == family):
            allowed, why = timeline.allows(action, when)
            opening = timeline.opens(action, when) if not allowed else None
            if opening is not None:
                why += f"; it opens at {timeline.when(opening, action)}"
            return allowed, why
    return None


def criteria_frozen(ctx: TransitionContext) -> Iterator[Hit]:
    """A4.3, bound to the cycle: criteria stay as published from the draft's publication.

    With a time line (policies/timeline.yaml), the window at the change's date
    decides, whatever the guideline's status says (interop's ``next`` stays a
    draft all its life); without one, a guideline past ``draft`` is published.
    """
    if ctx.base is None or ctx.head is None:
        return
    changed = _criteria_changes(ctx)
    if not changed:
        return
    window = _window(ctx, "criteria-change")
    if window is not None:
        allowed, why = window
        if allowed:
            return
        reason = f"the time line forbids it: {why}"
    elif ctx.before in (None, "draft"):
        return
    else:
        reason = f"the draft was published (status {ctx.before})"
    for name in changed:
        yield Hit(
            ("scoring", "criteria", name),
            f"criterion {name!r} of {ctx.key} changes after {reason}",
            "keep the published criteria; propose new ones for the next cycle",
            (name,),
        )


def _listed(g: GuidelineData | None) -> set[str]:
    return set(capability_statuses(g)) if g is not None else set()


def in_window(ctx: TransitionContext) -> Iterator[Hit]:
    """The time line's windows for new capabilities, review and approval (2017A time line).

    A capability first listed in the cycle's guideline, a status moved to
    review or to approved, each at a date its window does not cover.
    """
    if ctx.head is None:
        return
    if ctx.base is not None:
        new = sorted(_listed(ctx.head) - _listed(ctx.base))
        window = _window(ctx, "new-capability") if new else None
        if window is not None and not window[0]:
            for cap in new:
                yield Hit(
                    ("capabilities", cap),
                    f"new capability {cap!r} in {ctx.key} outside its window: {window[1]}",
                    "propose it when the cycle identifies new capabilities, or for the next cycle",
                    ("new-capability", cap),
                )
    for status, action in (("review", "review"), ("approved", "approval")):
        if ctx.after == status and ctx.before != status:
            window = _window(ctx, action)
            if window is not None and not window[0]:
                yield Hit(
                    ("status",),
                    f"{ctx.key} moves to {status} outside its window: {window[1]}",
                    f"move it to {status} when the time line opens {action}",
                    (action,),
                )


def _frozen(ctx: TransitionContext) -> bool:
    return ctx.base is not None and ctx.before in FROZEN


def _programs(g: GuidelineData) -> dict[str, list[Any]]:
    out = {}
    for section in ("platforms", "add_ons"):
        for program, body in d(g.get(section)).items():
            refs = d(body).get("components")
            out[program] = sorted(
                str(d(r).get("name")) for r in (refs if isinstance(refs, list) else [])
            )
    return out


def requirements(g: GuidelineData) -> dict[str, Any]:
    """What vendors were certified against: the parts of a guideline maintenance may not touch."""
    return {
        "capability statuses": {c: s for c, (s, _) in capability_statuses(g).items()},
        "programs": _programs(g),
        "scoring criteria": scoring_weights(g),
        "cut-off score": cutoff_of(g),
    }


def immutable(ctx: TransitionContext) -> Iterator[Hit]:
    """An approved guideline's requirements never change; D2 lists what maintenance may do."""
    if not _frozen(ctx):
        return
    if ctx.head is None:
        yield Hit(
            (),
            f"{ctx.key} is {ctx.before} and this change deletes it",
            "restore the file",
            ("deleted",),
        )
        return
    assert ctx.base is not None
    before, after = requirements(ctx.base), requirements(ctx.head)
    for what in before:
        if before[what] is None or before[what] == {}:
            continue  # recording what was never recorded (a cut-off, 2016.01) changes nothing
        if before[what] != after[what]:
            b, a = before[what], after[what]
            detail = ""
            if isinstance(b, dict) and isinstance(a, dict):
                moved = sorted(k for k in b.keys() | a.keys() if b.get(k) != a.get(k))
                detail = ": " + ", ".join(f"{k} ({b.get(k)} -> {a.get(k)})" for k in moved[:5])
                detail += f" and {len(moved) - 5} more" if len(moved) > 5 else ""
            yield Hit(
                _requirement_path(what),
                f"{ctx.key} is {ctx.before} and this change edits its {what}{detail}",
                "make the change in next instead; an approved guideline only gains flags "
                "(2017A D2.1), aliases and corrections, and changes status to superseded",
                (what,),
            )
    sb, sa = _sections(ctx.base), _sections(ctx.head)
    if sb is not None and sa is not None:
        moved_sections = sorted(
            (k for k in sb.keys() | sa.keys() if _designated(sb.get(k)) != _designated(sa.get(k))),
            key=str,
        )
        if moved_sections:
            names = ", ".join(_section_name(*k) for k in moved_sections[:5])
            yield Hit(
                ("designated_sections",),
                f"{ctx.key} is {ctx.before} and this change edits its designated sections: {names}",
                "make the change in next instead",
                ("designated sections",),
            )


def _designated(entry: Mapping[str, bool] | None) -> bool:
    """What a designation means for vendors: required and designated, or not."""
    return bool(entry and entry.get("required"))


def _requirement_path(what: str) -> KeyPath:
    return {
        "capability statuses": ("components",),
        "programs": ("platforms",),
        "scoring criteria": ("scoring", "criteria"),
        "cut-off score": ("scoring", "cutoff_score"),
    }.get(what, ())


def _test_changes(ctx: TransitionContext) -> Iterator[tuple[str, str, str, str | None]]:
    """(kind, capability, test, renamed-from) of each test added to or removed from a capability.

    Tests are followed by identity (id, else name or alias). A test that
    replaces a removed one of the same capability and method name is that
    test renamed (schema 1.2 had no ids nor aliases to say so).
    """
    assert ctx.base is not None and ctx.head is not None
    if ctx.base.get("capabilities") == ctx.head.get("capabilities"):
        return  # the common maintenance: metadata, a status
    index = TestIndex.of(ctx.base)
    sides: list[dict[str, dict[str, str]]] = [{}, {}]  # capability -> identity -> name
    for side, g in zip(sides, (ctx.base, ctx.head), strict=True):
        for c, t, det in capability_tests(g):
            side.setdefault(c, {})[index.identity(t, det)] = t
    for cap in sorted(sides[0].keys() | sides[1].keys()):
        old, new = sides[0].get(cap, {}), sides[1].get(cap, {})
        if old.keys() == new.keys():
            continue
        removed = {ident: t for ident, t in old.items() if ident not in new}
        for ident, test in sorted(new.items(), key=lambda x: x[1]):
            if ident in old:
                continue
            was = _renamed_from(test, removed)
            if was is not None:
                yield "renamed", cap, test, removed.pop(was)
            else:
                yield "added", cap, test, None
        for test in sorted(removed.values()):
            yield "removed", cap, test, None


def _renamed_from(test: str, removed: Mapping[str, str]) -> str | None:
    """The removed test ``test`` most likely renames: same method, most module path in common."""
    parts = set(test.strip().split("."))
    candidates = [
        (len(parts & set(t.strip().split("."))), ident)
        for ident, t in removed.items()
        if method_of(t) == method_of(test)
    ]
    return max(candidates)[1] if candidates else None


def tests_after_approval(ctx: TransitionContext) -> Iterator[Hit]:
    """D2.2: no test joins a capability of an approved guideline (a rename is the same test)."""
    if not _frozen(ctx) or ctx.head is None:
        return
    for kind, cap, test, _ in _test_changes(ctx):
        if kind == "added":
            yield Hit(
                ("capabilities", cap, "tests", test),
                f"test {test!r} is added to capability {cap!r} of {ctx.key}, which is {ctx.before}",
                "add it in next; in an approved guideline a renamed test goes in the old name's aliases",
                ("added", cap, test),
            )


def tests_removed_not_flagged(ctx: TransitionContext) -> Iterator[Hit]:
    """C3.2: removing a test from a guideline is what flagging is for, and a flag records why."""
    if not _frozen(ctx) or ctx.head is None:
        return
    for kind, cap, test, _ in _test_changes(ctx):
        if kind == "removed":
            yield Hit(
                ("capabilities", cap, "tests"),
                f"test {test!r} is removed from capability {cap!r} of {ctx.key}, which is {ctx.before}",
                "flag it instead (reason, action, date), so vendors certified on it know why it no longer counts",
                ("removed", cap, test),
            )


def flags_after_approval(ctx: TransitionContext) -> Iterator[Hit]:
    """D2.1: flags may be added to an approved guideline; said so the change's review sees it."""
    if not _frozen(ctx) or ctx.head is None:
        return
    assert ctx.base is not None
    base_flags = {(c, t.strip()) for c, t, det in capability_tests(ctx.base) if is_flagged(det)}
    head_flags = {(c, t.strip()) for c, t, det in capability_tests(ctx.head) if is_flagged(det)}
    added, dropped = sorted(head_flags - base_flags), sorted(base_flags - head_flags)
    if added:
        cap, test = added[0]
        yield Hit(
            ("capabilities", cap, "tests", test, "flagged"),
            f"{len(added)} test(s) flagged in {ctx.key} ({ctx.before}): allowed after approval",
            "nothing to fix",
            ("flagged", tuple(added)),
        )
    if dropped:
        cap, test = dropped[0]
        yield Hit(
            ("capabilities", cap, "tests", test),
            f"{len(dropped)} flag(s) lifted in {ctx.key} ({ctx.before}): those tests count again for vendors",
            "make sure vendors certified on this guideline were told",
            ("unflagged", tuple(dropped)),
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
        Severity.ERROR,
        "state",
        approved_criteria,
        frozen_severity=Severity.WARNING,
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
        Severity.ERROR,
        "state",
        cutoff,
        frozen_severity=Severity.WARNING,
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
        "2017A.D2.1",
        "The Interop Working Group can add flagged tests before and after Guideline approval.",
        Severity.NOTICE,
        "transition",
        flags_after_approval,
    ),
    Rule(
        "2017A.D2.2",
        "The Interop Working Group cannot add additional Tests to Capability mappings after approval.",
        Severity.ERROR,
        "transition",
        tests_after_approval,
    ),
    Rule(
        "govbot.cutoff-candidate",
        "An advisory capability that reaches the cut-off score is a candidate for required (A4.4).",
        Severity.NOTICE,
        "state",
        candidates,
    ),
    Rule(
        "govbot.window",
        "A change happens in the window the process's time line gives it (new capabilities, review, approval).",
        Severity.ERROR,
        "transition",
        in_window,
    ),
    Rule(
        "govbot.all-tests-flagged",
        "A required capability must keep at least one test that vendors run.",
        Severity.WARNING,
        "state",
        all_tests_flagged,
        cites="C3.4",
    ),
    Rule(
        "govbot.immutable",
        "An approved guideline is what vendors were certified against: its requirements never change.",
        Severity.ERROR,
        "transition",
        immutable,
    ),
    Rule(
        "govbot.removed-not-flagged",
        "A test leaves an approved guideline by being flagged, so the record says why.",
        Severity.WARNING,
        "transition",
        tests_removed_not_flagged,
    ),
    Rule(
        "govbot.status-transition",
        "A guideline moves draft -> review -> approved -> superseded.",
        Severity.ERROR,
        "transition",
        status_transition,
        cites="C6.3",
    ),
)
RULES_BY_ID = {r.id: r for r in RULES}
