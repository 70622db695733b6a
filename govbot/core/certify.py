"""Does a product qualify? Results against a guideline's must-pass list, paragraph by paragraph.

The tests a program requires are exactly what ``govbot mustpass`` lists (the
RefStack-identical list of :mod:`govbot.core.mustpass`): the target's
components, their capabilities by status, each capability's tests with their
aliases, flagged tests left out. A test counts as passed when the results
pass its name, one of its aliases, or its idempotent id (2017A A2.4: ids are
durable, so a renamed test is still found), as RefStack's report page did.

Each finding cites the paragraph it applies, like the checker's rules
(:data:`govbot.core.rules.RULES`): :data:`CERT_RULES` pairs a paragraph id
and its text with a small pure check. A verdict qualifies when no finding is
an error. Pure: results, guideline data, the validity index and the policy
come in; the date is the caller's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from govbot.core.certification import CertificationPolicy, Waiver
from govbot.core.findings import Finding, KeyPath, Severity, sort_findings
from govbot.core.mustpass import (
    PLATFORM_TARGETS,
    STATUSES,
    capabilities_for,
    is_flagged,
    target_components,
)
from govbot.core.products import Claim, Product
from govbot.core.results import TestResults, normal_id
from govbot.core.rules import Hit, Rule
from govbot.core.validity import Validity

PASSED, MISSING, FLAGGED, WAIVED = "passed", "missing", "flagged", "waived"


@dataclass(frozen=True, slots=True)
class TestSpec:
    """One test of a capability as the guideline lists it."""

    __test__ = False

    name: str
    ident: str | None
    aliases: tuple[str, ...]
    flagged: bool


@dataclass(frozen=True)
class CapabilitySpec:
    name: str
    status: str
    project: str
    tests: tuple[TestSpec, ...]


@dataclass(frozen=True)
class Requirements:
    """A guideline's capabilities for one target, compiled once and reused for every product."""

    guideline: str
    target: str
    capabilities: tuple[CapabilitySpec, ...]
    releases: tuple[str, ...]
    designated: frozenset[str]
    """Projects whose designated sections the guideline marks required."""

    def required_projects(self) -> list[str]:
        """2017A D3: designated sections are enforced for projects with required capabilities."""
        projects = {c.project for c in self.capabilities if c.status == "required" and c.project}
        return sorted(projects & self.designated)


def requirements(guideline_id: str, guideline: Mapping[str, Any], target: str) -> Requirements:
    """Compile a guideline for a target; raises mustpass.UnknownTarget for an unknown one."""
    g = dict(guideline)
    components = target_components(g, target)
    by_status = {s: capabilities_for(g, components, [s]) for s in STATUSES}
    caps: list[CapabilitySpec] = []
    for name, body in (g.get("capabilities") or {}).items():
        # one status per capability, the strongest, as RefStack's report page chose
        status = next((s for s in STATUSES if name in by_status[s]), None)
        if status is None or not isinstance(body, dict):
            continue
        tests = []
        for test, details in (body.get("tests") or {}).items():
            d = details if isinstance(details, dict) else {}
            ident = d.get("idempotent_id")
            tests.append(
                TestSpec(
                    test,
                    normal_id(ident) if isinstance(ident, str) else None,
                    tuple(a for a in d.get("aliases") or () if isinstance(a, str)),
                    is_flagged(d),
                )
            )
        caps.append(CapabilitySpec(name, status, str(body.get("project") or ""), tuple(tests)))
    caps.sort(key=lambda c: (STATUSES.index(c.status), c.name))
    releases = g.get("releases")
    designated = {
        project
        for project, statuses in (g.get("designated_sections") or {}).items()
        if isinstance(statuses, dict) and "required" in statuses
    }
    return Requirements(
        guideline_id,
        target,
        tuple(caps),
        tuple(str(r) for r in releases) if isinstance(releases, list) else (),
        frozenset(designated),
    )


@dataclass(frozen=True, slots=True)
class TestOutcome:
    __test__ = False

    test: TestSpec
    state: str
    """passed, missing, flagged (not passed, not counted) or waived."""
    via: str = ""
    """How it was found: the alias or ``id`` when not by its own name."""


@dataclass(frozen=True)
class CapabilityResult:
    name: str
    status: str
    tests: tuple[TestOutcome, ...]

    def of(self, state: str) -> list[TestOutcome]:
        return [t for t in self.tests if t.state == state]

    @property
    def passed(self) -> bool:
        """All counted tests passed (or are waived); a capability of only flagged tests passes."""
        return not self.of(MISSING)

    @property
    def counted(self) -> int:
        return sum(1 for t in self.tests if not t.test.flagged)


def score(
    req: Requirements, results: TestResults, waived: frozenset[str] = frozenset()
) -> tuple[CapabilityResult, ...]:
    """Each capability's tests against the results (set lookups only: cheap per product)."""
    passed, ids = results.passed, results.passed_ids
    out = []
    for cap in req.capabilities:
        outcomes = []
        for t in cap.tests:
            via = None
            if t.name in passed:
                via = ""
            else:
                via = next((a for a in t.aliases if a in passed), None)
                if via is None and t.ident is not None and t.ident in ids:
                    via = "id"
            if via is not None:
                outcomes.append(TestOutcome(t, PASSED, via))
            elif t.flagged:
                outcomes.append(TestOutcome(t, FLAGGED))
            elif t.name in waived:
                outcomes.append(TestOutcome(t, WAIVED))
            else:
                outcomes.append(TestOutcome(t, MISSING))
        out.append(CapabilityResult(cap.name, cap.status, tuple(outcomes)))
    return tuple(out)


# -- the paragraphs ------------------------------------------------------------------


@dataclass(frozen=True)
class CertContext:
    req: Requirements
    capabilities: tuple[CapabilityResult, ...]
    at: date
    valid: tuple[str, ...]
    """C6: the guidelines of this family usable on ``at``, newest first."""
    release: str | None
    product: Product | None
    claim: Claim | None
    waivers: tuple[Waiver, ...]
    """The waivers granted to this product for this guideline, active or not."""
    policy: CertificationPolicy

    def where(self, key: str) -> KeyPath:
        """The key of the product file a finding points at (the claim's entry)."""
        if self.claim is None:
            return ()
        return ("programs", self.claim.index, key)


def _names(outcomes: Sequence[TestOutcome], limit: int = 0) -> str:
    names = [o.test.name for o in outcomes]
    if limit and len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)


def missing_required(ctx: CertContext) -> Iterator[Hit]:
    for cap in ctx.capabilities:
        missing = cap.of(MISSING)
        if cap.status == "required" and missing:
            yield Hit(
                ctx.where("results"),
                f"required capability {cap.name!r}: {len(missing)} of {cap.counted} test(s) "
                f"not passed: {_names(missing)}",
                "run these tests and submit results that pass them, or ask the Interop "
                "Working Group to flag a test you believe is wrong (2017A C3.1)",
                (cap.name,),
            )


def flagged_tests(ctx: CertContext) -> Iterator[Hit]:
    flagged = [o for cap in ctx.capabilities if cap.status == "required" for o in cap.of(FLAGGED)]
    if flagged:
        yield Hit(
            ctx.where("results"),
            f"{len(flagged)} flagged test(s) of required capabilities not passed and not "
            f"counted: {_names(flagged, 10)}",
            "nothing to do: flagged tests are not required",
            ("flagged",),
        )


def two_latest(ctx: CertContext) -> Iterator[Hit]:
    if ctx.req.guideline not in ctx.valid:
        usable = ", ".join(ctx.valid) or "none"
        yield Hit(
            ctx.where("guideline"),
            f"{ctx.req.guideline} is not one of the latest approved guidelines on "
            f"{ctx.at.isoformat()} (usable: {usable})",
            f"certify against {ctx.valid[0]}" if ctx.valid else "wait for an approved guideline",
            (ctx.req.guideline,),
        )


def release_named(ctx: CertContext) -> Iterator[Hit]:
    named = ", ".join(ctx.req.releases) or "none"
    if ctx.release is None:
        yield Hit(
            ctx.where("guideline"),
            f"no OpenStack release given; {ctx.req.guideline} applies to: {named}",
            "give the product's release (release: in the product file, --release here)",
            ("unknown",),
        )
    elif ctx.release not in ctx.req.releases:
        yield Hit(
            ("release",) if ctx.product is not None else (),
            f"{ctx.req.guideline} does not name release {ctx.release!r} (it applies to: {named})",
            "certify against a guideline that names your release",
            (ctx.release,),
        )


def designated_sections(ctx: CertContext) -> Iterator[Hit]:
    projects = ctx.req.required_projects()
    if ctx.product is None:
        if projects:
            yield Hit(
                (),
                f"a product certified for {ctx.req.target} must run the designated sections "
                f"of: {', '.join(projects)}",
                "attest it in the product file (designated_sections: <project>: {attested: true})",
                ("reminder",),
            )
        return
    missing = [p for p in projects if not ctx.product.attested(p)]
    if missing:
        yield Hit(
            ("designated_sections",),
            f"designated sections of {', '.join(missing)} are required for {ctx.req.target} "
            f"in {ctx.req.guideline} and not attested",
            "run those sections as the guideline designates them and attest it: "
            "designated_sections: <project>: {attested: true}",
            tuple(missing),
        )


def advisory(ctx: CertContext) -> Iterator[Hit]:
    failing = [c.name for c in ctx.capabilities if c.status == "advisory" and not c.passed]
    if failing:
        yield Hit(
            ctx.where("results"),
            f"{len(failing)} advisory capability(ies) not passed: {', '.join(failing)}",
            "nothing blocks now, but advisory capabilities may become required in the next guideline",
            ("advisory",),
        )


def waivers(ctx: CertContext) -> Iterator[Hit]:
    waived = [o for cap in ctx.capabilities for o in cap.of(WAIVED)]
    active = [w for w in ctx.waivers if w.active(ctx.at)]
    if waived:
        until = min(w.expires for w in active).isoformat() if active else "?"
        yield Hit(
            ctx.where("results"),
            f"{len(waived)} test(s) pass by waiver until {until}: {_names(waived, 10)}",
            "pass them before the waiver expires; the waived tests are published with the product",
            ("waived",),
        )
    for w in ctx.waivers:
        if not w.active(ctx.at):
            yield Hit(
                ctx.where("results"),
                f"the waiver for {w.guideline} ({w.reason}) expired on {w.expires.isoformat()}; "
                "its tests count again",
                "pass the tests",
                ("expired", w.expires),
            )
        elif not ctx.policy.waiver_allowed(w.guideline):
            yield Hit(
                ctx.where("guideline"),
                f"the waiver for {w.guideline} is not applied: waivers end with the "
                f"{ctx.policy.waivers_last_guideline} guideline",
                "pass the tests",
                ("not-allowed", w.guideline),
            )


CERT_RULES: tuple[Rule, ...] = (
    Rule(
        "2017A.C1.1",
        "Vendors are responsible for executing tests identified by the Interop Working Group.",
        Severity.ERROR,
        "certification",
        missing_required,
    ),
    Rule(
        "2017A.C3.2",
        "The Interop Working Group may choose to remove tests from a Guideline (known as flagging).",
        Severity.NOTICE,
        "certification",
        flagged_tests,
    ),
    Rule(
        "2017A.C6.1",
        "Vendors seeking Foundation validation are limited to using the two latest approved Guidelines.",
        Severity.ERROR,
        "certification",
        two_latest,
    ),
    Rule(
        "2017A.D1.4",
        "Guidelines only apply to the identified releases (a.k.a. release tags).",
        Severity.ERROR,
        "certification",
        release_named,
    ),
    Rule(
        "2017A.D3",
        "Designated Sections only enforced for projects with required Capabilities.",
        Severity.ERROR,
        "certification",
        designated_sections,
    ),
    Rule(
        "2017A.A4.6",
        "Capabilities will not be added without being advisory in the previous Guideline.",
        Severity.NOTICE,
        "certification",
        advisory,
    ),
    Rule(
        "govbot.waiver",
        "A waiver (grey list for strict API response checking) is temporary, time-limited, "
        "published with the product, and not allowed after the 2017.01 guideline.",
        Severity.WARNING,
        "certification",
        waivers,
    ),
)
CERT_RULES_BY_ID = {r.id: r for r in CERT_RULES}
LOWERED = {("2017A.D1.4", "unknown"): Severity.NOTICE, ("2017A.D3", "reminder"): Severity.NOTICE}
"""Hits that only inform: the release or product is not known to a bare pre-check."""


# -- verdicts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One program's verdict: the capability table and the findings, each citing its paragraph."""

    guideline: str
    target: str
    at: date
    results: TestResults
    capabilities: tuple[CapabilityResult, ...]
    findings: tuple[Finding, ...]
    valid: tuple[str, ...]
    release: str | None = None
    product: str | None = None
    official: bool = False
    """False for a self-test: shown with the policy's unofficial label (2017A C1.4)."""
    label: str = ""
    waived: tuple[str, ...] = ()

    @property
    def qualifies(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def program(self) -> str:
        return PLATFORM_TARGETS.get(self.target, f"OpenStack with {self.target.title()}")

    def missing(self, status: str = "required") -> list[str]:
        return [o.test.name for c in self.capabilities if c.status == status for o in c.of(MISSING)]


@dataclass(frozen=True)
class Locator:
    """Where findings point: a product file (located by key) or a bare results file."""

    file: str
    locate: Any = None
    """``Parsed.locate`` of the product file, or None (line 1)."""

    def marks(self, paths: list[KeyPath]) -> list[tuple[int, int]]:
        return self.locate(paths) if self.locate is not None and paths else [(1, 1)] * len(paths)


def verify(
    results: TestResults,
    req: Requirements,
    validity: Validity,
    at: date,
    *,
    release: str | None = None,
    product: Product | None = None,
    claim: Claim | None = None,
    policy: CertificationPolicy | None = None,
    locator: Locator | None = None,
    extra: Sequence[Finding] = (),
) -> Verdict:
    """The verdict of ``results`` for ``req`` on ``at``.

    ``extra`` are findings already made about the inputs (a results file's
    defects): they count in the verdict, so a damaged file never qualifies.
    """
    policy = policy or CertificationPolicy()
    granted = policy.waivers_for(product.key, req.guideline) if product is not None else ()
    usable = [w for w in granted if w.active(at) and policy.waiver_allowed(w.guideline)]
    waived = frozenset(t for w in usable for t in w.tests)
    caps = score(req, results, waived)
    valid = validity.valid_at(req.guideline, at)
    ctx = CertContext(
        req,
        caps,
        at,
        tuple(valid),
        release if release is not None else (product.release if product else None),
        product,
        claim,
        granted,
        policy,
    )
    hits: list[tuple[Rule, Severity, Hit]] = []
    for rule in CERT_RULES:
        for hit in rule.check(ctx):
            severity = LOWERED.get((rule.id, hit.fingerprint[0]), rule.severity)
            hits.append((rule, severity, hit))
    where = locator or Locator(product.path if product else results.source)
    marks = where.marks([hit.path for _, _, hit in hits])
    findings = [
        Finding(
            where.file,
            rule.id,
            f"{hit.message}. {rule.id}: \u201c{rule.text}\u201d Fix: {hit.fix}.",
            severity,
            line,
            column,
            hit.path,
        )
        for (rule, severity, hit), (line, column) in zip(hits, marks, strict=True)
    ]
    return Verdict(
        req.guideline,
        req.target,
        at,
        results,
        caps,
        tuple(sort_findings([*extra, *findings])),
        tuple(valid),
        ctx.release,
        product.key if product else None,
        False,
        policy.unofficial_label,
        tuple(sorted(o.test.name for c in caps for o in c.of(WAIVED))),
    )


@dataclass
class ProductVerdict:
    """A submission: the product file's own problems and one verdict per claimed program."""

    path: str
    product: Product | None
    verdicts: list[Verdict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Problems outside any verdict: an unreadable product, a claim that cannot be judged."""

    @property
    def qualifies(self) -> bool:
        return (
            self.product is not None
            and bool(self.verdicts)
            and all(v.qualifies for v in self.verdicts)
            and not any(f.severity is Severity.ERROR for f in self.findings)
        )
