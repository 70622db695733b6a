"""FastAPI's interactive API docs, served offline: Swagger UI from an installed package.

FastAPI's default ``/docs`` page loads Swagger UI from a CDN, so it is blank
on a machine without internet access (a lab, an air-gapped deployment, CI).
The ``fastapi-offline`` package ships Swagger UI 5 (which reads the OpenAPI
3.1 documents FastAPI writes; ``swagger-ui-bundle``'s 4.x cannot); only its
assets are used, served from ``/docs/assets``. ReDoc is not offered.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def assets_dir() -> str:
    from pathlib import Path

    import fastapi_offline

    return str(Path(fastapi_offline.__file__).parent / "static")


def add_docs(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )
