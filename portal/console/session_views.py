"""Logging in to the console and out of it, and the staff member's own settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse, Response

from core.auth import throttle
from core.auth.models import StaffUser
from core.i18n import LANGUAGES, gettext, ngettext
from core.web.deps import HubDep, SessionDep, check_csrf, csrf_token, start_staff_session
from portal.console.auth import StaffDep
from portal.console.nav import home_of
from portal.console.pages import page
from portal.i18n import page_language

router = APIRouter(prefix="/console", include_in_schema=False)

Username = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=200)]
Token = Annotated[str, Form(max_length=100)]


def _login_page(
    request: Request, *, error: str | None = None, status_code: int = 200, username: str = ""
) -> Response:
    language = page_language(request)
    return page(
        request,
        None,
        "console/login.html",
        language=language,
        status_code=status_code,
        error=error,
        username=username[:64],
        csrf=csrf_token(request),
    )


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The login page, in the language the browser asks for (or ?lang=)."""
    return _login_page(request)


@router.post("/login")
async def log_in(
    request: Request,
    hub: HubDep,
    db_session: SessionDep,
    username: Username = "",
    password: Password = "",
    csrf: Token = "",
) -> Response:
    """Checks the password (throttled per account and per address) and opens the console."""
    # A login form posted from another site would log the victim in as the attacker.
    check_csrf(request, csrf)
    language = page_language(request)
    if not username.strip() or not password:
        message = gettext(language, "Enter your username and password.")
        return _login_page(request, error=message, status_code=422, username=username)
    try:
        user = await throttle.log_in(
            db_session=db_session,
            limiter=hub.limiter,
            settings=hub.settings,
            username=username[:64],
            password=password,
            client=request.client.host if request.client else "unknown",
        )
    except throttle.LoginLocked as exc:
        message = ngettext(
            language,
            "Too many failed attempts. Try again in {count} minute.",
            "Too many failed attempts. Try again in {count} minutes.",
            exc.minutes,
        )
        response = _login_page(request, error=message, status_code=429, username=username)
        response.headers["Retry-After"] = str(exc.minutes * 60)
        return response
    except throttle.LoginFailed:
        message = gettext(language, "Wrong username or password.")
        return _login_page(request, error=message, status_code=401, username=username)
    start_staff_session(request, user)
    return RedirectResponse(home_of(user.role), status.HTTP_303_SEE_OTHER)


@router.post("/logout")
async def log_out(request: Request, staff: StaffDep) -> Response:
    """Ends the session; the next page asks for the password."""
    request.session.clear()
    return RedirectResponse("/console/login", status.HTTP_303_SEE_OTHER)


@router.post("/language")
async def choose_language(
    request: Request,
    staff: StaffDep,
    db_session: SessionDep,
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Remembers the staff member's language on their account, for every device."""
    if language in LANGUAGES:
        user = await db_session.get(StaffUser, staff.id)
        if user is not None:
            user.language = language
            await db_session.commit()
    back = request.headers.get("referer", "")
    # Only a page of our own console: a forged Referer must not make this an open redirect.
    target = back if back.startswith(str(request.base_url) + "console") else home_of(staff.role)
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.get("/account")
async def account(request: Request, staff: StaffDep) -> Response:
    """Who is logged in, with the language choice (also where roles without screens land)."""
    return page(request, staff, "console/account.html")
