"""Replaying a history: one verdict per commit, and what the whole would have looked like.

A program about to adopt govbot wants to know how it would have judged its
past before switching it on: which commits it would have blocked, by which
rules. This module is the pure half: it turns each commit's check into a
:class:`Verdict` and the verdicts into a :class:`Summary` and reports (text,
JSON, CSV). Reading the commits is :mod:`govbot.replay`'s business.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govbot.core.check import CheckResult
from govbot.core.findings import Finding, Severity


@dataclass(frozen=True)
class Verdict:
    commit: str
    parents: tuple[str, ...]
    when: datetime
    subject: str
    era: str | None
    errors: int
    warnings: int
    notices: int
    blocking: dict[str, int]
    """rule -> how many errors of that rule block this commit."""
    error_findings: tuple[Finding, ...]
    changed: tuple[str, ...]

    @property
    def blocked(self) -> bool:
        return self.errors > 0

    @classmethod
    def of(
        cls,
        commit: str,
        parents: Sequence[str],
        when: datetime,
        subject: str,
        result: CheckResult,
    ) -> Verdict:
        errors = [f for f in result.findings if f.severity is Severity.ERROR]
        return cls(
            commit,
            tuple(parents),
            when,
            subject,
            result.era,
            len(errors),
            sum(1 for f in result.findings if f.severity is Severity.WARNING),
            sum(1 for f in result.findings if f.severity is Severity.NOTICE),
            dict(Counter(f.rule for f in errors)),
            tuple(errors),
            tuple(result.changed_files),
        )

    @property
    def first_error(self) -> Finding | None:
        return self.error_findings[0] if self.error_findings else None

    def where(self) -> str:
        f = self.first_error
        return f"{f.file}:{f.line}" if f is not None else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "parents": list(self.parents),
            "date": self.when.isoformat(),
            "subject": self.subject,
            "era": self.era,
            "verdict": "blocked" if self.blocked else "passed",
            "errors": self.errors,
            "warnings": self.warnings,
            "notices": self.notices,
            "rules": dict(sorted(self.blocking.items())),
            "first_error": self.first_error.to_dict() if self.first_error else None,
            "changed": list(self.changed),
        }


@dataclass
class Summary:
    commits: int = 0
    blocked: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    """rule -> number of commits it blocks."""
    by_era: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return self.commits - self.blocked

    def add(self, verdict: Verdict) -> None:
        self.commits += 1
        self.by_era[verdict.era or "-"] += 1
        if verdict.blocked:
            self.blocked += 1
            self.by_rule.update(verdict.blocking.keys())

    def to_dict(self) -> dict[str, Any]:
        return {
            "commits": self.commits,
            "blocked": self.blocked,
            "passed": self.passed,
            "blocked_by_rule": dict(self.by_rule.most_common()),
            "commits_by_era": dict(sorted(self.by_era.items())),
            "seconds": round(self.seconds, 2),
        }


def summarize(verdicts: Iterable[Verdict]) -> Summary:
    summary = Summary()
    for v in verdicts:
        summary.add(v)
    return summary


def verdict_line(v: Verdict) -> str:
    """``abc1234 2016-04-13 2016A blocked json.syntax next.json:85  Leave capabilities ...``"""
    rules = ",".join(sorted(v.blocking)) if v.blocked else "-"
    state = "blocked" if v.blocked else "passed "
    where = f" {v.where()}" if v.blocked else ""
    return f"{v.commit[:7]} {v.when:%Y-%m-%d} {v.era or '-':5} {state} {rules}{where}  {v.subject}"


def summary_text(s: Summary) -> str:
    lines = [
        f"{s.commits} commit(s): {s.blocked} blocked, {s.passed} passed ({s.seconds:.1f} s)",
    ]
    if s.by_rule:
        lines.append("blocked by rule (commits):")
        lines += [f"  {rule}: {n}" for rule, n in s.by_rule.most_common()]
    if s.by_era:
        lines.append(
            "judged by process era (commits): "
            + ", ".join(f"{e} {n}" for e, n in sorted(s.by_era.items()))
        )
    return "\n".join(lines)


def report(fmt: str, verdicts: Sequence[Verdict], summary: Summary) -> str:
    if fmt == "json":
        return json.dumps(
            {"verdicts": [v.to_dict() for v in verdicts], "summary": summary.to_dict()}, indent=2
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "commit",
                "date",
                "era",
                "verdict",
                "errors",
                "warnings",
                "rules",
                "first_error",
                "subject",
            ]
        )
        for v in verdicts:
            writer.writerow(
                [
                    v.commit,
                    v.when.date().isoformat(),
                    v.era or "",
                    "blocked" if v.blocked else "passed",
                    v.errors,
                    v.warnings,
                    " ".join(sorted(v.blocking)),
                    v.where(),
                    v.subject,
                ]
            )
        return out.getvalue().rstrip("\n")
    return "\n".join([*(verdict_line(v) for v in verdicts), "", summary_text(summary)])


FORMATS = ("text", "json", "csv")
