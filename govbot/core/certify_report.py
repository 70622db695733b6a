"""Verdicts as text, JSON and Markdown (the review comment on a submission).

Every report of a self-test carries the policy's "unofficial" label (2017A
C1.4: self-test results published before the Foundation's review must be
labelled so), and lists, per capability, what passed and what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from govbot.core.certify import FLAGGED, MISSING, PASSED, WAIVED, CapabilityResult, Verdict
from govbot.core.findings import Finding, Severity, format_text

DETAILS_AFTER = 10


def _state(v: Verdict) -> str:
    return "QUALIFIES" if v.qualifies else "DOES NOT QUALIFY"


def _head(v: Verdict) -> str:
    who = f"{v.product}: " if v.product else ""
    return f"{who}{v.program} ({v.target}), guideline {v.guideline}, on {v.at.isoformat()}"


def _count(c: CapabilityResult) -> str:
    done = len(c.of(PASSED)) - sum(1 for o in c.of(PASSED) if o.test.flagged) + len(c.of(WAIVED))
    return f"{done}/{c.counted}"


def to_text(verdicts: Sequence[Verdict], extra: Sequence[Finding] = ()) -> str:
    label = verdicts[0].label if verdicts else ""
    lines = [f"*** {label} ***", ""] if label else []
    for v in verdicts:
        lines.append(f"{_head(v)}: {_state(v)}")
        lines.append(
            f"  results: {v.results.source} ({v.results.format}, {len(v.results.passed)} passed)"
        )
        for c in v.capabilities:
            mark = "ok  " if c.passed else "FAIL"
            lines.append(f"  {mark} {c.status:<10} {c.name:<48} {_count(c)}")
            for o in c.of(MISSING):
                lines.append(f"         missing: {o.test.name}")
            for o in c.of(WAIVED):
                lines.append(f"         waived:  {o.test.name}")
        lines.append("")
    findings = [*extra, *(f for v in verdicts for f in v.findings)]
    lines.append(format_text(findings))
    return "\n".join(lines) + "\n"


def verdict_dict(v: Verdict) -> dict[str, Any]:
    return {
        "product": v.product,
        "program": v.program,
        "target": v.target,
        "guideline": v.guideline,
        "release": v.release,
        "at": v.at.isoformat(),
        "qualifies": v.qualifies,
        "official": v.official,
        "valid_guidelines": list(v.valid),
        "results": {
            "file": v.results.source,
            "format": v.results.format,
            "passed": len(v.results.passed),
        },
        "capabilities": [
            {
                "name": c.name,
                "status": c.status,
                "passed": c.passed,
                "tests": {
                    state: [o.test.name for o in c.of(state)]
                    for state in (PASSED, MISSING, FLAGGED, WAIVED)
                },
            }
            for c in v.capabilities
        ],
        "waived": list(v.waived),
        "findings": [f.to_dict() for f in v.findings],
    }


def to_json(verdicts: Sequence[Verdict], extra: Sequence[Finding] = ()) -> str:
    doc = {
        "label": verdicts[0].label if verdicts else "",
        "qualifies": bool(verdicts)
        and all(v.qualifies for v in verdicts)
        and not any(f.severity is Severity.ERROR for f in extra),
        "verdicts": [verdict_dict(v) for v in verdicts],
        "findings": [f.to_dict() for f in extra],
    }
    return json.dumps(doc, indent=2) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}


def to_markdown(
    verdicts: Sequence[Verdict], extra: Sequence[Finding] = (), *, with_findings: bool = True
) -> str:
    """The capability tables, then the findings (left out with ``with_findings=False``,
    for a review comment that lists them already, with the change's other findings)."""
    out = []
    if verdicts and verdicts[0].label:
        out.append(f"> **{_md(verdicts[0].label)}**\n")
    for v in verdicts:
        out.append(f"### {'✅' if v.qualifies else '❌'} {_md(_head(v))}: {_state(v).lower()}\n")
        out.append(
            f"Results `{_md(v.results.source)}` ({v.results.format}): "
            f"{len(v.results.passed)} test(s) passed.\n"
        )
        failing = [c for c in v.capabilities if not c.passed]
        out.append("| | Status | Capability | Passed | Missing tests |")
        out.append("|---|---|---|---|---|")
        for c in failing:
            missing = "<br>".join(f"`{_md(o.test.name)}`" for o in c.of(MISSING))
            out.append(f"| ❌ | {c.status} | `{c.name}` | {_count(c)} | {missing} |")
        passing = [c for c in v.capabilities if c.passed]
        rows = [f"| ✅ | {c.status} | `{c.name}` | {_count(c)} | |" for c in passing]
        if len(rows) > DETAILS_AFTER:
            out.append("")
            out.append(f"<details><summary>{len(rows)} capabilities passed</summary>\n")
            out.append("| | Status | Capability | Passed | |")
            out.append("|---|---|---|---|---|")
            out.extend(rows)
            out.append("\n</details>")
        else:
            out.extend(rows)
        out.append("")
    findings = [*extra, *(f for v in verdicts for f in v.findings)] if with_findings else []
    if findings:
        out.append("#### Findings\n")
        for f in findings:
            where = f"`{_md(f.file)}:{f.line}`"
            out.append(f"- {_ICON[f.severity]} **{f.rule}** {where}: {_md(f.message)}")
        out.append("")
    return "\n".join(out) + "\n"


FORMATS = {"text": to_text, "json": to_json, "markdown": to_markdown}
