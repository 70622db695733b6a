"""The committee dashboard: ``GET /reviews`` (a page) and ``GET /api/reviews`` (its data).

What the dashboard shows is computed elsewhere (govbot.service.dashboard,
through the store and the pinned policies); this module only serves it, so
it receives a ``source`` function and knows nothing of the database. The page
refreshes without a reload: a few lines of script poll the JSON and, when it
changed, fetch the board's HTML fragment (``/reviews/board``), rendered by
the same template as the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from govbot.web import pages
from govbot.web.pages import LIVE_LINKS

Board = Callable[[], dict[str, Any]]
REFRESH_SECONDS = 5


def router(source: Board, refresh_seconds: float = REFRESH_SECONDS) -> APIRouter:
    r = APIRouter(tags=["dashboard"])

    @r.get(
        "/api/reviews",
        summary="Open reviews: class, tally, deadlines, blockers, the check's verdict",
    )
    def api() -> Response:
        return JSONResponse(source())

    @r.get("/reviews", response_class=HTMLResponse, summary="The committee dashboard")
    def page() -> Response:
        html = pages.page(
            "reviews.html",
            LIVE_LINKS,
            "",
            "reviews",
            title="Open reviews",
            board=source(),
            refresh_ms=int(refresh_seconds * 1000),
        )
        return HTMLResponse(html)

    @r.get("/reviews/board", response_class=HTMLResponse, include_in_schema=False)
    def board() -> Response:
        template = pages.ENV.get_template("board.html")
        return HTMLResponse(template.render(board=source(), links=LIVE_LINKS, base=""))

    @r.get("/static/reviews.js", include_in_schema=False)
    def script() -> Response:
        return Response(pages.static_file("reviews.js"), media_type="text/javascript")

    return r
