"""Who is at the console: the logged-in staff member, their role gate and the CSRF check.

The console is a browser surface over a session cookie, so every state-changing request
carries the session's CSRF token (a form field, or the header htmx sends), and every page
is limited by role here and by territorial scope in the services it calls.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from core.assignment.models import AgentState
from core.auth import service as auth_service
from core.auth.enums import Role
from core.auth.service import Principal
from core.tickets.assign import ASSIGNABLE
from core.web.deps import (
    CSRF_HEADER,
    SAFE_METHODS,
    HubDep,
    check_csrf,
    csrf_token,
    staff_session_id,
)


class LoginRequired(Exception):
    """No staff session, or it expired: the console asks for the password."""


class NotAllowed(Exception):
    """The staff member's role may not open this screen or do this."""

    def __init__(self, language: str = "en") -> None:
        super().__init__("not allowed")
        self.language = language


class NotFound(Exception):
    """No such thing inside the staff member's scope (outside it looks the same)."""

    def __init__(self, language: str = "en") -> None:
        super().__init__("not found")
        self.language = language


@dataclass(frozen=True)
class Staff:
    """The staff member at the console, with the principal the services check."""

    id: int
    username: str
    display_name: str
    role: Role
    language: str
    principal: Principal
    csrf: str
    # Whether the queue may hand this person conversations; None for roles it never does.
    available: bool | None = None

    def may(self, *roles: Role) -> bool:
        """Returns whether this staff member has one of ``roles``."""
        return self.role in roles


async def current_staff(request: Request, hub: HubDep) -> Staff:
    """Returns the logged-in staff member; checks CSRF on anything that changes state."""
    staff_id = staff_session_id(request, hub.settings)
    if staff_id is None:
        raise LoginRequired
    async with hub.session_factory() as db_session:
        user = await auth_service.get_staff(db_session=db_session, user_id=staff_id)
        state = await db_session.get(AgentState, staff_id) if user is not None else None
    if user is None:
        # Deactivated since the login: the session ends with the account.
        request.session.clear()
        raise LoginRequired
    if request.method not in SAFE_METHODS:
        await _check_form_csrf(request)
    return Staff(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        language=user.language,
        principal=auth_service.principal_for(user),
        csrf=csrf_token(request),
        available=(state is not None and state.available)
        if Role(user.role) in ASSIGNABLE
        else None,
    )


async def _check_form_csrf(request: Request) -> None:
    """Takes the token from the htmx header, else from the submitted form's ``csrf`` field."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


StaffDep = Annotated[Staff, Depends(current_staff)]


def allow(*roles: Role) -> Callable[..., Coroutine[Any, Any, Staff]]:
    """Returns a dependency that lets only ``roles`` open a screen or take an action."""

    async def dependency(staff: StaffDep) -> Staff:
        if staff.role not in roles:
            raise NotAllowed(staff.language)
        return staff

    return dependency
