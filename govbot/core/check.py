"""Judging a proposed change: validation of what it touches, the diff, the process rules.

Everything is decided by the *base* snapshot's policies; the head's copies of
``policies/`` are validated like any other file but never consulted, so a
change cannot loosen the rules that judge it.

Cost follows the size of the change, not of the repo: only changed guidelines,
the guidelines whose predecessor changed, and their predecessors are parsed.
Choosing predecessors needs every guideline's status, which is read from the
top-level ``status:`` line of block YAML without parsing the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from govbot.core import layout, policy_links
from govbot.core.diff import Change, diff_guideline
from govbot.core.documents import parse_document
from govbot.core.findings import Finding, Severity, sort_findings
from govbot.core.layout import guideline_key, guideline_kind
from govbot.core.rules import (
    FROZEN,
    RULES,
    Hit,
    Rule,
    StateContext,
    TransitionContext,
    predecessors,
    split_key,
)
from govbot.core.validate import (
    FindingsCache,
    SchemaSet,
    ValidationPolicy,
    classify,
    validate_files,
)
from govbot.core.yamlio import DEFAULT_MAX_BYTES, Parsed, parse_bytes

_STATUS_LINE = re.compile(rb"^status:[ \t]*['\"]?([A-Za-z]+)['\"]?[ \t]*(?:#.*)?$", re.M)


@dataclass(frozen=True)
class RulesPolicy:
    severities: Mapping[str, str] = field(default_factory=dict)
    transitions: Mapping[str, list[str]] = field(
        default_factory=lambda: {
            "draft": ["review", "approved"],
            "review": ["draft", "approved"],
            "advisory": ["draft", "approved"],
            "approved": ["superseded"],
            "superseded": [],
        }
    )
    initial: list[str] = field(default_factory=lambda: ["draft", "approved"])

    @classmethod
    def from_data(cls, data: Any) -> RulesPolicy:
        if not isinstance(data, dict):
            return cls()
        default = cls()
        rules = data.get("rules")
        rules = rules if isinstance(rules, dict) else {}
        return cls(
            severities={k: str(v.get("severity")) for k, v in rules.items() if isinstance(v, dict)},
            transitions=data.get("status_transitions") or default.transitions,
            initial=data.get("initial_statuses") or default.initial,
        )

    def severity(self, rule: Rule) -> Severity | None:
        chosen = self.severities.get(rule.id)
        if chosen == "off":
            return None
        return Severity(chosen) if chosen in {s.value for s in Severity} else rule.severity


Parser = Callable[[str, bytes, int], Parsed]


def memo_parser() -> Parser:
    """One parse per (path, content) for a whole check: base and head share most files."""
    memo: dict[tuple[str, bytes], Parsed] = {}

    def parse(path: str, raw: bytes, max_bytes: int) -> Parsed:
        key = (path, raw)
        if key not in memo:
            memo[key] = parse_document(path, raw, max_bytes)
        return memo[key]

    return parse


class Side:
    """One snapshot's guideline files, parsed lazily (only what a check needs)."""

    def __init__(self, files: Mapping[str, bytes], parse: Parser = parse_document) -> None:
        self.files = files
        self._parse = parse
        self.paths: dict[str, str] = {}
        for path in sorted(files):
            key = guideline_key(path)
            if not guideline_kind(path) or (path.endswith(".json") and key in self.paths):
                continue  # govbot's YAML wins over an interop JSON file of the same id
            self.paths[key] = path
        self._parsed: dict[str, Parsed] = {}

    def parsed(self, key: str) -> Parsed | None:
        path = self.paths.get(key)
        if path is None:
            return None
        if key not in self._parsed:
            self._parsed[key] = self._parse(path, self.files[path], DEFAULT_MAX_BYTES)
        return self._parsed[key]

    def data(self, key: str) -> dict[str, Any] | None:
        parsed = self.parsed(key)
        return parsed.data if parsed is not None and isinstance(parsed.data, dict) else None

    @cached_property
    def statuses(self) -> dict[str, dict[str, Any]]:
        """{key: {"status": ...}} for every guideline: enough to choose predecessors."""
        out = {}
        for key, path in self.paths.items():
            status = None
            if path.endswith(".yaml"):
                m = _STATUS_LINE.search(self.files[path])
                status = m.group(1).decode() if m else None
            if status is None:
                status = (self.data(key) or {}).get("status")
            out[key] = {"status": status}
        return out

    @cached_property
    def _predecessors(self) -> dict[str, str | None]:
        return predecessors(self.statuses)

    def predecessor(self, key: str) -> str | None:
        return self._predecessors.get(key)


@dataclass
class CheckResult:
    findings: list[Finding]
    changes: list[Change]
    changed_files: list[str]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)


def load_policies(files: Mapping[str, bytes]) -> tuple[ValidationPolicy, RulesPolicy]:
    from govbot.core.validate import policy_from_files

    validation, _ = policy_from_files(files)
    raw = files.get(layout.RULES)
    rules = (
        RulesPolicy.from_data(parse_bytes(layout.RULES, raw).data)
        if raw is not None
        else RulesPolicy()
    )
    return validation, rules


def check(
    base_files: Mapping[str, bytes],
    head_files: Mapping[str, bytes],
    schemas: SchemaSet,
    cache: FindingsCache | None = None,
    policy_files: Mapping[str, bytes] | None = None,
) -> CheckResult:
    """Judge the change from ``base_files`` to ``head_files``.

    The rules come from ``policy_files`` (the governed branch's, pinned by the
    bot) or, by default, from the base: never from the head, so a change
    cannot loosen the rules that judge it.
    """
    validation_policy, rules_policy = load_policies(
        base_files if policy_files is None else policy_files
    )
    changed = sorted(p for p, raw in head_files.items() if classify(p) and base_files.get(p) != raw)
    deleted = sorted(p for p in base_files if classify(p) and p not in head_files)
    parse = memo_parser()
    base, head = Side(base_files, parse), Side(head_files, parse)
    findings = _validate_changed(changed, base, head, schemas, validation_policy, cache, parse)
    if any(p in policy_links.FILES for p in [*changed, *deleted]):
        findings += _links_introduced(base_files, head_files, validation_policy)
    touched = {guideline_key(p) for p in [*changed, *deleted] if guideline_kind(p)}
    affected = set(touched)
    for side in (base, head):
        affected |= {k for k in side.paths if side.predecessor(k) in touched}
    changes: list[Change] = []
    for key in sorted(affected):
        if key in touched:
            changes.extend(_diff(key, base, head))
        findings.extend(_judge(key, base, head, rules_policy))
    return CheckResult(sort_findings(findings), changes, [*changed, *deleted])


def _links_introduced(
    base_files: Mapping[str, bytes], head_files: Mapping[str, bytes], policy: ValidationPolicy
) -> list[Finding]:
    """The cross-policy findings of the head that the base does not have already."""
    severity = policy.severity(policy_links.RULE, False)
    before = {(f.path, f.message) for f in policy_links.check(base_files, severity)}
    return [
        f for f in policy_links.check(head_files, severity) if (f.path, f.message) not in before
    ]


PARSE_RULES = ("yaml.", "json.")
INHERITED = "(already in the base version) "
UNKNOWN_BASE = "(the base version is unreadable, so this may be inherited) "


def _validate_changed(
    changed: list[str],
    base: Side,
    head: Side,
    schemas: SchemaSet,
    policy: ValidationPolicy,
    cache: FindingsCache | None,
    parse: Parser,
) -> list[Finding]:
    """Validation of the changed files, blocking only on what the change introduces.

    A draft's old defects are errors, but a change that merely touches the draft
    did not make them: they are reported as warnings, marked as inherited (old
    warnings and notices are left out). The base version is the same path, or
    the draft a new release was cut from.
    """
    head_findings = validate_files(
        {p: head.files[p] for p in changed}, schemas, policy, cache, parse, whole=False
    )
    origin = {p: _origin(p, base) for p in changed}
    base_paths = {o for o in origin.values() if o is not None}
    base_findings = validate_files(
        {p: base.files[p] for p in base_paths}, schemas, policy, cache, parse, whole=False
    )
    seen = {(f.file, f.rule, f.path, f.message) for f in base_findings}
    unreadable = {f.file for f in base_findings if f.rule.startswith(PARSE_RULES)}
    out = []
    for f in head_findings:
        o = origin.get(f.file)
        if o is not None and o in unreadable:
            if f.severity is Severity.ERROR:
                f = replace(f, severity=Severity.WARNING, message=UNKNOWN_BASE + f.message)
        elif o is not None and (o, f.rule, f.path, f.message) in seen:
            if f.severity is not Severity.ERROR:
                continue  # an old warning is not this change's business
            f = replace(f, severity=Severity.WARNING, message=INHERITED + f.message)
        out.append(f)
    return out


def _origin(path: str, base: Side) -> str | None:
    if path in base.files:
        return path
    if guideline_kind(path):
        key = _baseline_key(guideline_key(path), base)
        return base.paths.get(key) if key else None
    return None


def _diff(key: str, base: Side, head: Side) -> list[Change]:
    b, h = base.data(key), head.data(key)
    if (b is None and key in base.paths) or (h is None and key in head.paths):
        return []  # an unreadable side: validation already says why
    return diff_guideline(key, b, h)


def _baseline_key(key: str, base: Side) -> str | None:
    """What the head's guideline was before: itself, or the draft a release was cut from."""
    if key in base.paths:
        return key
    parts = split_key(key)
    if parts and parts[1] != "next":
        draft = f"{parts[0]}.next" if parts[0] else "next"
        if draft in base.paths:
            return draft
    return None


def _state_hits(rule: Rule, key: str, side: Side, as_key: str | None = None) -> list[Hit]:
    g = side.data(as_key or key)
    if g is None:
        return []
    pred = side.predecessor(key)
    ctx = StateContext(key, g, side.data(pred) if pred else None, pred)
    return list(rule.check(ctx))


def _judge(key: str, base: Side, head: Side, policy: RulesPolicy) -> list[Finding]:
    parsed = head.parsed(key) or base.parsed(key)
    if parsed is None or (key in head.paths and head.data(key) is None):
        return []  # unreadable in the head: validation reports why, rules cannot judge
    out: list[tuple[Rule, Severity, Hit]] = []
    params = {"transitions": policy.transitions, "initial": policy.initial}
    baseline = _baseline_key(key, base)
    # With an unreadable base (a commit fixing a broken file), nothing tells what
    # this change introduced: state findings are then reported, but never block.
    blind = baseline is not None and base.data(baseline) is None
    for rule in RULES:
        severity = policy.severity(rule)
        if severity is None:
            continue
        if rule.kind == "state":
            known = (
                {h.fingerprint for h in _state_hits(rule, key, base, baseline)}
                if baseline
                else set()
            )
            hits = [h for h in _state_hits(rule, key, head) if h.fingerprint not in known]
            if blind and severity is Severity.ERROR:
                severity = Severity.WARNING
                note = " (the base version is unreadable, so this may be inherited)"
                hits = [replace(h, message=h.message + note) for h in hits]
        else:
            base_g = base.data(key) if key in base.paths else None
            hits = list(rule.check(TransitionContext(key, base_g, head.data(key), params)))
        out.extend((rule, severity, hit) for hit in hits)
    marks = parsed.locate([hit.path for _, _, hit in out])
    return [
        Finding(
            parsed.name,
            rule.id,
            f"{hit.message}. {rule.id}: \u201c{rule.text}\u201d Fix: {hit.fix}.",
            severity,
            line,
            column,
            hit.path,
        )
        for (rule, severity, hit), (line, column) in zip(out, marks, strict=True)
    ]


__all__ = ["FROZEN", "CheckResult", "RulesPolicy", "check"]
