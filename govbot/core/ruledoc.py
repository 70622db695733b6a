"""The rules table as a reader sees it: every process rule, its paragraph, eras and severity.

Generated from :data:`govbot.core.rules.RULES` and the era table, so the
README's list (and ``govbot rules``) cannot drift from what the checker does.
"""

from __future__ import annotations

from dataclasses import dataclass

from govbot.core.eras import PARAGRAPH, Eras
from govbot.core.rules import RULES, Rule


@dataclass(frozen=True)
class RuleRow:
    rule: str
    paragraph: str
    eras: str
    severity: str
    kind: str
    text: str


def _eras(rule: Rule, eras: Eras) -> tuple[str, str]:
    m = PARAGRAPH.match(rule.id)
    paragraph = m.group("paragraph") if m else rule.cites
    if paragraph is None:
        return "-", "every era (govbot's own)"
    having = [e.id for e in eras.process if paragraph in e.paragraphs]
    if not eras.process:
        return paragraph, "-"
    if not having:
        return paragraph, "none (govbot's own rule in every era)"
    if having == [e.id for e in eras.process]:
        span = "all: " + ", ".join(having)
    else:
        span = ", ".join(having)
    if not m:
        span += " (govbot's own rule in the others)"
    return paragraph, span


def rule_rows(eras: Eras) -> list[RuleRow]:
    rows = []
    for rule in RULES:
        paragraph, span = _eras(rule, eras)
        severity = rule.severity.value
        if rule.frozen_severity is not None:
            severity += f" ({rule.frozen_severity.value} once approved)"
        rows.append(RuleRow(rule.id, paragraph, span, severity, rule.kind, rule.text))
    return rows


def rules_markdown(eras: Eras) -> str:
    lines = [
        "| Rule | Paragraph | Eras | Severity | Judges | What it says (2017A) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rule_rows(eras):
        kind = (
            "the guideline against its predecessor"
            if r.kind == "state"
            else "the step from base to head"
        )
        text = r.text.replace("|", "\\|")
        lines.append(f"| `{r.rule}` | {r.paragraph} | {r.eras} | {r.severity} | {kind} | {text} |")
    return "\n".join(lines) + "\n"
