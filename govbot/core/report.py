"""Reports of a diff or a check as text, JSON and Markdown (the review comment)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from govbot.core.diff import Change
from govbot.core.findings import FORMATTERS, Finding, Severity

_GROUPS = (
    ("Guideline", ("guideline.",)),
    ("Capability status", ("capability.status",)),
    ("Capabilities", ("capability.added", "capability.removed", "capability.field")),
    ("Tests", ("test.",)),
    ("Scoring", ("criterion.", "cutoff")),
    ("Programs", ("program.",)),
    ("Designated sections", ("section.",)),
    ("Other", ("other",)),
)
DETAILS_AFTER = 25
"""Longer lists fold into <details>, so a release's diff does not bury the findings."""


def _group(kind: str) -> str:
    return next(name for name, prefixes in _GROUPS if kind.startswith(prefixes))


def changes_text(changes: Sequence[Change]) -> str:
    lines = [f"{c.guideline}: {c.describe()}" for c in changes]
    lines.append(f"{len(changes)} change(s)")
    return "\n".join(lines)


def changes_json(changes: Sequence[Change]) -> str:
    return json.dumps({"changes": [c.to_dict() for c in changes]}, indent=2, default=str)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def changes_markdown(changes: Sequence[Change]) -> str:
    if not changes:
        return "No guideline content changed.\n"
    out = []
    for guideline, items in groupby(changes, key=lambda c: c.guideline):
        block = list(items)
        out.append(f"#### `{guideline}`: {len(block)} change(s)\n")
        by_group = sorted(block, key=lambda c: [n for n, _ in _GROUPS].index(_group(c.kind)))
        for group, entries in groupby(by_group, key=lambda c: _group(c.kind)):
            lines = [f"- {_md(c.describe())}" for c in entries]
            if len(lines) > DETAILS_AFTER:
                out.append(
                    f"<details><summary>{group} ({len(lines)})</summary>\n\n"
                    + "\n".join(lines)
                    + "\n\n</details>\n"
                )
            else:
                out.append(f"**{group}**\n\n" + "\n".join(lines) + "\n")
    return "\n".join(out)


_ICON = {
    Severity.ERROR: "\u274c",
    Severity.WARNING: "\u26a0\ufe0f",
    Severity.NOTICE: "\u2139\ufe0f",
}
_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTICE: 2}
SHOWN = 25
"""Findings listed in full in a review comment before the rest fold into <details>."""


def findings_markdown(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings.\n"
    rows = [
        f"| {_ICON[f.severity]} {f.severity} | `{f.file}:{f.line}` | `{f.rule}` | {_md(f.message)} |"
        for f in findings
    ]
    return "| | Where | Rule | Finding |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


@dataclass(frozen=True)
class RuleCount:
    rule: str
    errors: int
    warnings: int
    notices: int
    inherited: int


def by_rule(findings: Sequence[Finding]) -> list[RuleCount]:
    """One row per rule, the rules that block first: what a reviewer reads first."""
    counts: dict[str, Counter[str]] = {}
    for f in findings:
        c = counts.setdefault(f.rule, Counter())
        c["inherited" if f.inherited else f.severity.value] += 1
    rows = [
        RuleCount(rule, c["error"], c["warning"], c["notice"], c["inherited"])
        for rule, c in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.errors, -r.warnings, -r.notices, r.rule))


def _inherited_line(findings: Sequence[Finding]) -> str:
    old = Counter(f.rule for f in findings if f.inherited)
    if not old:
        return ""
    rules = ", ".join(
        f"{rule} \u00d7{n}" for rule, n in sorted(old.items(), key=lambda x: (-x[1], x[0]))
    )
    return f"{sum(old.values())} inherited finding(s), already in the base version and not this change's: {rules}"


def _rule_table(rows: Sequence[RuleCount]) -> str:
    lines = ["| Rule | Errors | Warnings | Notices | Inherited |", "|---|---|---|---|---|"]
    lines += [
        f"| `{r.rule}` | {r.errors or ''} | {r.warnings or ''} | {r.notices or ''} | {r.inherited or ''} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def _folded(title: str, findings: Sequence[Finding], open_: bool = False) -> str:
    if not findings:
        return ""
    if open_ and len(findings) <= SHOWN:
        return f"### {title}\n\n{findings_markdown(findings)}\n"
    head = findings[:SHOWN] if open_ else []
    rest = findings[len(head) :]
    out = f"### {title}\n\n{findings_markdown(head)}\n" if head else ""
    summary = f"{title}: {len(rest)} more" if head else f"{title} ({len(rest)})"
    return (
        out + f"<details><summary>{summary}</summary>\n\n{findings_markdown(rest)}\n</details>\n\n"
    )


def scores_markdown(scores: Sequence[Any]) -> str:
    """Each touched capability's score against its guideline's cut-off (A4.4)."""
    if not scores:
        return ""
    rows = [
        f"| `{s.guideline}` | `{s.capability}` | {s.status} | {s.score} | {s.cutoff} | {s.verdict} |"
        for s in scores
    ]
    return (
        "### Scores of the capabilities this change touches\n\n"
        "| Guideline | Capability | Status | Score | Cut-off | |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )


def check_markdown(
    findings: Sequence[Finding],
    changes: Sequence[Change],
    era: str | None = None,
    scores: Sequence[Any] = (),
) -> str:
    """The review comment: the verdict, a count per rule, what blocks in full, the rest folded.

    Every finding is also a check-run annotation on its line, so the comment
    stays short enough to read: inherited findings fold into one line.
    """
    ordered = sorted(findings, key=lambda f: (_RANK[f.severity], f.rule, f.file, f.line))
    errors = [f for f in ordered if f.severity is Severity.ERROR]
    fresh = [f for f in ordered if f.severity is not Severity.ERROR and not f.inherited]
    inherited = [f for f in ordered if f.inherited]
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    verdict = "\u274c **govbot check failed**" if errors else "\u2705 **govbot check passed**"
    judged = f", judged by process {era}" if era and era != "-" else ""
    out = [
        f"{verdict}: {len(errors)} error(s), {warnings} warning(s), {len(changes)} change(s){judged}\n"
    ]
    if findings:
        out.append(_rule_table(by_rule(findings)))
    out.append(_folded("Blocking", errors, open_=True))
    out.append(_folded("Warnings and notices", fresh, open_=not errors))
    if inherited:
        out.append(
            f"<details><summary>{_md(_inherited_line(findings))}</summary>\n\n"
            f"{findings_markdown(inherited)}\n</details>\n\n"
        )
    if not findings:
        out.append("No findings.\n\n")
    out.append(scores_markdown(scores))
    out.append(f"### What changed\n\n{changes_markdown(changes)}")
    return "\n".join(part for part in out if part)


def check_text(
    findings: Sequence[Finding],
    changes: Sequence[Change],
    era: str | None = None,
    scores: Sequence[Any] = (),
) -> str:
    """Findings grouped by rule (what blocks first), inherited ones in one line, then the diff."""
    ordered = sorted(findings, key=lambda f: (_RANK[f.severity], f.rule, f.file, f.line))
    lines = []
    for rule, group in groupby([f for f in ordered if not f.inherited], key=lambda f: f.rule):
        block = list(group)
        lines.append(f"[{rule}] {len(block)} finding(s)")
        lines += [
            f"  {f.file}:{f.line}:{f.column}: {f.severity}: {f.message}"
            + (f" (at {f.dotted_path})" if f.path else "")
            for f in block
        ]
    if inherited := _inherited_line(findings):
        lines.append(inherited)
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    judged = f", judged by process {era}" if era and era != "-" else ""
    lines.append(f"{len(findings)} finding(s), {errors} error(s){judged}")
    lines += [
        f"score: {s.guideline} {s.capability} ({s.status}) {s.score} / cut-off {s.cutoff}: {s.verdict}"
        for s in scores
    ]
    return "\n".join(lines) + "\n" + changes_text(changes)


def check_report(
    fmt: str,
    findings: Sequence[Finding],
    changes: Sequence[Change],
    era: str | None = None,
    scores: Sequence[Any] = (),
) -> str:
    if fmt == "markdown":
        return check_markdown(findings, changes, era, scores)
    if fmt == "json":
        return json.dumps(
            {
                "era": era,
                "findings": [f.to_dict() for f in findings],
                "summary": [r.__dict__ for r in by_rule(findings)],
                "scores": [{**s.__dict__, "verdict": s.verdict} for s in scores],
                "changes": [c.to_dict() for c in changes],
            },
            indent=2,
            default=str,
        )
    if fmt == "github":
        return FORMATTERS["github"](findings)
    return check_text(findings, changes, era, scores)


DIFF_FORMATTERS = {"text": changes_text, "json": changes_json, "markdown": changes_markdown}
