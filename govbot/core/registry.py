"""The registry of certified products, computed from the governed branch's products tree.

A product file on the governed branch was merged, so the Foundation approved
it (2017A C2.2); each program it claims is an entry, with its guideline,
release, approval date and expiry: the day its guideline leaves the latest
approved (:meth:`govbot.core.validity.Validity.expires`). An expired entry
stays listed as a past validation (C6.2). What is published for an entry is
what C4 asks: the description of the system and configuration (C4.5) and its
individual passes only (C4.3, C4.4), never failures or skips; with the tests
a waiver covered, since a waiver was published with the product.

Pure: the caller passes the snapshot, the day, and the approval dates (from
Git history, or the bot's decision record); an entry whose date is unknown is
judged on the day given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from govbot.core import products
from govbot.core.certification import CertificationPolicy
from govbot.core.certify import Verdict
from govbot.core.results import TestResults, from_published
from govbot.core.submission import Guidelines, load_policy, verify_product

CURRENT, EXPIRED = "current", "expired"


@dataclass(frozen=True)
class Certified:
    """One program of one approved product."""

    product: str
    path: str
    name: str
    vendor: str
    kind: str
    program: str
    program_name: str
    guideline: str
    release: str | None
    approved_on: date | None
    expires: date | None
    status: str
    """current (its guideline is among the latest approved on the day) or expired."""
    results: TestResults
    description: str = ""
    regions: tuple[str, ...] = ()
    capabilities: tuple[tuple[str, str, bool], ...] = ()
    """(capability, status, passed) per capability of the program's guideline."""
    waived: tuple[str, ...] = ()
    qualified: bool = True
    """Whether the results qualified on the approval day (the Foundation may decide otherwise)."""

    def published(self) -> dict[str, Any]:
        """The public record (2017A C4): passes only, per test, and the system description."""
        return {
            "product": self.product,
            "name": self.name,
            "vendor": self.vendor,
            "kind": self.kind,
            "program": self.program,
            "program_name": self.program_name,
            "guideline": self.guideline,
            "release": self.release,
            "regions": list(self.regions),
            "description": self.description,
            "approved_on": self.approved_on.isoformat() if self.approved_on else None,
            "expires": self.expires.isoformat() if self.expires else None,
            "status": self.status,
            "capabilities_passed": [c for c, _, ok in self.capabilities if ok],
            "waived_tests": list(self.waived),
            "passed_tests": self.results.published(),
        }

    def summary(self) -> dict[str, Any]:
        record = self.published()
        record.pop("passed_tests")
        record.pop("capabilities_passed")
        record["passed"] = len(self.results.passed)
        return record


@dataclass
class Registry:
    entries: list[Certified] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    """(path, why) of product files or claims that could not be read: listed, never dropped."""

    def current(self) -> list[Certified]:
        return [e for e in self.entries if e.status == CURRENT]


def build(
    files: Mapping[str, bytes],
    today: date,
    approved_on: Mapping[str, date] | None = None,
    policy: CertificationPolicy | None = None,
) -> Registry:
    """Every approved product's programs, from a snapshot of the governed branch."""
    policy = policy or load_policy(files)
    guidelines = Guidelines(files, policy.valid_latest)
    dates = approved_on or {}
    out = Registry()
    for path in sorted(p for p in files if products.is_product(p)):
        day = dates.get(path)
        checked = verify_product(files, path, day or today, policy, guidelines)
        product = checked.product
        if product is None:
            why = checked.findings[0].message if checked.findings else "unreadable"
            out.unreadable.append((path, why))
            continue
        out.unreadable.extend(
            (path, f"{f.message} (at {f.dotted_path})")
            for f in checked.findings
            if f.severity.value == "error"
        )
        for v in checked.verdicts:
            out.entries.append(_entry(product, v, day, today, guidelines))
    out.entries.sort(key=lambda e: (e.vendor.casefold(), e.name.casefold(), e.program))
    return out


def _entry(
    product: products.Product, v: Verdict, day: date | None, today: date, guidelines: Guidelines
) -> Certified:
    validity = guidelines.validity
    status = CURRENT if v.guideline in validity.valid_at(v.guideline, today) else EXPIRED
    regions = product.data.get("regions")
    return Certified(
        product.key,
        product.path,
        product.name,
        product.vendor,
        product.kind,
        v.target,
        v.program,
        v.guideline,
        product.release,
        day,
        validity.expires(v.guideline),
        status,
        v.results,
        str(product.data.get("description") or ""),
        tuple(str(r) for r in regions) if isinstance(regions, list) else (),
        tuple((c.name, c.status, c.passed) for c in v.capabilities),
        v.waived,
        v.qualifies,
    )


def entries_from_json(records: list[dict[str, Any]]) -> list[Certified]:
    """Entries back from their published JSON (``published()``), e.g. a site's data."""
    out = []
    for r in records:
        tests = r.get("passed_tests") or []
        out.append(
            Certified(
                str(r["product"]),
                f"products/{r['product']}.yaml",
                str(r.get("name") or r["product"]),
                str(r.get("vendor") or ""),
                str(r.get("kind") or ""),
                str(r["program"]),
                str(r.get("program_name") or r["program"]),
                str(r["guideline"]),
                r.get("release"),
                date.fromisoformat(r["approved_on"]) if r.get("approved_on") else None,
                date.fromisoformat(r["expires"]) if r.get("expires") else None,
                str(r.get("status") or CURRENT),
                from_published(str(r["product"]), tests),
                str(r.get("description") or ""),
                tuple(r.get("regions") or ()),
                waived=tuple(r.get("waived_tests") or ()),
            )
        )
    return out


__all__ = ["CURRENT", "EXPIRED", "Certified", "Registry", "build", "entries_from_json"]
