"""Staff sessions for the API and the console: log in, log out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from core.auth import throttle
from core.web.deps import HubDep, SessionDep, start_staff_session

router = APIRouter(prefix="/session", tags=["session"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    username: str
    role: str
    csrf_token: str


@router.post(
    "",
    response_model=SessionOut,
    responses={401: {"description": "wrong username or password"}, 429: {"description": "locked"}},
)
async def log_in(body: Login, request: Request, hub: HubDep, db_session: SessionDep) -> SessionOut:
    """Starts a staff session; unsafe requests must then send the returned CSRF token.

    Wrong passwords lock the account and the calling address for HUB_LOGIN_LOCK_MINUTES
    (429 with Retry-After), whatever is tried next.
    """
    try:
        user = await throttle.log_in(
            db_session=db_session,
            limiter=hub.limiter,
            settings=hub.settings,
            username=body.username,
            password=body.password,
            client=request.client.host if request.client else "unknown",
        )
    except throttle.LoginLocked as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            headers={"Retry-After": str(exc.minutes * 60)},
        ) from exc
    except throttle.LoginFailed as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password") from exc
    token = start_staff_session(request, user)
    return SessionOut(username=user.username, role=user.role, csrf_token=token)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(request: Request) -> None:
    """Ends the staff session."""
    request.session.clear()
