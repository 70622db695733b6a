"""The labels govbot alone manages on a product submission: its verdict, for machines.

A submission's review carries labels a script or a dashboard can filter on
(issue 14): ``tests-verified-<guideline>`` when every program the change
claims against that guideline qualifies, ``missing-tests`` when a required
capability's tests are not all passed (2017A C1.1), ``guideline-not-valid``
when a program is claimed against a guideline vendors may not use on that
day (C6.1) or one the repository lacks, and ``submission-invalid`` when a
product file or its results cannot be read or break their schema.

They say what govbot found, so only govbot sets them: a label of this
namespace that a person adds or removes is put back (:func:`corrections`),
and no label outside it is ever touched. On Gerrit they are hashtags.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from govbot.core.findings import Finding, Severity

if TYPE_CHECKING:  # the event normalisers import this module: keep it light
    from govbot.core.certify import ProductVerdict

VERIFIED_PREFIX = "tests-verified-"
MISSING_TESTS = "missing-tests"
GUIDELINE_NOT_VALID = "guideline-not-valid"
SUBMISSION_INVALID = "submission-invalid"
FIXED = frozenset({MISSING_TESTS, GUIDELINE_NOT_VALID, SUBMISSION_INVALID})

_MISSING_RULES = frozenset({"2017A.C1.1"})
_NOT_VALID_RULES = frozenset({"2017A.C6.1", "product.unknown-guideline"})


def is_managed(label: str) -> bool:
    """Whether ``label`` is one of govbot's (a person's edit of it is undone)."""
    return label in FIXED or (
        label.startswith(VERIFIED_PREFIX) and len(label) > len(VERIFIED_PREFIX)
    )


def for_submission(
    verdicts: Sequence[ProductVerdict], findings: Iterable[Finding] = ()
) -> frozenset[str]:
    """The labels of a submission: its product verdicts and the check's own findings
    (schema and integrity errors of the product files it touches)."""
    out: set[str] = set()
    errors = [
        f for f in findings if f.severity is Severity.ERROR and f.file.startswith("products/")
    ]
    if errors:
        out.add(SUBMISSION_INVALID)
    verified: dict[str, bool] = {}
    for pv in verdicts:
        own = [f for f in pv.findings if f.severity is Severity.ERROR]
        unreadable = [f for f in own if f.rule.startswith(("results.", "product."))]
        if pv.product is None or any(f.rule not in _NOT_VALID_RULES for f in unreadable):
            out.add(SUBMISSION_INVALID)
        if any(f.rule in _NOT_VALID_RULES for f in own):
            out.add(GUIDELINE_NOT_VALID)
        for v in pv.verdicts:
            blocking = [f for f in v.findings if f.severity is Severity.ERROR]
            if any(f.rule.startswith("results.") for f in blocking):
                out.add(SUBMISSION_INVALID)  # a damaged stream: its "missing" tests say nothing
            elif any(f.rule in _MISSING_RULES for f in blocking):
                out.add(MISSING_TESTS)
            if any(f.rule in _NOT_VALID_RULES for f in blocking):
                out.add(GUIDELINE_NOT_VALID)
            verified[v.guideline] = verified.get(v.guideline, True) and v.qualifies
    if SUBMISSION_INVALID not in out:
        out.update(VERIFIED_PREFIX + g for g, ok in verified.items() if ok)
    return frozenset(out)


def corrections(current: Iterable[str], wanted: Iterable[str]) -> tuple[list[str], list[str]]:
    """(to add, to remove) so that the managed labels are exactly ``wanted``; others stay."""
    have = {label for label in current if is_managed(label)}
    want = {label for label in wanted if is_managed(label)}
    return sorted(want - have), sorted(have - want)
