"""The API's documentation pages, /docs (Swagger UI) and /redoc, with every asset served here.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so offline (a service hall, a
closed network, our Content-Security-Policy) they are blank. The assets come from the
pinned ``fastapi-offline`` package, which ships them as files: nothing is vendored by hand.
The app is created with ``docs_url=None, redoc_url=None`` and includes this router.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

ASSETS_URL = "/docs-assets"
_ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
# Only these files are served: the URL never names a path on disk.
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def _openapi_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"


def _asset(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}{ASSETS_URL}/{name}"


# FastAPI's documentation pages start Swagger UI and ReDoc with a script written into the
# page, and ReDoc builds its search index in a blob: worker; everything else stays local.
DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Shows the interactive API reference (Swagger UI)."""
    page = get_swagger_ui_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} — API",
        swagger_js_url=_asset(request, "swagger-ui-bundle.js"),
        swagger_css_url=_asset(request, "swagger-ui.css"),
        swagger_favicon_url=_asset(request, "favicon.png"),
        # The validator badge would send our schema's address to swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    """Shows the API reference as one readable page (ReDoc)."""
    page = get_redoc_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} — API",
        redoc_js_url=_asset(request, "redoc.standalone.js"),
        redoc_favicon_url=_asset(request, "favicon.png"),
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


@router.get(ASSETS_URL + "/{name}")
async def docs_asset(name: str) -> FileResponse:
    """Returns one of the documentation pages' scripts, styles or icon."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such documentation asset")
    return FileResponse(
        _ASSETS_DIR / name,
        media_type=media_type,
        # The package is pinned: a file changes only with its version, on a restart.
        headers={"Cache-Control": "public, max-age=86400"},
    )
