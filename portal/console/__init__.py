"""The staff console: every staff member's daily work in the browser, live."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from core.i18n import gettext
from portal.console.auth import LoginRequired, NotAllowed, NotFound
from portal.console.routers import ROUTERS
from portal.i18n import TEMPLATES, page_language, translator


def _message_page(
    request: Request, language: str, status_code: int, title: str, text: str
) -> Response:
    return TEMPLATES.TemplateResponse(
        request,
        "console/message.html",
        {
            "_": translator(language),
            "lang": language,
            "title": gettext(language, title),
            "message": gettext(language, text),
        },
        status_code=status_code,
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    if request.headers.get("HX-Request"):
        # htmx would swap a login page into a table cell: it follows this header instead.
        return Response(status_code=401, headers={"HX-Redirect": "/console/login"})
    if request.method == "GET":
        return RedirectResponse("/console/login", 303)
    language = page_language(request)
    return _message_page(
        request, language, 401, "Your session has ended", "Log in again to continue."
    )


async def _not_allowed(request: Request, exc: Exception) -> Response:
    language = exc.language if isinstance(exc, NotAllowed) else "en"
    return _message_page(
        request, language, 403, "Not allowed", "Your role may not open this screen or do this."
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    language = exc.language if isinstance(exc, NotFound) else "en"
    return _message_page(
        request, language, 404, "Not found", "There is nothing here, or it is outside your area."
    )


def install(app: FastAPI) -> None:
    """Mounts the console's screens and the pages it answers with when it cannot serve one."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(NotFound, _not_found)
    for router in ROUTERS:
        app.include_router(router)
