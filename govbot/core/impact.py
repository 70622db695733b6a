"""What a guideline change would do to certified products, and who uses what (2017A C5).

For each guideline a change touches, the certified products it concerns are
scored against the base and the head version, from their *published* passes
(the registry's records, 2017A C4): the products certified against it when it
is approved (a flag added after approval, D2.1), or every current product of
its family when it is a draft (``next`` is what they will certify against
next). A product "would stop qualifying" when every required capability is
passed on the base and one is not on the head; only the scoring counts here
(C1.1), since release names and validity windows are the next guideline's
own business.

The C5 usage report counts, for each advisory capability of the head
version, how many of those products pass it: the "widely deployed" evidence
for scoring (A4.7). Pure: snapshots and registry entries in, a report out;
each guideline is compiled once, and each product costs set lookups.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from govbot.core.certify import MISSING, Requirements, score
from govbot.core.check import Side
from govbot.core.mustpass import UnknownTarget
from govbot.core.registry import CURRENT, Certified
from govbot.core.results import TestResults
from govbot.core.rules import FROZEN, split_key

RULE = "2017A.C5.1"
TEXT = (
    "The Foundation will provide Interop Working Group with an open report about API usage "
    "based on self-tests."
)


@dataclass(frozen=True)
class ProductImpact:
    product: str
    program: str
    certified_against: str
    guideline: str
    """The changed guideline it was scored against."""
    before: bool
    after: bool
    lost: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(capability, missing tests) required on the head and not passed, that the base did not fail."""


@dataclass(frozen=True)
class Usage:
    guideline: str
    program: str
    capability: str
    passing: int
    of: int


@dataclass
class ImpactReport:
    guidelines: list[str] = field(default_factory=list)
    """The changed guidelines, each with the number of products scored against it."""
    stop: list[ProductImpact] = field(default_factory=list)
    """Products that qualify on the base and would not on the head."""
    start: list[ProductImpact] = field(default_factory=list)
    """Products that would qualify only with the change (a test flagged, a capability dropped)."""
    failing: list[ProductImpact] = field(default_factory=list)
    """Products that fail both versions (already not meeting a draft)."""
    scored: int = 0
    usage: list[Usage] = field(default_factory=list)


def _compile(side: Side, key: str, program: str) -> Requirements | None:
    from govbot.core.certify import requirements

    data = side.data(key)
    if data is None:
        return None
    try:
        return requirements(key, data, program)
    except UnknownTarget:
        return None


def concerned(
    key: str, head: Side, entries: Sequence[Certified], new: bool = False
) -> list[Certified]:
    """The products a change to guideline ``key`` concerns (see the module docstring).

    A guideline the change adds (a release cut from ``next``) is what the
    current products will certify against next, so it concerns them all.
    """
    parts = split_key(key)
    if parts is None:
        return []
    status = head.statuses.get(key, {}).get("status")
    if status in FROZEN and not new:
        return [e for e in entries if e.guideline == key]
    same_family = [e for e in entries if (split_key(e.guideline) or ("?", ""))[0] == parts[0]]
    return [e for e in same_family if e.status == CURRENT]


def impact(
    base_files: Mapping[str, bytes],
    head_files: Mapping[str, bytes],
    entries: Sequence[Certified],
) -> ImpactReport:
    """The effect of base -> head on ``entries`` (the registry), and the C5 usage report."""
    base, head = Side(base_files), Side(head_files)
    changed = sorted(
        k
        for k, path in head.paths.items()
        if base.paths.get(k) is None or base_files.get(base.paths[k]) != head_files[path]
    )
    report = ImpactReport()
    for key in changed:
        targets = concerned(key, head, entries, new=key not in base.paths)
        report.guidelines.append(key)
        plans: dict[str, _Plan | None] = {}
        passing: dict[str, list[dict[str, bool]]] = {}
        for e in targets:
            if e.program not in plans:
                before_key = key if key in base.paths else _draft_of(key, base)
                old = _compile(base, before_key, e.program) if before_key else None
                new = _compile(head, key, e.program)
                plans[e.program] = _Plan.of(old, new) if new is not None else None
            plan = plans[e.program]
            if plan is None:
                continue
            item, after = plan.judge(e, key)
            passing.setdefault(e.program, []).append(after)
            report.scored += 1
            if item.before and not item.after:
                report.stop.append(item)
            elif item.after and not item.before:
                report.start.append(item)
            elif not item.after:
                report.failing.append(item)
        for program, plan in sorted(plans.items()):
            if plan is not None:
                report.usage.extend(_usage(plan.new, passing.get(program, [])))
    return report


def passes(req: Requirements, results: TestResults, waived: frozenset[str]) -> dict[str, bool]:
    """Capability -> passed, as :func:`score` decides it, without building the outcomes."""
    passed, ids = results.passed, results.passed_ids
    out = {}
    for cap in req.capabilities:
        ok = True
        for t in cap.tests:
            if t.flagged or t.name in passed or t.name in waived:
                continue
            if (t.ident is not None and t.ident in ids) or any(a in passed for a in t.aliases):
                continue
            ok = False
            break
        out[cap.name] = ok
    return out


@dataclass(frozen=True)
class _Plan:
    """One guideline change for one program: what to score on each product.

    A capability with the same definition (tests, aliases, ids, flags) and the
    same status scores the same on both versions, so each product is scored
    once on the base (booleans only) and only the changed capabilities are
    scored on the head: a one-capability change costs one capability.
    """

    old: Requirements | None
    new: Requirements
    changed: Requirements

    @classmethod
    def of(cls, old: Requirements | None, new: Requirements) -> _Plan:
        same = {spec.name: spec for spec in old.capabilities} if old is not None else {}
        changed = tuple(c for c in new.capabilities if old is None or same.get(c.name) != c)
        return cls(old, new, replace(new, capabilities=changed))

    def judge(self, e: Certified, key: str) -> tuple[ProductImpact, dict[str, bool]]:
        waived = frozenset(e.waived)
        before_ok = passes(self.old, e.results, waived) if self.old is not None else None
        fresh = score(self.changed, e.results, waived)
        after_ok = (
            {c.name: before_ok.get(c.name, False) for c in self.new.capabilities}
            if (before_ok is not None)
            else {}
        )
        after_ok.update({c.name: c.passed for c in fresh})
        old_required = (
            [c.name for c in self.old.capabilities if c.status == "required"]
            if (self.old is not None)
            else []
        )
        was_missing = {n for n in old_required if before_ok is not None and not before_ok[n]}
        before = before_ok is None or not was_missing
        after = all(after_ok[c.name] for c in self.new.capabilities if c.status == "required")
        lost = tuple(
            (c.name, tuple(o.test.name for o in c.of(MISSING)))
            for c in fresh
            if c.status == "required" and not c.passed and c.name not in was_missing
        )
        return ProductImpact(e.product, e.program, e.guideline, key, before, after, lost), after_ok


def _usage(req: Requirements, scored: list[dict[str, bool]]) -> list[Usage]:
    counts = {c.name: 0 for c in req.capabilities if c.status == "advisory"}
    for ok in scored:
        for name in counts:
            counts[name] += ok.get(name, False)
    return [Usage(req.guideline, req.target, n, k, len(scored)) for n, k in counts.items()]


def _draft_of(key: str, base: Side) -> str | None:
    """A guideline new in the head was cut from its family's draft (``next``)."""
    parts = split_key(key)
    if parts is None:
        return None
    draft = f"{parts[0]}.next" if parts[0] else "next"
    return draft if draft in base.paths and draft != key else None


def usage(req: Requirements, entries: Sequence[Certified]) -> list[Usage]:
    """C5: for each advisory capability of ``req``, how many of ``entries`` pass it."""
    return _usage(req, [passes(req, e.results, frozenset(e.waived)) for e in entries])


# -- reports ----------------------------------------------------------------------------


def to_dict(report: ImpactReport) -> dict[str, Any]:
    def item(p: ProductImpact) -> dict[str, Any]:
        return {
            "product": p.product,
            "program": p.program,
            "certified_against": p.certified_against,
            "guideline": p.guideline,
            "qualifies_before": p.before,
            "qualifies_after": p.after,
            "newly_failing": [{"capability": c, "missing": list(t)} for c, t in p.lost],
        }

    return {
        "guidelines": report.guidelines,
        "scored": report.scored,
        "would_stop_qualifying": [item(p) for p in report.stop],
        "would_start_qualifying": [item(p) for p in report.start],
        "failing_both": [item(p) for p in report.failing],
        "usage": [u.__dict__ for u in report.usage],
    }


def to_json(report: ImpactReport) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"


def to_text(report: ImpactReport) -> str:
    if not report.guidelines:
        return "no guideline changed: no certified product is affected\n"
    lines = [
        f"guidelines changed: {', '.join(report.guidelines)}; {report.scored} product program(s) scored"
    ]
    for p in report.stop:
        lines.append(
            f"WOULD STOP QUALIFYING: {p.product} ({p.program}, certified {p.certified_against}) against {p.guideline}"
        )
        for cap, missing in p.lost:
            lines.append(f"  {cap}: {', '.join(missing)}")
    for p in report.start:
        lines.append(f"would start qualifying: {p.product} ({p.program}) against {p.guideline}")
    if report.failing:
        lines.append(f"{len(report.failing)} product program(s) fail both versions")
    if report.usage:
        lines.append(f"usage of advisory capabilities ({RULE}):")
        for u in report.usage:
            lines.append(f"  {u.guideline} {u.program} {u.capability}: {u.passing}/{u.of}")
    lines.append(f"{len(report.stop)} product program(s) would stop qualifying")
    return "\n".join(lines) + "\n"


def to_markdown(report: ImpactReport) -> str:
    """The section the bot adds to a guideline change's review comment."""
    out = ["#### Impact on certified products\n"]
    if not report.guidelines or not report.scored:
        out.append("No certified product is scored against the guidelines this change touches.\n")
    elif report.stop:
        out.append(
            f"❌ **{len(report.stop)} certified product program(s) would stop qualifying** "
            "if this change were approved:\n"
        )
        out.append("| Product | Program | Certified | Against | Newly failing |")
        out.append("|---|---|---|---|---|")
        for p in report.stop:
            lost = "<br>".join(f"`{c}` ({len(t)} test(s))" for c, t in p.lost)
            out.append(
                f"| `{p.product}` | {p.program} | {p.certified_against} | {p.guideline} | {lost} |"
            )
        out.append("")
    else:
        out.append(
            f"✅ None of the {report.scored} certified product program(s) scored would stop qualifying.\n"
        )
    if report.start:
        names = ", ".join(f"`{p.product}`" for p in report.start)
        out.append(f"Would start qualifying: {names}.\n")
    if report.usage:
        out.append(f"<details><summary>Usage of advisory capabilities ({RULE})</summary>\n")
        out.append(f"{RULE}: \u201c{TEXT}\u201d\n")
        out.append("| Guideline | Program | Capability | Products passing |")
        out.append("|---|---|---|---|")
        for u in report.usage:
            out.append(
                f"| {u.guideline} | {u.program} | `{u.capability}` | {u.passing} of {u.of} |"
            )
        out.append("\n</details>\n")
    return "\n".join(out) + "\n"


FORMATS = {"text": to_text, "json": to_json, "markdown": to_markdown}
