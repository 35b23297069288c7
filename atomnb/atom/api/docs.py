"""``/docs``: Swagger UI served from the installed package, so it works without internet.

FastAPI's own ``/docs`` page loads Swagger UI's script and style from a CDN
(and ``/redoc`` its script and a web font), so on a machine with no internet
the page stays blank. Here the same page loads the files shipped in
``atomnb/atom/static/swagger-ui`` (Swagger UI's dist, Apache 2.0) from the
atom itself; the validator badge, which would call an outside service, is off.
``create_app`` turns FastAPI's pages off and adds these.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

__all__ = ["ASSETS_DIR", "add_docs"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_PREFIX = "/docs/assets"


def add_docs(app: FastAPI) -> None:
    """Add ``/docs``, its OAuth2 redirect page and its assets (a fixed list of files)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - API",
            swagger_js_url=f"{_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{_PREFIX}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(_PREFIX + "/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        media_type = _ASSETS.get(name)
        if media_type is None:
            raise HTTPException(404, f"no asset {name!r}")
        return FileResponse(
            ASSETS_DIR / name,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )
