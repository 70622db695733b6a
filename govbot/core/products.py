"""Products as data: ``products/<vendor>/<product>.yaml`` and the results beside them.

A product file is what a vendor submits (2017A C2): the product, the programs
it claims (each against one guideline, with its results file), the OpenStack
release it runs, its designated-sections attestation and a description of the
system and configuration used (C4.5). Merged on the governed branch means
approved by the Foundation; the registry is computed from that tree.

A results path is relative to the product file's directory and must stay
inside the vendor's directory, so one vendor's submission cannot point at
another vendor's results (or outside ``products/``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from govbot.core import integrity
from govbot.core.findings import Finding
from govbot.core.layout import PRODUCT_FILE, is_product, is_results
from govbot.core.mustpass import PLATFORM_TARGETS
from govbot.core.rules import split_key
from govbot.core.yamlio import Parsed, parse_bytes

SCHEMA = "product.schema.json"


def product_key(path: str) -> str:
    """``products/acme/cloud.yaml`` -> ``acme/cloud`` (what waivers and URLs use)."""
    m = PRODUCT_FILE.fullmatch(path)
    if m is None:
        raise ValueError(f"{path!r} is not a product file (products/<vendor>/<product>.yaml)")
    return f"{m.group('vendor')}/{m.group('product')}"


def results_path(product_path: str, ref: str) -> str | None:
    """The repo path of a product's results file; None if it leaves the vendor's directory."""
    vendor_dir = posixpath.dirname(product_path)
    resolved = posixpath.normpath(posixpath.join(vendor_dir, ref))
    if ref.startswith("/") or not resolved.startswith(vendor_dir + "/"):
        return None
    return resolved


def program_family(program: str) -> str:
    """The guideline family a program is certified against: "" for platforms, else the add-on."""
    return "" if program in PLATFORM_TARGETS else program


@dataclass(frozen=True)
class Claim:
    """One program a product claims, against one guideline, backed by one results file."""

    index: int
    program: str
    guideline: str
    results: str
    """The results file's repo path, or the reference as written when it is invalid."""


@dataclass(frozen=True)
class Product:
    path: str
    key: str
    data: dict[str, Any]
    claims: tuple[Claim, ...]

    @property
    def name(self) -> str:
        return str(self.data.get("name") or self.key)

    @property
    def vendor(self) -> str:
        return str(self.data.get("vendor") or self.key.split("/")[0])

    @property
    def release(self) -> str | None:
        value = self.data.get("release")
        return value if isinstance(value, str) else None

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "")

    def attested(self, project: str) -> bool:
        entry = (self.data.get("designated_sections") or {}).get(project)
        return isinstance(entry, dict) and entry.get("attested") is True


def from_parsed(parsed: Parsed) -> Product | None:
    """The product in a parsed file; None when it is unusable (its findings say why)."""
    data = parsed.data
    if not isinstance(data, dict) or not is_product(parsed.name):
        return None
    claims = []
    for i, entry in enumerate(data.get("programs") or []):
        if not isinstance(entry, dict):
            continue
        program, guideline, ref = entry.get("program"), entry.get("guideline"), entry.get("results")
        if not (isinstance(program, str) and isinstance(guideline, str) and isinstance(ref, str)):
            continue
        claims.append(Claim(i, program, guideline, results_path(parsed.name, ref) or ref))
    return Product(parsed.name, product_key(parsed.name), data, tuple(claims))


def load(path: str, raw: bytes) -> tuple[Product | None, Parsed]:
    parsed = parse_bytes(path, raw)
    return from_parsed(parsed), parsed


def issues(path: str, data: Any) -> Iterator[integrity.Issue]:
    """What the schema cannot see in one product file (the cross-file checks are in :func:`links`)."""
    if not isinstance(data, dict):
        return
    seen: dict[str, int] = {}
    for i, entry in enumerate(data.get("programs") or []):
        if not isinstance(entry, dict):
            continue
        program, guideline, ref = entry.get("program"), entry.get("guideline"), entry.get("results")
        if isinstance(program, str):
            if program in seen:
                yield integrity.Issue(
                    ("programs", i, "program"),
                    "product.duplicate-program",
                    f"program {program!r} is claimed twice (first as programs[{seen[program]}]); "
                    "claim each program once",
                )
            seen.setdefault(program, i)
            parts = split_key(guideline) if isinstance(guideline, str) else None
            family = program_family(program)
            if parts is not None and parts[0] != family:
                want = f"{family}.YYYY.MM" if family else "YYYY.MM"
                yield integrity.Issue(
                    ("programs", i, "guideline"),
                    "product.guideline-family",
                    f"program {program!r} is certified against a {want} guideline, "
                    f"not {guideline!r}",
                )
        if isinstance(ref, str) and results_path(path, ref) is None:
            yield integrity.Issue(
                ("programs", i, "results"),
                "product.results-outside",
                f"results {ref!r} leave the vendor's directory {posixpath.dirname(path)}/; "
                "keep results beside the product file",
            )


def links(files: Mapping[str, bytes], guideline_keys: set[str]) -> list[Finding]:
    """Across files: each claim's results file and guideline must exist in the snapshot."""
    out: list[Finding] = []
    for path in sorted(p for p in files if is_product(p)):
        product, parsed = load(path, files[path])
        if product is None:
            continue
        problems: list[tuple[tuple[str | int, ...], str, str]] = []
        for c in product.claims:
            if is_results(c.results) and c.results not in files:
                problems.append(
                    (
                        ("programs", c.index, "results"),
                        "product.missing-results",
                        f"results file {c.results} is not in the repository; add it with the product",
                    )
                )
            elif not is_results(c.results) and results_path(path, c.results) is not None:
                problems.append(
                    (
                        ("programs", c.index, "results"),
                        "product.results-type",
                        f"{c.results} is not a results file: name it .subunit, .json or .txt",
                    )
                )
            if c.guideline not in guideline_keys:
                problems.append(
                    (
                        ("programs", c.index, "guideline"),
                        "product.unknown-guideline",
                        f"guideline {c.guideline!r} is not in this repository",
                    )
                )
        marks = parsed.locate([p for p, _, _ in problems])
        out.extend(
            Finding(path, rule, message, line=line, column=column, path=p)
            for (p, rule, message), (line, column) in zip(problems, marks, strict=True)
        )
    return out
