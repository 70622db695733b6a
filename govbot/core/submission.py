"""A product submission judged from repo snapshots: what the bot runs on a product change.

:func:`verify_product` judges one product file of a snapshot (each claimed
program: its results parsed, scored, and the paragraphs applied);
:func:`check_submission` judges every product a change touches, with the
*base* branch's certification policy, so a submission cannot change the rules
or the waivers that judge it. A claim the change leaves as it was (same
program, guideline and results bytes) was validated when it was approved:
2017A C6.2 respects past validations, so its guideline leaving the latest
approved no longer blocks an unrelated edit (a new contact, say).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from govbot.core import certification, products
from govbot.core.certify import (
    Locator,
    ProductVerdict,
    Requirements,
    Verdict,
    requirements,
    verify,
)
from govbot.core.check import Side
from govbot.core.findings import Finding, Severity
from govbot.core.mustpass import UnknownTarget
from govbot.core.results import parse_results
from govbot.core.validity import Validity
from govbot.core.yamlio import parse_bytes

PAST_VALIDATION = (
    " (unchanged since it was approved: 2017A C6.2 respects past validations, so this "
    "does not block)"
)


def load_policy(files: Mapping[str, bytes]) -> certification.CertificationPolicy:
    raw = files.get(certification.PATH)
    if raw is None:
        return certification.CertificationPolicy()
    return certification.CertificationPolicy.from_data(parse_bytes(certification.PATH, raw).data)


class Guidelines:
    """A snapshot's guidelines, parsed and compiled on demand (once per guideline and target)."""

    def __init__(self, files: Mapping[str, bytes], latest: int = 2) -> None:
        self.side = Side(files)
        self.validity = Validity.from_files(files, latest)
        self._compiled: dict[tuple[str, str], Requirements] = {}

    def requirements(self, guideline: str, target: str) -> Requirements | str:
        """The compiled guideline, or why it cannot be used (a message)."""
        key = (guideline, target)
        if key not in self._compiled:
            data = self.side.data(guideline)
            if data is None:
                known = guideline in self.side.paths
                return (
                    f"guideline {guideline} is {'unreadable' if known else 'not in the repository'}"
                )
            try:
                self._compiled[key] = requirements(guideline, data, target)
            except UnknownTarget as e:
                return str(e)
        return self._compiled[key]


def verify_product(
    files: Mapping[str, bytes],
    path: str,
    at: date,
    policy: certification.CertificationPolicy | None = None,
    guidelines: Guidelines | None = None,
) -> ProductVerdict:
    """Every program a product claims, judged on ``at`` (results read from ``files``)."""
    policy = policy or load_policy(files)
    guidelines = guidelines or Guidelines(files, policy.valid_latest)
    raw = files.get(path)
    if raw is None:
        return ProductVerdict(
            path, None, findings=[_error(path, "product.missing", "no such file")]
        )
    product, parsed = products.load(path, raw)
    if product is None:
        problems = parsed.findings or [
            _error(path, "product.unreadable", "not a product: a mapping of name, programs, …")
        ]
        return ProductVerdict(path, None, findings=list(problems))
    out = ProductVerdict(path, product)
    locator = Locator(path, parsed.locate)
    for claim in product.claims:
        at_guideline, at_results = parsed.locate(
            [("programs", claim.index, "guideline"), ("programs", claim.index, "results")]
        )
        req = guidelines.requirements(claim.guideline, claim.program)
        if isinstance(req, str):
            out.findings.append(
                _error(
                    path,
                    "product.unknown-guideline",
                    req,
                    at_guideline,
                    ("programs", claim.index),
                )
            )
            continue
        results_raw = files.get(claim.results)
        if results_raw is None or not products.is_results(claim.results):
            out.findings.append(
                _error(
                    path,
                    "product.missing-results",
                    f"results file {claim.results} is not in the repository",
                    at_results,
                    ("programs", claim.index, "results"),
                )
            )
            continue
        read = parse_results(claim.results, results_raw)
        if read.results is None:
            out.findings.extend(read.findings)
            continue
        out.verdicts.append(
            verify(
                read.results,
                req,
                guidelines.validity,
                at,
                product=product,
                claim=claim,
                policy=policy,
                locator=locator,
                extra=read.findings,
            )
        )
    return out


def changed_products(base: Mapping[str, bytes], head: Mapping[str, bytes]) -> list[str]:
    """Head product files a change adds or edits, or whose results files it changes."""
    touched = {p for p in head if base.get(p) != head[p]} | {p for p in base if p not in head}
    out = []
    for path in sorted(p for p in head if products.is_product(p)):
        if path in touched:
            out.append(path)
            continue
        product, _ = products.load(path, head[path])
        if product is not None and any(c.results in touched for c in product.claims):
            out.append(path)
    return out


def check_submission(
    base: Mapping[str, bytes], head: Mapping[str, bytes], at: date
) -> list[ProductVerdict]:
    """Every product the change touches, judged with the base branch's certification policy.

    Guidelines come from the head (a change adding a product does not add
    guidelines; one that did is judged by the guideline checker first).
    """
    policy = load_policy(base)
    guidelines = Guidelines(head, policy.valid_latest)
    out = []
    for path in changed_products(base, head):
        verdict = verify_product(head, path, at, policy, guidelines)
        before = _claims(base, path)
        verdict.verdicts = [
            _respect_past(v, before, head) if v.product is not None else v for v in verdict.verdicts
        ]
        out.append(verdict)
    return out


def _claims(files: Mapping[str, bytes], path: str) -> dict[str, tuple[str, bytes | None]]:
    if path not in files:
        return {}
    product, _ = products.load(path, files[path])
    if product is None:
        return {}
    return {c.program: (c.guideline, files.get(c.results)) for c in product.claims}


def _respect_past(
    verdict: Verdict, before: Mapping[str, tuple[str, bytes | None]], head: Mapping[str, bytes]
) -> Verdict:
    program = verdict.target
    was = before.get(program)
    now = (verdict.guideline, head.get(verdict.results.source))
    if was is None or was != now:
        return verdict
    findings = tuple(
        replace(f, severity=Severity.NOTICE, message=f.message + PAST_VALIDATION)
        if f.rule == "2017A.C6.1" and f.severity is Severity.ERROR
        else f
        for f in verdict.findings
    )
    return replace(verdict, findings=findings)


def _error(
    path: str,
    rule: str,
    message: str,
    mark: tuple[int, int] = (1, 1),
    key: tuple[str | int, ...] = (),
) -> Finding:
    return Finding(path, rule, message, Severity.ERROR, mark[0], mark[1], key)
