"""A static website of the guidelines, with must-pass lists at RefStack-like paths.

RefStack served the lists vendors and test tools fetched
(``/v1/guidelines/<id>/tests``); with it gone, a static site that anyone can
host (or a CI job can publish) must carry the same lists at stable paths:
``guidelines/<id>/tests/<target>.txt`` is what RefStack answered by default
(required tests, flagged ones left out, aliases included) and
``guidelines/<id>/tests/<target>-<status>.txt`` the list for one status.

Pure: the input is a snapshot (``{path: bytes}``), the output
``{relative path: bytes}``, so the command line writes it, the webhook app
serves parts of it live, and tests compare bytes. Ids, statuses and every other
value come from data, so they are escaped in HTML and an id only becomes a
path when it matches :data:`SAFE_ID`. One broken file never stops the site:
it is listed as unreadable.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from govbot.core import mustpass, registry_site, render
from govbot.core.documents import parse_document
from govbot.core.interop import to_interop
from govbot.core.layout import guideline_key, guideline_kind, lookup_rank
from govbot.core.registry import Registry

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*", re.ASCII)
"""Ids that are safe as one path segment: no slash, no ``..``, no leading dot."""
MAX_ID = 100
SAFE_TARGET = re.compile(r"[a-z0-9][a-z0-9_-]*", re.ASCII)
RELEASED = ("approved", "superseded")
KINDS = ("platform", "add-on")
_STYLE = (
    "body{font-family:sans-serif;max-width:80em;margin:auto;padding:1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .4em;"
    "text-align:left;vertical-align:top}"
)


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
    return Guideline(key, path, "platform" if kind == "guideline" else kind, parsed.data)


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
    """One guideline's page, JSON and test lists; raises on data too broken to use."""
    base = f"guidelines/{g.id}"
    out = {
        f"{base}/index.html": render.to_html(g.data).encode(),
        f"{base}.json": interop_json(g.data),
    }
    for target in targets(g):
        out[f"{base}/tests/{list_name(target, None)}"] = list_text(g.data, target).encode()
        for status in mustpass.STATUSES:
            text = list_text(g.data, target, [status])
            out[f"{base}/tests/{list_name(target, status)}"] = text.encode()
    return out


@dataclass(frozen=True)
class Links:
    """Where the index points: files of the static site, or the live app's routes."""

    page: Callable[[str], str]
    json: Callable[[str], str]
    tests: Callable[[str, str, str | None], str]


STATIC_LINKS = Links(
    page=lambda i: f"guidelines/{quote(i)}/index.html",
    json=lambda i: f"guidelines/{quote(i)}.json",
    tests=lambda i, t, s: f"guidelines/{quote(i)}/tests/{quote(list_name(t, s))}",
)


def _a(href: str, text: str) -> str:
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def _releases(data: dict[str, Any]) -> str:
    value = data.get("releases")
    if isinstance(value, list):
        return ", ".join(str(r) for r in value)
    return "" if value is None else str(value)


def _row(g: Guideline, links: Links) -> str:
    first = _a(links.page(g.id), g.id)
    data_id = g.data.get("id")
    if data_id != g.id:  # validate reports it; the reader should see it too
        first += f" <small>(id in file: {html.escape(str(data_id))})</small>"
    lists = []
    for t in targets(g):
        per_status = " ".join(_a(links.tests(g.id, t, s), s) for s in mustpass.STATUSES)
        lists.append(f"{_a(links.tests(g.id, t, None), t)} ({per_status})")
    cells = [
        first,
        html.escape(g.kind),
        html.escape(g.status),
        html.escape(_releases(g.data)),
        f"{_a(links.page(g.id), 'page')} · {_a(links.json(g.id), 'JSON')}",
        "<br>".join(lists) or "none",
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _table(rows: list[Guideline], links: Links) -> list[str]:
    if not rows:
        return ["<p>None.</p>"]
    head = ("Guideline", "Kind", "Status", "Releases", "Links", "Test lists")
    return [
        "<table>",
        "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>",
        "<tbody>",
        *(_row(g, links) for g in rows),
        "</tbody>",
        "</table>",
    ]


def index_html(
    guidelines: list[Guideline],
    unreadable: list[Unreadable],
    links: Links = STATIC_LINKS,
    products: bool = False,
) -> str:
    """The index: released guidelines, then drafts, then files that could not be read."""
    lines = [
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
        f"<title>Interoperability guidelines</title>\n<style>{_STYLE}</style>\n</head>\n<body>",
        "<h1>Interoperability guidelines</h1>",
        "<p>Test lists: one test per line, as RefStack served them; the first link of a "
        "target lists its required tests (flagged tests left out, aliases included).</p>",
        *(['<p><a href="products/index.html">Certified products</a></p>'] if products else []),
        "<h2>Released</h2>",
        *_table([g for g in guidelines if g.released], links),
        '<h2 id="drafts">Drafts</h2>',
        *_table([g for g in guidelines if not g.released], links),
    ]
    if unreadable:
        lines += ['<h2 id="unreadable">Unreadable</h2>', "<ul>"]
        lines += [
            f"<li><code>{html.escape(u.path)}</code>: unreadable: {html.escape(u.reason)}</li>"
            for u in unreadable
        ]
        lines.append("</ul>")
    return "\n".join([*lines, "</body>\n</html>\n"])


def build_from(
    guidelines: Iterable[Guideline],
    unreadable: Iterable[Unreadable],
    registry: Registry | None = None,
) -> tuple[dict[str, bytes], list[Unreadable]]:
    """The site, and every file it lists as unreadable (with those that cannot be rendered)."""
    out: dict[str, bytes] = {}
    shown: list[Guideline] = []
    bad = list(unreadable)
    for g in guidelines:
        try:
            files = guideline_files(g)
        except Exception as e:  # malformed data of any shape; the rest of the site stands
            bad.append(Unreadable(g.path, f"cannot be rendered: {type(e).__name__}: {e}"))
            continue
        out.update(files)
        shown.append(g)
    if registry is not None:  # the certified products, when the repo has any
        out.update(registry_site.pages(registry))
        bad.extend(Unreadable(path, why) for path, why in registry.unreadable)
    bad.sort(key=lambda u: u.path)
    out["index.html"] = index_html(shown, bad, products=registry is not None).encode()
    return dict(sorted(out.items())), bad


def build_site(
    files: Mapping[str, bytes], registry: Registry | None = None
) -> tuple[dict[str, bytes], list[Unreadable]]:
    """The site of a repo snapshot (with its registry, if given), and what it could not show."""
    loaded = [item for p, raw in files.items() if (item := load_file(p, raw)) is not None]
    return build_from(*catalog(loaded), registry)


def build(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The whole static site of a repo snapshot, keyed by relative path."""
    return build_site(files)[0]
