"""The guideline site served live from a repo directory, with RefStack's test-list endpoint.

Test tools (refstack-client, CI jobs) were written against RefStack's
``GET /v1/guidelines/<id>/tests?target=…&type=…&alias=…&flag=…``; serving the
same answer here lets them point at govbot unchanged. Pages and lists come
from govbot.core.site, so the live site and ``govbot site build`` agree.

Files are read on each request (an edited guideline shows at once), but a
file is parsed again only when its mtime or size changed. An id is checked
against a strict pattern before any path is built from it, and symlinks are
never followed (govbot.repo.files): a request cannot read outside the repo.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from govbot.core import mustpass, render, site
from govbot.core.layout import GOVERNED_DIRS, guideline_candidates, guideline_kind
from govbot.repo.files import open_regular, real_dir

_TRUE, _FALSE = {"true", "1", "yes", "y", "on"}, {"false", "0", "no", "n", "off"}

LIVE_LINKS = site.Links(
    page=lambda i: f"guidelines/{quote(i)}",
    json=lambda i: f"guidelines/{quote(i)}.json",
    tests=lambda i, t, s: (
        f"v1/guidelines/{quote(i)}/tests?" + urlencode({"target": t, "type": s or "required"})
    ),
)


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


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise ValueError(f"{name} must be true or false, not {value!r}")


def router(repo_root: Path) -> APIRouter:
    """Routes for the index, guideline pages and JSON, and RefStack's test lists."""
    cache = GuidelineCache(repo_root)
    r = APIRouter(tags=["guidelines"])

    def guideline(guideline_id: str) -> site.Guideline | JSONResponse:
        found = cache.find(guideline_id)
        if found is None:
            return _problem(404, f"no guideline {guideline_id!r}")
        if isinstance(found, site.Unreadable):
            return _problem(500, f"guideline {guideline_id!r} cannot be read: {found.reason}")
        return found

    @r.get("/", response_class=HTMLResponse, summary="Index of the guidelines")
    def index() -> Response:
        guidelines, unreadable = site.catalog(cache.all())
        return HTMLResponse(site.index_html(guidelines, unreadable, LIVE_LINKS))

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
        return g if isinstance(g, Response) else HTMLResponse(render.to_html(g.data))

    @r.get(
        "/v1/guidelines/{guideline_id}/tests",
        response_class=PlainTextResponse,
        summary="Must-pass test list, as RefStack served it",
    )
    def tests(
        guideline_id: str,
        target: str = "platform",
        type: str = "required",
        alias: str = "true",
        flag: str = "false",
    ) -> Response:
        g = guideline(guideline_id)
        if isinstance(g, Response):
            return g
        statuses = [s.strip() for s in type.split(",") if s.strip()]
        unknown = sorted(set(statuses) - set(mustpass.STATUSES))
        if not statuses or unknown:
            return _problem(
                400,
                f"unknown type {', '.join(unknown) or repr(type)}; "
                f"choose from {', '.join(mustpass.STATUSES)}",
            )
        try:
            aliases, flagged = _flag("alias", alias), _flag("flag", flag)
            text = site.list_text(
                g.data, target, statuses, aliases=aliases, include_flagged=flagged
            )
        except ValueError as e:  # mustpass.UnknownTarget, or a bad alias or flag
            return _problem(400, str(e))
        except Exception as e:  # data too malformed to list; say so rather than a bare 500
            return _problem(500, f"guideline {guideline_id!r} cannot be listed: {e}")
        return PlainTextResponse(text)

    return r
