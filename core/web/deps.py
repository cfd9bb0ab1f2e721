"""Request dependencies: the hub, a database session, and who is calling."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import service as auth_service
from core.auth.enums import Role
from core.auth.models import StaffUser
from core.auth.service import Principal
from core.config import Settings
from core.runtime import Hub

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A database id in a path: anything outside 32-bit range is a 422, not a database error.
DbId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# The same for an optional filter in a query string (?district_id=).
DbIdQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# The session keys of a staff login: who, when it began, when it was last used.
STAFF_KEY, STAFF_SINCE_KEY, STAFF_SEEN_KEY = "staff_id", "staff_since", "staff_seen"


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


async def get_db_session(hub: HubDep) -> AsyncIterator[AsyncSession]:
    async with hub.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db_session)]


def csrf_token(request: Request) -> str:
    """Returns this browser session's CSRF token, creating it on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuses a state-changing browser request whose CSRF token does not match."""
    expected = request.session.get(CSRF_SESSION_KEY)
    if not expected or not submitted or not hmac.compare_digest(str(expected), submitted):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def start_staff_session(request: Request, user: StaffUser) -> str:
    """Logs ``user`` in on this browser; returns the session's new CSRF token.

    The old session is dropped whole (a token fixed before the login is worth nothing after
    it), and the login's time is kept so the session ends after ``staff_session_hours``.
    """
    request.session.clear()
    now = int(time.time())
    request.session.update({STAFF_KEY: user.id, STAFF_SINCE_KEY: now, STAFF_SEEN_KEY: now})
    return csrf_token(request)


def staff_session_id(request: Request, settings: Settings) -> int | None:
    """Returns the logged-in staff member's id, or None; an expired session is ended here.

    Idle for ``staff_idle_minutes`` or older than ``staff_session_hours``: the session is
    cleared, so the next page asks for the password again.
    """
    staff_id = request.session.get(STAFF_KEY)
    if not isinstance(staff_id, int):
        return None
    now = int(time.time())
    since = request.session.get(STAFF_SINCE_KEY)
    seen = request.session.get(STAFF_SEEN_KEY)
    if (
        not isinstance(since, int)
        or not isinstance(seen, int)
        or now - seen > settings.staff_idle_minutes * 60
        or now - since > settings.staff_session_hours * 3600
    ):
        request.session.clear()
        return None
    # Written back at most once a minute: every write re-sends the cookie.
    if now - seen >= 60:
        request.session[STAFF_SEEN_KEY] = now
    return staff_id


async def get_principal(request: Request, hub: HubDep) -> Principal:
    """Returns the caller: an API key (header) or a logged-in staff member (session cookie).

    Authentication reads in its own short transaction, so the view's session starts clean
    (on SQLite a transaction held open across the view would lock out intake's writes).
    """
    async with hub.session_factory() as db_session:
        return await _authenticate(request, db_session, hub.settings)


async def _authenticate(
    request: Request, db_session: AsyncSession, settings: Settings
) -> Principal:
    key = request.headers.get("X-API-Key")
    authorization = request.headers.get("Authorization", "")
    if not key and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    if key:
        principal = await auth_service.authenticate_api_key(db_session=db_session, key=key)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown or revoked API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return principal
    staff_id = staff_session_id(request, settings)
    user = (
        await auth_service.get_staff(db_session=db_session, user_id=staff_id) if staff_id else None
    )
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in or send an API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Cookies ride along on cross-site requests; API keys do not, so only sessions need this.
    if request.method not in SAFE_METHODS:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return auth_service.principal_for(user)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Returns a dependency that lets only ``roles`` through."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")
        return principal

    return dependency


STAFF_ROLES = tuple(Role)
INTAKE_ROLES = (Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
HANDLING_ROLES = (
    Role.AGENT,
    Role.DISPATCHER,
    Role.DEPARTMENT,
    Role.INSPECTOR,
    Role.SUPERVISOR,
    Role.ADMIN,
)
ADMIN_ROLES = (Role.SUPERVISOR, Role.ADMIN)


async def require_city_admin(principal: PrincipalDep) -> Principal:
    """Lets through only supervisors and admins whose scope is the whole city."""
    if principal.role not in ADMIN_ROLES or principal.scope.kind != "city":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs a city-wide supervisor")
    return principal


CityAdminDep = Annotated[Principal, Depends(require_city_admin)]
