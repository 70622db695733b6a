"""Conversion between the OpenStack interop JSON forms (schema 1.2-2.0) and govbot's YAML form.

govbot's guideline form *is* interop schema 2.0 with the ``metadata`` block
flattened to the top (so ``status`` and ``id`` read first in review) and
``add-ons`` spelled ``add_ons``. Everything else keeps its place and its
spelling, typos included: the importer never fixes data, it lets
``govbot validate`` find the defects. Keys govbot does not model are carried,
so that ``to_interop(to_govbot(x)) == x`` for every schema 2.0 document.

Older schemas (1.2, 1.5, 1.6) are upgraded to the 2.0 shape; what 2.0 has no
place for is kept under ``legacy`` (per capability) or ``interop_metadata``.
"""

from __future__ import annotations

from typing import Any

APPROVAL_KEYS = ("target_approval", "replaces", "releases", "status")
FLATTENED_ORDER = (
    "id",
    "status",
    "target_approval",
    "replaces",
    "releases",
    "source",
    "reference",
    "interop_schema",
    "scoring",
)
V1_PLATFORM_NAMES = {"compute": "OpenStack Powered Compute", "object": "OpenStack Powered Storage"}
V1_PLATFORM = "OpenStack Powered Platform"


def interop_schema_of(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    meta = doc.get("metadata")
    if isinstance(meta, dict) and "schema" in meta:
        return str(meta["schema"])
    if "schema" in doc:
        return str(doc["schema"])
    return None


def to_govbot(doc: dict[str, Any]) -> dict[str, Any]:
    """Any interop guideline document to govbot's form (never drops a key)."""
    version = interop_schema_of(doc)
    if isinstance(doc.get("metadata"), dict):
        return _from_v2(doc)
    if version is not None and version < "2.0":
        return _from_v1(doc)
    return dict(doc)


def _ordered(flat: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    out = {k: flat[k] for k in FLATTENED_ORDER if k in flat}
    out.update({k: v for k, v in flat.items() if k not in out})
    for k, v in rest.items():
        out.setdefault(k, v)
    return out


def _from_v2(doc: dict[str, Any]) -> dict[str, Any]:
    meta = dict(doc["metadata"])
    flat: dict[str, Any] = {}
    leftover: dict[str, Any] = {}
    for key in ("id", "reference", "source", "scoring"):
        if key in meta:
            flat[key] = meta.pop(key)
    if "schema" in meta:
        flat["interop_schema"] = meta.pop("schema")
    approval = meta.pop("os_trademark_approval", None)
    if isinstance(approval, dict):
        approval = dict(approval)
        for key in APPROVAL_KEYS:
            if key in approval:
                flat[key] = approval.pop(key)
        if approval:
            leftover["os_trademark_approval"] = approval
    elif approval is not None:
        leftover["os_trademark_approval"] = approval
    leftover.update(meta)
    if leftover:
        flat["interop_metadata"] = leftover
    rest = {("add_ons" if k == "add-ons" else k): v for k, v in doc.items() if k != "metadata"}
    return _ordered(flat, rest)


def to_interop(g: dict[str, Any]) -> dict[str, Any]:
    """govbot's form to interop schema 2.0 JSON (the inverse of :func:`to_govbot`)."""
    extra = dict(g.get("interop_metadata") or {})
    meta: dict[str, Any] = {}
    for key in ("id",):
        if key in g:
            meta[key] = g[key]
    meta["schema"] = "2.0"
    for key in ("reference", "source", "scoring"):
        if key in g:
            meta[key] = g[key]
    approval = {k: g[k] for k in APPROVAL_KEYS if k in g}
    extra_approval = extra.pop("os_trademark_approval", None)
    if isinstance(extra_approval, dict):
        approval.update(extra_approval)
    elif extra_approval is not None and not approval:
        meta["os_trademark_approval"] = extra_approval
    if approval:
        meta["os_trademark_approval"] = approval
    meta.update(extra)
    out: dict[str, Any] = {"metadata": meta}
    skip = {*FLATTENED_ORDER, "interop_metadata"}
    for k, v in g.items():
        if k not in skip:
            out["add-ons" if k == "add_ons" else k] = v
    return out


# -- schema 1.x upgrade ------------------------------------------------------


def _from_v1(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    flat: dict[str, Any] = {}
    for key in ("id", "status", "target_approval", "replaces", "releases", "source", "reference"):
        if key in doc:
            flat[key] = doc.pop(key)
    flat["interop_schema"] = doc.pop("schema")
    scoring: dict[str, Any] = {}
    if "cutoff_score" in doc:
        cutoff = doc.pop("cutoff_score")
        scoring["cutoff_score"] = (
            int(cutoff) if isinstance(cutoff, str) and cutoff.isdigit() else cutoff
        )
    if "criteria" in doc:
        scoring["criteria"] = _upgrade_criteria(doc.pop("criteria"))
    if scoring:
        flat["scoring"] = scoring
    rest: dict[str, Any] = {}
    leftover: dict[str, Any] = {}
    components = doc.pop("components", None)
    platform = doc.pop("platform", None)
    if isinstance(platform, dict):
        rest["platforms"] = _upgrade_platforms(platform, components)
        if any(platform.get(s) for s in ("advisory", "deprecated", "removed")):
            leftover["platform"] = platform
    elif platform is not None:
        leftover["platform"] = platform
    if isinstance(components, dict):
        rest["components"] = {
            name: {"capabilities": statuses} if isinstance(statuses, dict) else statuses
            for name, statuses in components.items()
        }
    elif components is not None:
        rest["components"] = components
    if "capabilities" in doc:
        caps = doc.pop("capabilities")
        rest["capabilities"] = (
            {n: _upgrade_capability(c) for n, c in caps.items()} if isinstance(caps, dict) else caps
        )
    if "designated-sections" in doc:
        rest["designated_sections"] = _upgrade_sections(doc.pop("designated-sections"))
    if "test-repositories" in doc:
        rest["test_repositories"] = _upgrade_repositories(doc.pop("test-repositories"))
    rest.update(doc)  # unknown top-level keys stay where they were
    if leftover:
        flat["interop_metadata"] = leftover
    return _ordered(flat, rest)


def _upgrade_criteria(criteria: Any) -> Any:
    if not isinstance(criteria, dict):
        return criteria
    out = {}
    for key, c in criteria.items():
        if isinstance(c, dict) and "Description" in c and "description" not in c:
            c = {("description" if k == "Description" else k): v for k, v in c.items()}
        out[key] = c
    return out


def _upgrade_platforms(platform: dict[str, Any], components: Any) -> dict[str, Any]:
    names = components if isinstance(components, dict) else {}
    platforms: dict[str, Any] = {
        V1_PLATFORM: {"components": [{"name": c} for c in platform.get("required") or []]}
    }
    for component, pname in V1_PLATFORM_NAMES.items():
        if component in names:
            platforms[pname] = {"components": [{"name": component}]}
    return platforms


def _upgrade_capability(cap: Any) -> Any:
    if not isinstance(cap, dict):
        return cap
    cap = dict(cap)
    if "required-since" in cap and "required_since" not in cap:
        cap = {("required_since" if k == "required-since" else k): v for k, v in cap.items()}
    tests = cap.get("tests")
    if isinstance(tests, list):  # schema 1.2: plain names, flags as a separate list
        flagged = cap.pop("flagged", None) or []
        flagged_set = set(flagged)
        # 1.2 recorded no reason for a flag; an empty one says so (validate reports it).
        cap["tests"] = {t: ({"flagged": {"reason": ""}} if t in flagged_set else {}) for t in tests}
        legacy = {k: cap.pop(k) for k in ("status", "guidelines", "name") if k in cap}
        unlisted = [t for t in flagged if t not in tests]
        if unlisted:
            legacy["flagged"] = unlisted
        repeated = sorted({t for t in tests if tests.count(t) > 1})
        if repeated:  # a mapping cannot hold a name twice; keep the fact
            legacy["repeated_tests"] = repeated
        if legacy:
            cap["legacy"] = legacy
    return cap


def _upgrade_sections(sections: Any) -> Any:
    """1.x nests status then project; 2.0 nests project then status."""
    if not isinstance(sections, dict):
        return sections
    out: dict[str, dict[str, Any]] = {}
    for status, projects in sections.items():
        if not isinstance(projects, dict):
            out.setdefault("?", {})[status] = projects
            continue
        for project, body in projects.items():
            out.setdefault(project, {})[status] = body
    return out


def _upgrade_repositories(repos: Any) -> Any:
    if not isinstance(repos, dict):
        return repos
    rename = {"git-sha": "reference", "url": "repository"}
    return {
        name: {rename.get(k, k): v for k, v in r.items()} if isinstance(r, dict) else r
        for name, r in repos.items()
    }
