"""Referential integrity of one guideline: what JSON Schema cannot say.

Each check is a small generator of :class:`Issue` over a guideline dict that
may be malformed (checks run even when the schema already failed, so one
review round shows every problem); they look before they index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from govbot.core.content import aliases_of, method_of
from govbot.core.eras import GOVBOT_SCHEMA, SchemaEra
from govbot.core.findings import KeyPath
from govbot.core.mustpass import is_flagged


class Issue(NamedTuple):
    path: KeyPath
    rule: str
    message: str


DATED_ID = re.compile(r"(\d{4}\.\d{2})$")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def check_component_capabilities(
    g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA
) -> Iterator[Issue]:
    """Every listed capability exists, and holds one status per component.

    Removed capabilities are exempt from the first half: from schema 2.0 on,
    their definitions stay in the guidelines that still tested them.
    """
    caps = _dict(g.get("capabilities"))
    for comp, body in _dict(g.get("components")).items():
        seen: dict[str, str] = {}
        for status, names in _dict(_dict(body).get("capabilities")).items():
            for i, name in enumerate(_list(names)):
                path: KeyPath = ("components", comp, "capabilities", status, i)
                if isinstance(name, str) and name not in caps and status != "removed":
                    yield Issue(
                        path,
                        "integrity.unknown-capability",
                        f"component {comp!r} lists {status} capability {name!r}, "
                        "which is not defined under capabilities; define it or fix the name",
                    )
                if name in seen:
                    yield Issue(
                        path,
                        "integrity.status-conflict",
                        f"capability {name!r} is listed as {seen[name]} and again as {status} "
                        f"in component {comp!r}; a capability has one status per component",
                    )
                else:
                    seen[name] = status


def check_orphan_capabilities(g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA) -> Iterator[Issue]:
    listed = {
        name
        for body in _dict(g.get("components")).values()
        for names in _dict(_dict(body).get("capabilities")).values()
        for name in _list(names)
        if isinstance(name, str)
    }
    for name in _dict(g.get("capabilities")):
        if name not in listed:
            yield Issue(
                ("capabilities", name),
                "integrity.orphan-capability",
                f"capability {name!r} is defined but no component lists it, so no program tests it",
            )


def check_idempotent_ids(g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA) -> Iterator[Issue]:
    """One idempotent id names one test; a test may appear in several capabilities.

    Schemas before 1.3 listed bare names, so a missing id is only a defect
    where the file's schema has ids. A Tempest subclass runs its parent's test
    methods under the same id: two names with one id and one method name are
    the same test (better listed as an alias), not two tests sharing an id;
    so are two entries that list each other's name among their aliases.
    """
    owner: dict[str, tuple[str, str, set[str]]] = {}
    needs_ids = era.test_ids and g.get("interop_schema") != "1.2"
    for cap, body in _dict(g.get("capabilities")).items():
        for test, details in _dict(_dict(body).get("tests")).items():
            details = _dict(details)
            ident = details.get("idempotent_id")
            if ident is None and needs_ids:
                yield Issue(
                    ("capabilities", cap, "tests", test),
                    "integrity.test-id-missing",
                    f"test {test!r} has no idempotent_id; ids keep a test's identity across renames",
                )
            elif isinstance(ident, str) and not ident.strip() and needs_ids:
                # interop's schemas allowed it, and the working group used it for
                # placeholders (tempest.api.volume.NEED_TEST): flagged, not refused
                yield Issue(
                    ("capabilities", cap, "tests", test, "idempotent_id"),
                    "integrity.test-id-empty",
                    f"test {test!r} has an empty idempotent_id (a placeholder?); "
                    "give it the test's id before the guideline is approved",
                )
            if not isinstance(ident, str) or not ident.strip():
                continue
            names = {test.strip(), *(a.strip() for a in aliases_of(details))}
            first = owner.setdefault(ident, (cap, test, names))
            if first[1] != test and method_of(first[1]) != method_of(test) and not names & first[2]:
                yield Issue(
                    ("capabilities", cap, "tests", test, "idempotent_id"),
                    "integrity.duplicate-idempotent-id",
                    f"idempotent id {ident} of {test!r} already names {first[1]!r} "
                    f"(capability {first[0]!r}); one id names one test - "
                    "list a renamed test as an alias instead",
                )


def check_achievements(g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA) -> Iterator[Issue]:
    criteria = _dict(_dict(g.get("scoring")).get("criteria"))
    if not criteria:
        return
    known = ", ".join(sorted(criteria))
    for cap, body in _dict(g.get("capabilities")).items():
        for i, achievement in enumerate(_list(_dict(body).get("achievements"))):
            if isinstance(achievement, str) and achievement not in criteria:
                yield Issue(
                    ("capabilities", cap, "achievements", i),
                    "integrity.unknown-criterion",
                    f"capability {cap!r} claims achievement {achievement!r}, "
                    f"which is not a scoring criterion (known: {known})",
                )


def check_program_components(g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA) -> Iterator[Issue]:
    components = _dict(g.get("components"))
    for section in ("platforms", "add_ons"):
        for program, body in _dict(g.get(section)).items():
            for i, ref in enumerate(_list(_dict(body).get("components"))):
                name = _dict(ref).get("name")
                if isinstance(name, str) and name not in components:
                    yield Issue(
                        (section, program, "components", i, "name"),
                        "integrity.unknown-component",
                        f"{program!r} names component {name!r}, which this guideline does not define",
                    )


def check_required_since(g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA) -> Iterator[Issue]:
    """A capability cannot have been required since after its guideline's date.

    Undated guidelines (``next``) have no date yet, so nothing to compare with.
    """
    match = DATED_ID.search(str(g.get("id", "")))
    if not match:
        return
    date = match.group(1)
    for cap, body in _dict(g.get("capabilities")).items():
        since = _dict(body).get("required_since")
        if isinstance(since, str) and DATED_ID.fullmatch(since) and since > date:
            yield Issue(
                ("capabilities", cap, "required_since"),
                "integrity.required-since-future",
                f"capability {cap!r} is required since {since}, later than this guideline ({date})",
            )


def check_flags(g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA) -> Iterator[Issue]:
    if "reason" not in era.flag_fields:
        return  # schema 1.2 flagged tests by listing their names: there was no reason to give
    for cap, body in _dict(g.get("capabilities")).items():
        for test, details in _dict(_dict(body).get("tests")).items():
            details = _dict(details)
            if is_flagged(details) and not _dict(details.get("flagged")).get("reason"):
                yield Issue(
                    ("capabilities", cap, "tests", test, "flagged"),
                    "integrity.flag-without-reason",
                    f"test {test!r} is flagged without a reason; a flag excuses vendors "
                    "from a test, so it must say why",
                )


CHECKS: tuple[Callable[[dict[str, Any], SchemaEra], Iterator[Issue]], ...] = (
    check_component_capabilities,
    check_orphan_capabilities,
    check_idempotent_ids,
    check_achievements,
    check_program_components,
    check_required_since,
    check_flags,
)


def check_guideline(g: dict[str, Any], era: SchemaEra = GOVBOT_SCHEMA) -> Iterator[Issue]:
    for check in CHECKS:
        yield from check(g, era)
