"""Findings: the one shape every check in govbot reports in.

A finding always points somewhere a person can open (file, line, column, key
path), names the rule that produced it, and carries a severity. Severity is
what decides exit codes and merge gates, so it is explicit, never implied by
the rule id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum

KeyPath = tuple[str | int, ...]
"""Where a value sits in a document: keys and list indexes from the root."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    rule: str
    message: str
    severity: Severity = Severity.ERROR
    line: int = 1
    column: int = 1
    path: KeyPath = field(default=())
    inherited: bool = False
    """Already in what the changed file was made from: shown, never blocking, foldable."""

    @property
    def dotted_path(self) -> str:
        return ".".join(str(p) for p in self.path)

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["path"] = self.dotted_path
        d["severity"] = str(self.severity)
        if not self.inherited:
            del d["inherited"]
        return d


_RANK = {Severity.ERROR: 2, Severity.WARNING: 1, Severity.NOTICE: 0}


def at_least(findings: Iterable[Finding], severity: Severity) -> list[Finding]:
    return [f for f in findings if _RANK[f.severity] >= _RANK[severity]]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file, f.line, f.column, f.rule, f.message))


def format_text(findings: Sequence[Finding]) -> str:
    lines = [
        f"{f.file}:{f.line}:{f.column}: {f.severity}: [{f.rule}] {f.message}"
        + (f" (at {f.dotted_path})" if f.path else "")
        for f in findings
    ]
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    lines.append(f"{len(findings)} finding(s), {errors} error(s)")
    return "\n".join(lines)


def format_json(findings: Sequence[Finding]) -> str:
    return json.dumps({"findings": [f.to_dict() for f in findings]}, indent=2)


def _escape_github(value: str, *, prop: bool) -> str:
    # GitHub workflow commands percent-encode these characters; properties also
    # encode ':' and ',' because they separate the properties.
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(findings: Sequence[Finding]) -> str:
    """Workflow annotation lines (``::error file=...,line=...::message``)."""
    out = []
    for f in findings:
        level = "error" if f.severity is Severity.ERROR else f.severity.value
        props = ",".join(
            [
                f"file={_escape_github(f.file, prop=True)}",
                f"line={f.line}",
                f"col={f.column}",
                f"title={_escape_github(f.rule, prop=True)}",
            ]
        )
        out.append(f"::{level} {props}::{_escape_github(f.message, prop=False)}")
    return "\n".join(out)


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}
