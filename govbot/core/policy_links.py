"""Checks across policy files: what voting.yaml names must exist in committee.yaml, and
two files may not give one rule two values.

Each policy file passes its own schema, but a vote rule that asks for the
approval of a role the committee does not have (a typo, a role renamed)
could never pass, and a veto by a missing role would silently never apply.
Only a cross-file check sees that, so it runs after the files' own checks.

The days within which flag requests are acknowledged (2017A C3.3) can be
written in two files: ``certification.yaml`` (``flag_requests.
acknowledge_within_days``), the one govbot acts on, and ``timeline.yaml``
(``acknowledgements.flag_request.within_days``), kept for the time line's
own display. Both set and different is a ``policy.conflict`` at the time
line's line: the process would say two things.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from govbot.core.findings import Finding, KeyPath, Severity
from govbot.core.layout import CERTIFICATION, COMMITTEE, TIMELINE, VOTING
from govbot.core.policy import DEFAULT_ROLES
from govbot.core.yamlio import parse_bytes

RULE = "policy.unknown-role"
UNKNOWN_CLASS = "policy.unknown-class"
CONFLICT = "policy.conflict"
FILES = (COMMITTEE, VOTING, TIMELINE, CERTIFICATION)
TIMELINE_FLAG_DAYS = ("acknowledgements", "flag_request", "within_days")
CERTIFICATION_FLAG_DAYS = ("flag_requests", "acknowledge_within_days")


def check(files: Mapping[str, bytes], severity: Severity | None) -> list[Finding]:
    """The roles voting.yaml names that committee.yaml (or its defaults) does not define,
    and the flag-request days the time line and the certification policy disagree on."""
    if severity is None:
        return []
    return [
        *_unknown_roles(files, severity),
        *_unknown_classes(files, severity),
        *_flag_days(files, severity),
    ]


def _unknown_classes(files: Mapping[str, bytes], severity: Severity) -> list[Finding]:
    """``default_class`` and ``substantive_class`` must name a class of voting.yaml, and the
    substantive one a class that is not editorial.

    Otherwise a change no class matches would be judged by the built-in rule
    (one vote, no waiting, no veto): a typo in a class name must block every
    vote instead, like any other unusable policy.
    """
    if VOTING not in files:
        return []
    voting = parse_bytes(VOTING, files[VOTING])
    data = voting.data
    classes = data.get("classes") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(classes, list):
        return []  # the schema says what is wrong
    editorial = {
        str(c.get("name")): c.get("editorial") is True
        or (isinstance(c.get("rule"), dict) and c["rule"].get("stale_on_change") is False)
        for c in classes
        if isinstance(c, dict)
    }
    wrong: list[tuple[KeyPath, str]] = []
    for key in ("default_class", "substantive_class"):
        name = data.get(key)
        if not isinstance(name, str):
            continue
        if name not in editorial:
            defined = ", ".join(editorial) or "none"
            wrong.append(((key,), f"{key} {name!r} is not a class of {VOTING} (it defines: "
                          f"{defined}); no vote can be judged by a class that does not exist"))  # fmt: skip
        elif key == "substantive_class" and editorial[name]:
            wrong.append(((key,), f"substantive_class {name!r} is an editorial class; a "
                          "substantive change is never judged as editorial"))  # fmt: skip
    marks = voting.locate([path for path, _ in wrong])
    return [
        Finding(VOTING, UNKNOWN_CLASS, message, severity, line, column, path)
        for (path, message), (line, column) in zip(wrong, marks, strict=True)
    ]


def _flag_days(files: Mapping[str, bytes], severity: Severity) -> list[Finding]:
    if TIMELINE not in files or CERTIFICATION not in files:
        return []
    timeline = parse_bytes(TIMELINE, files[TIMELINE])
    days = _at(timeline.data, TIMELINE_FLAG_DAYS)
    source = _at(parse_bytes(CERTIFICATION, files[CERTIFICATION]).data, CERTIFICATION_FLAG_DAYS)
    if not isinstance(days, int) or not isinstance(source, int) or days == source:
        return []
    [(line, column)] = timeline.locate([TIMELINE_FLAG_DAYS])
    return [
        Finding(
            TIMELINE,
            CONFLICT,
            f"flag requests are acknowledged within {days} day(s) here and within {source} in "
            f"{CERTIFICATION} (flag_requests.acknowledge_within_days), which govbot acts on; "
            "give one number (2017A C3.3), or leave this one out",
            severity,
            line,
            column,
            TIMELINE_FLAG_DAYS,
        )
    ]


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _unknown_roles(files: Mapping[str, bytes], severity: Severity) -> list[Finding]:
    if VOTING not in files:
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
