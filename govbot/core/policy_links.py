"""Checks across policy files: what voting.yaml names must exist in committee.yaml.

Each policy file passes its own schema, but a vote rule that asks for the
approval of a role the committee does not have (a typo, a role renamed)
could never pass, and a veto by a missing role would silently never apply.
Only a cross-file check sees that, so it runs after the files' own checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from govbot.core.findings import Finding, KeyPath, Severity
from govbot.core.layout import COMMITTEE, VOTING
from govbot.core.policy import DEFAULT_ROLES
from govbot.core.yamlio import parse_bytes

RULE = "policy.unknown-role"
FILES = (COMMITTEE, VOTING)


def check(files: Mapping[str, bytes], severity: Severity | None) -> list[Finding]:
    """The roles voting.yaml names that committee.yaml (or its defaults) does not define."""
    if severity is None or VOTING not in files:
        return []
    voting = parse_bytes(VOTING, files[VOTING])
    roles = _roles(files.get(COMMITTEE))
    if roles is None or not isinstance(voting.data, dict):
        return []  # an unreadable file has findings of its own
    unknown = [(path, role) for path, role in _role_refs(voting.data) if role not in roles]
    marks = voting.locate([path for path, _ in unknown])
    defined = ", ".join(sorted(roles)) or "none"
    return [
        Finding(
            VOTING,
            RULE,
            f"role {role!r} is not a role of {COMMITTEE} (it defines: {defined}); "
            "a rule naming it can never be met or never applies",
            severity,
            line,
            column,
            path,
        )
        for (path, role), (line, column) in zip(unknown, marks, strict=True)
    ]


def _roles(raw: bytes | None) -> set[str] | None:
    if raw is None:
        return {r.name for r in DEFAULT_ROLES}
    data = parse_bytes(COMMITTEE, raw).data
    if not isinstance(data, dict):
        return None
    roles = data.get("roles")
    if roles is None:
        return {r.name for r in DEFAULT_ROLES}
    return {str(name) for name in roles} if isinstance(roles, dict) else None


def _role_refs(voting: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    classes = voting.get("classes")
    for i, cls in enumerate(classes if isinstance(classes, list) else []):
        rule = cls.get("rule") if isinstance(cls, dict) else None
        if not isinstance(rule, dict):
            continue
        approvals = rule.get("approvals")
        for role in approvals if isinstance(approvals, dict) else {}:
            yield ("classes", i, "rule", "approvals", role), str(role)
        veto = rule.get("veto")
        for j, role in enumerate(veto if isinstance(veto, list) else []):
            yield ("classes", i, "rule", "veto", j), str(role)
