"""Reports of a diff or a check as text, JSON and Markdown (the review comment)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby

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


def findings_markdown(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings.\n"
    icon = {
        Severity.ERROR: "\u274c",
        Severity.WARNING: "\u26a0\ufe0f",
        Severity.NOTICE: "\u2139\ufe0f",
    }
    rows = [
        f"| {icon[f.severity]} {f.severity} | `{f.file}:{f.line}` | `{f.rule}` | {_md(f.message)} |"
        for f in findings
    ]
    return "| | Where | Rule | Finding |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


def check_markdown(findings: Sequence[Finding], changes: Sequence[Change]) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    verdict = "\u274c **govbot check failed**" if errors else "\u2705 **govbot check passed**"
    return (
        f"{verdict}: {errors} error(s), {warnings} warning(s), {len(changes)} change(s)\n\n"
        f"### Findings\n\n{findings_markdown(findings)}\n### What changed\n\n{changes_markdown(changes)}"
    )


def check_report(fmt: str, findings: Sequence[Finding], changes: Sequence[Change]) -> str:
    if fmt == "markdown":
        return check_markdown(findings, changes)
    if fmt == "json":
        return json.dumps(
            {
                "findings": [f.to_dict() for f in findings],
                "changes": [c.to_dict() for c in changes],
            },
            indent=2,
            default=str,
        )
    if fmt == "github":
        return FORMATTERS["github"](findings)
    return FORMATTERS["text"](findings) + "\n" + changes_text(changes)


DIFF_FORMATTERS = {"text": changes_text, "json": changes_json, "markdown": changes_markdown}
