"""A static website of the guidelines, with must-pass lists at RefStack-like paths.

RefStack served the lists vendors and test tools fetched
(``/v1/guidelines/<id>/tests``); with it gone, a static site that anyone can
host (or a CI job can publish) must carry the same lists at stable paths:
``guidelines/<id>/tests/<target>.txt`` is what RefStack answered by default
(required tests, flagged ones left out, aliases included) and
``guidelines/<id>/tests/<target>-<status>.txt`` the list for one status.

Pure: the data of the site (which guidelines, in which order, which are
valid for certification, which releases they cover, their test lists and
JSON). Its pages are Jinja2 templates (:mod:`govbot.web.pages`), shared by
the static build (``govbot site build``) and the live app. An id only
becomes a path when it matches :data:`SAFE_ID`. One broken file never stops
the site: it is listed as unreadable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from govbot.core import mustpass
from govbot.core.documents import parse_document
from govbot.core.interop import to_interop
from govbot.core.layout import guideline_key, guideline_kind, lookup_rank
from govbot.core.rules import FROZEN, split_key
from govbot.core.validity import Validity

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*", re.ASCII)
"""Ids that are safe as one path segment: no slash, no ``..``, no leading dot."""
MAX_ID = 100
SAFE_TARGET = re.compile(r"[a-z0-9][a-z0-9_-]*", re.ASCII)
RELEASED = FROZEN
KINDS = ("platform", "add-on")


def is_safe_id(value: str) -> bool:
    """Whether a guideline id may name a file or a URL path segment."""
    return len(value) <= MAX_ID and SAFE_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Guideline:
    """A readable guideline file: ``id`` is its file's key (what URLs use)."""

    id: str
    path: str
    kind: str
    data: dict[str, Any]
    raw: bytes = b""  # the file's bytes: what validity reads its status and approval day from

    @property
    def status(self) -> str:
        return str(self.data.get("status") or "unknown")

    @property
    def released(self) -> bool:
        return self.status in RELEASED


@dataclass(frozen=True)
class Unreadable:
    """A guideline file the site cannot show, and why (for the index)."""

    path: str
    reason: str


Loaded = Guideline | Unreadable


def load_file(path: str, raw: bytes) -> Loaded | None:
    """The guideline in one file, None when the path is not a guideline's."""
    kind = guideline_kind(path)
    if kind is None:
        return None
    key = guideline_key(path)
    if not is_safe_id(key):
        return Unreadable(path, "the file name is not a valid guideline id")
    parsed = parse_document(path, raw)
    if parsed.findings or not isinstance(parsed.data, dict):
        reason = parsed.findings[0].message if parsed.findings else "not a mapping"
        return Unreadable(path, reason)
    return Guideline(key, path, "platform" if kind == "guideline" else kind, parsed.data, raw)


def catalog(items: Iterable[Loaded]) -> tuple[list[Guideline], list[Unreadable]]:
    """Guidelines by kind then id, one per id, and the files that are left out."""
    chosen: dict[str, Guideline] = {}
    bad: list[Unreadable] = []
    for item in sorted(items, key=lambda i: (lookup_rank(i.path), i.path)):
        if isinstance(item, Unreadable):
            bad.append(item)
        elif item.id in chosen:
            bad.append(Unreadable(item.path, f"ignored: {chosen[item.id].path} has this id"))
        else:
            chosen[item.id] = item
    ordered = sorted(chosen.values(), key=lambda g: (KINDS.index(g.kind), g.id))
    return ordered, sorted(bad, key=lambda u: u.path)


def targets(g: Guideline) -> list[str]:
    """RefStack target names: the platform short names, or the add-on's (``dns``)."""
    data = g.data
    if g.kind == "platform":
        platforms = data.get("platforms")
        present = platforms if isinstance(platforms, dict) else {}
        return [t for t, name in mustpass.PLATFORM_TARGETS.items() if name in present]
    components = data.get("components")
    names = components if isinstance(components, dict) else {}
    found = {str(c).removeprefix("os_powered_") for c in names if str(c).startswith("os_powered_")}
    return sorted(t for t in found if SAFE_TARGET.fullmatch(t))


def list_text(
    data: dict[str, Any],
    target: str,
    statuses: Iterable[str] = ("required",),
    *,
    aliases: bool = True,
    include_flagged: bool = False,
) -> str:
    """A must-pass list as served: one test per line, each ending in a newline."""
    tests = mustpass.test_list(
        data, target, statuses, aliases=aliases, include_flagged=include_flagged
    )
    return "".join(f"{t}\n" for t in tests)


def interop_json(data: dict[str, Any]) -> bytes:
    """The guideline as interop schema 2.0 JSON, as ``govbot export interop`` writes it."""
    return (json.dumps(to_interop(data), indent=4, ensure_ascii=False, default=str) + "\n").encode()


def list_name(target: str, status: str | None) -> str:
    return f"{target}.txt" if status is None else f"{target}-{status}.txt"


def guideline_files(g: Guideline) -> dict[str, bytes]:
    """One guideline's JSON and test lists (its page is a template's); raises on data too
    broken to use."""
    base = f"guidelines/{g.id}"
    out = {f"{base}.json": interop_json(g.data)}
    for target in targets(g):
        out[f"{base}/tests/{list_name(target, None)}"] = list_text(g.data, target).encode()
        for status in mustpass.STATUSES:
            text = list_text(g.data, target, [status])
            out[f"{base}/tests/{list_name(target, status)}"] = text.encode()
    return out


def family(g: Guideline) -> str:
    """``""`` for the platform guidelines, the add-on's name (``dns``) otherwise."""
    parts = split_key(g.id)
    return parts[0] if parts else g.id.split(".", 1)[0]


def newest_first(guidelines: Iterable[Guideline]) -> list[Guideline]:
    """By family (the platform first), newest first: drafts (``next``) before any date."""
    by_age = sorted(guidelines, key=_version, reverse=True)
    return sorted(by_age, key=lambda g: (g.kind != "platform", family(g)))  # stable


def _version(g: Guideline) -> tuple[bool, str]:
    parts = split_key(g.id)
    version = parts[1] if parts else g.id
    return ("next" in version, version)


def valid_for_certification(
    guidelines: Iterable[Guideline], at: date, latest: int = 2
) -> dict[str, list[str]]:
    """family -> the guidelines a product may certify against on ``at`` (2017A C6.1)."""
    items = list(guidelines)
    validity = Validity.from_files({g.path: g.raw for g in items if g.raw}, latest)
    return {
        fam: validity.valid_at(members[-1].key, at) for fam, members in validity.families.items()
    }


def superseded_by(guidelines: Iterable[Guideline], g: Guideline) -> str | None:
    """The next approved guideline of ``g``'s family, for a superseded one."""
    if g.status != "superseded":
        return None
    later = [
        o.id
        for o in guidelines
        if family(o) == family(g) and o.released and o.id > g.id and "next" not in o.id
    ]
    return min(later) if later else None


def releases_index(guidelines: Iterable[Guideline]) -> dict[str, list[Guideline]]:
    """OpenStack release -> the guidelines naming it, newest first (lookup by release)."""
    out: dict[str, list[Guideline]] = {}
    for g in newest_first(guidelines):
        value = g.data.get("releases")
        for release in value if isinstance(value, list) else []:
            out.setdefault(str(release).lower(), []).append(g)
    return dict(sorted(out.items()))


def predecessor(guidelines: Iterable[Guideline], g: Guideline) -> str | None:
    """The guideline ``g`` is compared with by default: the newest older approved one of its
    family (for a draft: the newest approved)."""
    older = [
        o.id
        for o in guidelines
        if family(o) == family(g)
        and o.released
        and o.id != g.id
        and "next" not in o.id
        and ("next" in g.id or o.id < g.id)
    ]
    return max(older) if older else None
