"""RefStack's guideline API, read from govbot's guidelines: the list, the file and the tests.

refstack-client and the CI jobs vendors ran were written against RefStack's
``/v1/guidelines`` (refstack/api/controllers/guidelines.py and
refstack/api/guidelines.py, openstack-archive/refstack). Its answers, with
its parameters and defaults:

* ``GET /v1/guidelines``: ``{"<add-on>": [{"name": "2020.06.json", "file":
  "dns.2020.06.json"}, ...], ..., "powered": [{"name": "2020.06.json", "file":
  "2020.06.json"}, ...]}``: add-on families first, by name, then the platform
  guidelines; every file whose name ends in ``YYYY.MM.json`` or ``next.json``.
* ``GET /v1/guidelines/<file>``: the guideline's JSON (``.json`` optional).
* ``GET /v1/guidelines/<version>/tests``: ``target`` (default ``platform``),
  ``type`` (comma-separated statuses; absent: every status), ``alias`` and
  ``flag`` (absent or empty: true; otherwise true only for ``true``, ``yes`` or
  ``1``, any case). Flagged tests are listed unless ``flag`` is false; aliases
  follow a listed test. Lines ``test[idempotent-id]`` (schema 1.2: the bare
  name, no aliases), sorted, joined by newlines, with **no** final newline.
  Targets: ``platform``, ``compute``, ``object``, ``dns``, ``orchestration``;
  in a guideline older than schema 2.0, ``platform`` is the platform's
  required components and any other target a component's name.

Where RefStack answered an error with status 200 (``Invalid target: x`` as the
test list), govbot answers 400 with the same text; an unknown ``type``, which
RefStack silently matched to nothing, is a 400 naming it. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from govbot.core import mustpass
from govbot.core.site import Guideline, family

TRUE = ("true", "yes", "1")
FILE = re.compile(r"([0-9]{4}\.[0-9]{2}|next)\.json")
"""RefStack's test of a listed file name (``re.search``)."""
TARGETS_2_0 = {
    "platform": "OpenStack Powered Platform",
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
}
ADD_ON_TARGETS = ("dns", "orchestration")


class InvalidTarget(ValueError):
    """RefStack's ``Invalid target: <target>``."""

    def __init__(self, target: str) -> None:
        super().__init__(f"Invalid target: {target}")


def flag_value(raw: str | None) -> bool:
    """RefStack's reading of ``alias`` and ``flag``: absent or empty is true."""
    if not raw:
        return True
    return raw.lower() in TRUE


def schema_of(g: dict[str, Any]) -> str:
    return str(g.get("interop_schema") or "2.0")


def components(g: dict[str, Any], target: str) -> list[str]:
    """The components a target stands for, as RefStack resolved them."""
    table = g.get("components") or {}
    if schema_of(g) >= "2.0":
        if target in ADD_ON_TARGETS:
            names = [f"os_powered_{target}"]
        elif target in TARGETS_2_0:
            platform = (g.get("platforms") or {}).get(TARGETS_2_0[target])
            if not isinstance(platform, dict):
                raise InvalidTarget(target)
            names = [c["name"] for c in platform.get("components") or [] if isinstance(c, dict)]
        else:
            raise InvalidTarget(target)
    elif target == "platform":
        names = _required_components(g)
    else:
        names = [target]
    if any(n not in table for n in names):
        raise InvalidTarget(target)
    return names


def _required_components(g: dict[str, Any]) -> list[str]:
    """A 1.x guideline's ``platform.required``: kept by the import as the platform program's
    components (the whole 1.x ``platform`` under ``interop_metadata`` when it held more)."""
    kept = (g.get("interop_metadata") or {}).get("platform")
    if isinstance(kept, dict) and isinstance(kept.get("required"), list):
        return [str(c) for c in kept["required"]]
    platform = (g.get("platforms") or {}).get(TARGETS_2_0["platform"]) or {}
    return [c["name"] for c in platform.get("components") or [] if isinstance(c, dict)]


def test_lines(
    g: dict[str, Any],
    target: str = "platform",
    types: list[str] | None = None,
    alias: bool = True,
    flag: bool = True,
) -> list[str]:
    """RefStack's test list of a guideline (``types`` None: every status)."""
    names = components(g, target)
    table = g.get("components") or {}
    statuses: set[str] = set()
    for name in names:
        statuses.update(((table[name] or {}).get("capabilities") or {}).keys())
    wanted = [s for s in statuses if types is None or s in types]
    caps = mustpass.capabilities_for(g, names, wanted)
    bare = schema_of(g) == "1.2"
    out: list[str] = []
    for cap, body in (g.get("capabilities") or {}).items():
        if cap not in caps:
            continue
        for test, details in ((body or {}).get("tests") or {}).items():
            d = details or {}
            if mustpass.is_flagged(d) and not flag:
                continue
            if bare:
                out.append(test)
                continue
            ident = d.get("idempotent_id", "")
            out.append(f"{test}[{ident}]")
            if alias:
                out.extend(f"{a}[{ident}]" for a in d.get("aliases") or [])
    out.sort()
    return out


def listing(guidelines: Iterable[Guideline]) -> dict[str, list[dict[str, str]]]:
    """``GET /v1/guidelines``: add-on families by name, then ``powered``."""
    files = sorted(f"{g.id}.json" for g in guidelines)
    addons: dict[str, list[dict[str, str]]] = {}
    powered: list[dict[str, str]] = []
    by_file = {f"{g.id}.json": g for g in guidelines}
    for name in files:
        if not FILE.search(name):
            continue
        g = by_file[name]
        if g.kind == "add-on":
            addons.setdefault(family(g), []).append({"name": name.split(".", 1)[1], "file": name})
        else:
            powered.append({"name": name, "file": name})
    return {**dict(sorted(addons.items())), "powered": powered}
