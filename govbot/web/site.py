"""The guideline site served live from a repo directory, with RefStack's guideline API.

Test tools (refstack-client, CI jobs) were written against RefStack's
``GET /v1/guidelines``, ``/v1/guidelines/<file>`` and
``/v1/guidelines/<id>/tests?target=…&type=…&alias=…&flag=…``; serving the
same answers (govbot.core.refstack) lets them point at govbot unchanged.
Pages come from the same templates as ``govbot site build``
(govbot.web.pages), so the live site and the static one agree.

Files are read on each request (an edited guideline shows at once), but a
file is parsed again only when its mtime or size changed. An id is checked
against a strict pattern before any path is built from it, and symlinks are
never followed (govbot.repo.files): a request cannot read outside the repo.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from govbot.core import guideline_diff, mustpass, refstack, site
from govbot.core.layout import GOVERNED_DIRS, guideline_candidates, guideline_kind
from govbot.repo.files import open_regular, real_dir
from govbot.web import pages
from govbot.web.pages import LIVE_LINKS


class GuidelineCache:
    """Guideline files of one repo, parsed again only when their mtime or size changes."""

    def __init__(self, root: Path, max_entries: int = 512) -> None:
        self.root = root
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[tuple[int, int], site.Loaded]] = OrderedDict()

    def load(self, rel: str) -> site.Loaded | None:
        """The guideline in a repo-relative file; None if it is missing or not a regular file."""
        try:
            fd, st = open_regular(self.root, rel)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            key = (st.st_mtime_ns, st.st_size)
            with self._lock:
                hit = self._entries.get(rel)
                if hit is not None and hit[0] == key:
                    self._entries.move_to_end(rel)
                    return hit[1]
            try:
                raw = f.read()
            except OSError as e:
                return site.Unreadable(rel, e.strerror or str(e))
        loaded = site.load_file(rel, raw)
        if loaded is None:
            return None
        with self._lock:
            self._entries[rel] = (key, loaded)
            self._entries.move_to_end(rel)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return loaded

    def find(self, guideline_id: str) -> site.Loaded | None:
        """The file defining an id (the first in lookup order), None if there is none."""
        if not site.is_safe_id(guideline_id):
            return None
        for rel in guideline_candidates(guideline_id):
            if found := self.load(rel):
                return found
        return None

    def all(self) -> list[site.Loaded]:
        """Every guideline file of the repo, for the index."""
        out: list[site.Loaded] = []
        for rel_dir in GOVERNED_DIRS:
            if not real_dir(self.root, rel_dir):
                continue
            try:
                names = sorted(e.name for e in os.scandir(self.root / rel_dir))
            except OSError:
                continue
            for name in names:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if guideline_kind(rel) and (found := self.load(rel)):
                    out.append(found)
        return out


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _policy_latest(root: Path) -> int:
    """C6.1's count of valid guidelines, from the repo's certification policy (default 2)."""
    from govbot.core.certification import PATH
    from govbot.core.submission import load_policy

    try:
        fd, _ = open_regular(root, PATH)
    except OSError:
        return load_policy({}).valid_latest
    with os.fdopen(fd, "rb") as f:
        return load_policy({PATH: f.read()}).valid_latest


def router(repo_root: Path, today: Callable[[], date] = date.today) -> APIRouter:
    """The site's pages, RefStack's guideline API, and the stylesheet, live from a repo."""
    cache = GuidelineCache(repo_root)
    r = APIRouter(tags=["guidelines"])

    def guideline(guideline_id: str) -> site.Guideline | JSONResponse:
        found = cache.find(guideline_id)
        if found is None:
            return _problem(404, f"no guideline {guideline_id!r}")
        if isinstance(found, site.Unreadable):
            return _problem(500, f"guideline {guideline_id!r} cannot be read: {found.reason}")
        return found

    def catalog() -> tuple[list[site.Guideline], list[site.Unreadable]]:
        return site.catalog(cache.all())

    @r.get("/", response_class=HTMLResponse, summary="Index of the guidelines")
    def index() -> Response:
        guidelines, unreadable = catalog()
        html = pages.index(
            guidelines, unreadable, LIVE_LINKS, today(), latest=_policy_latest(repo_root)
        )
        return HTMLResponse(html)

    @r.get("/static/style.css", include_in_schema=False)
    def style() -> Response:
        return Response(pages.static_file("style.css"), media_type="text/css")

    @r.get("/releases", response_class=HTMLResponse, summary="Guidelines by OpenStack release")
    def releases() -> Response:
        return HTMLResponse(pages.releases(catalog()[0], LIVE_LINKS))

    @r.get(
        "/diff",
        response_class=HTMLResponse,
        summary="What changed between two guidelines (capabilities and tests)",
    )
    def diff(
        before: str | None = Query(None, alias="from"), after: str | None = Query(None, alias="to")
    ) -> Response:
        guidelines = catalog()[0]
        if not before or not after:
            return HTMLResponse(pages.diff(None, None, guidelines, LIVE_LINKS, ""))
        a, b = guideline(before), guideline(after)
        missing = [i for i, g in ((before, a), (after, b)) if isinstance(g, Response)]
        if missing or not isinstance(a, site.Guideline) or not isinstance(b, site.Guideline):
            problem = f"no readable guideline {', '.join(repr(m) for m in missing)}"
            html = pages.diff(None, None, guidelines, LIVE_LINKS, "", problem=problem)
            return HTMLResponse(html, status_code=404)
        return HTMLResponse(pages.diff(a, b, guidelines, LIVE_LINKS, ""))

    @r.get("/api/diff", summary="What changed between two guidelines, as JSON")
    def diff_json(before: str = Query(alias="from"), after: str = Query(alias="to")) -> Response:
        a, b = guideline(before), guideline(after)
        if isinstance(a, Response):
            return a
        if isinstance(b, Response):
            return b
        return JSONResponse(guideline_diff.compare(a.data, b.data).to_dict())

    # Registered before /guidelines/{id}, which would otherwise take "2020.06.json" as an id.
    @r.get("/guidelines/{guideline_id}.json", summary="A guideline as interop 2.0 JSON")
    def as_json(guideline_id: str) -> Response:
        g = guideline(guideline_id)
        if isinstance(g, Response):
            return g
        return Response(site.interop_json(g.data), media_type="application/json")

    @r.get("/guidelines/{guideline_id}", response_class=HTMLResponse, summary="A guideline page")
    def page(guideline_id: str) -> Response:
        g = guideline(guideline_id)
        if isinstance(g, Response):
            return g
        html = pages.guideline(
            g, catalog()[0], LIVE_LINKS, today(), "../", latest=_policy_latest(repo_root)
        )
        return HTMLResponse(html)

    @r.get(
        "/v1/guidelines",
        tags=["refstack"],
        summary="RefStack: every guideline file, by program",
        description="As RefStack's GuidelinesController.get: add-on families, then `powered`; "
        "each entry `{name, file}`.",
    )
    def refstack_list() -> Response:
        return JSONResponse(refstack.listing(catalog()[0]))

    @r.get(
        "/v1/guidelines/{version}/tests",
        response_class=PlainTextResponse,
        tags=["refstack"],
        summary="RefStack: a guideline's test list",
        description="RefStack's parameters and defaults: `target` platform; `type` every "
        "status; `alias` and `flag` true (flagged tests are listed unless flag=false). "
        "Sorted lines, no final newline.",
    )
    def tests(
        version: str,
        target: str = "platform",
        type: str | None = None,
        alias: str | None = None,
        flag: str | None = None,
    ) -> Response:
        g = guideline(version.removesuffix(".json"))
        if isinstance(g, Response):
            return g
        types = [s for s in type.split(",")] if type else None
        unknown = sorted(set(types or ()) - set(mustpass.STATUSES))
        if unknown:
            return _problem(
                400,
                f"unknown type {', '.join(unknown)}; choose from {', '.join(mustpass.STATUSES)}",
            )
        try:
            lines = refstack.test_lines(
                g.data, target, types, refstack.flag_value(alias), refstack.flag_value(flag)
            )
        except refstack.InvalidTarget as e:
            return PlainTextResponse(str(e), status_code=400)
        except Exception as e:  # data too malformed to list; say so rather than a bare 500
            return _problem(500, f"guideline {version!r} cannot be listed: {e}")
        return PlainTextResponse("\n".join(lines))

    @r.get(
        "/v1/guidelines/{file_name}",
        tags=["refstack"],
        summary="RefStack: one guideline file's JSON",
        description="`2020.06.json` or `2020.06`; add-ons by their file name (`dns.2020.06.json`).",
    )
    def refstack_file(file_name: str) -> Response:
        return as_json(file_name.removesuffix(".json"))

    return r
