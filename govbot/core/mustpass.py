"""Must-pass test lists: what a vendor's product must pass to carry a brand.

The output is byte-for-byte what RefStack's ``/v1/guidelines/<id>/tests``
served, because test tools (refstack-client, tempest's ``--load-list``) were
built against it: ``test.name[idempotent-id]`` one per line, sorted, aliases
sharing the test's id, and a test listed once per capability that holds it.
Guidelines imported from interop schema 1.2 carry no ids, and their tests are
listed by bare name, as RefStack did for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

STATUSES = ("required", "advisory", "deprecated", "removed")
PLATFORM_TARGETS = {
    "platform": "OpenStack Powered Platform",
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
}
"""RefStack's short target names for the platform programs."""


class UnknownTarget(ValueError):
    """The target names nothing in this guideline."""


def target_components(guideline: dict[str, Any], target: str) -> list[str]:
    """Component names a target stands for.

    A short platform name (``platform``, ``compute``, ``object``) or a full
    platform name gives that platform's components (none when the guideline
    lacks the platform, as RefStack answered). An add-on name (``dns``) gives
    ``os_powered_<name>``. Any component name stands for itself.
    """
    platforms = guideline.get("platforms") or {}
    components = guideline.get("components") or {}
    platform = PLATFORM_TARGETS.get(target, target)
    if target in PLATFORM_TARGETS or platform in platforms:
        entry = platforms.get(platform) or {}
        return [
            c["name"] for c in entry.get("components") or [] if isinstance(c, dict) and "name" in c
        ]
    if target in components:
        return [target]
    if f"os_powered_{target}" in components:
        return [f"os_powered_{target}"]
    known = sorted({*PLATFORM_TARGETS, *platforms, *components})
    raise UnknownTarget(
        f"target {target!r} is not in guideline {guideline.get('id')}; known: {', '.join(known)}"
    )


def capabilities_for(
    guideline: dict[str, Any], components: Iterable[str], statuses: Iterable[str]
) -> set[str]:
    wanted = set(statuses)
    table = guideline.get("components") or {}
    caps: set[str] = set()
    for name in components:
        if name not in table:
            raise UnknownTarget(
                f"component {name!r} is not defined in guideline {guideline.get('id')}"
            )
        for status, names in ((table[name] or {}).get("capabilities") or {}).items():
            if status in wanted and isinstance(names, list):
                caps.update(names)
    return caps


def is_flagged(test: dict[str, Any]) -> bool:
    """Truthiness, as RefStack tested it: an empty ``flagged: {}`` flags nothing."""
    return bool(test.get("flagged"))


def test_list(
    guideline: dict[str, Any],
    target: str = "platform",
    statuses: Iterable[str] = ("required",),
    *,
    aliases: bool = True,
    include_flagged: bool = False,
) -> list[str]:
    caps = capabilities_for(guideline, target_components(guideline, target), statuses)
    bare_names = guideline.get("interop_schema") == "1.2"
    out: list[str] = []
    for name, cap in (guideline.get("capabilities") or {}).items():
        if name not in caps:
            continue
        for test, details in (cap.get("tests") or {}).items():
            details = details or {}
            if is_flagged(details) and not include_flagged:
                continue
            names = [test, *(details.get("aliases") or [])] if aliases else [test]
            if bare_names:
                out.extend(names)
            else:  # str() of a missing or null id, exactly as RefStack's format() did
                ident = details.get("idempotent_id", "")
                out.extend(f"{n}[{ident}]" for n in names)
    out.sort()
    return out
