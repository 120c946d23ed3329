"""The API docs (``/docs``: Swagger UI, ``/redoc``: ReDoc) with every asset served by the register.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank in a polling
station or a municipality's network without internet. The assets come from the
``fastapi-offline`` package, which ships Swagger UI 5 and ReDoc's standalone bundle; only
its static folder is used, the pages are FastAPI's own generators pointed at it. (The
``swagger-ui-bundle`` package ships Swagger UI 4, which cannot show the OpenAPI 3.1
documents FastAPI makes.)
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs-assets"


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` from local assets."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
    title = f"{app.title} – API"
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=title,
                                   swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{PREFIX}/swagger-ui.css",
                                   swagger_favicon_url=f"{PREFIX}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=title,
                              redoc_js_url=f"{PREFIX}/redoc.standalone.js",
                              redoc_favicon_url=f"{PREFIX}/favicon.png", with_google_fonts=False)
