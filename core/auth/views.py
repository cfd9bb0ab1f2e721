"""Staff sessions for the API and the console: log in, log out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from core.auth import service as auth_service
from portal.deps import SessionDep, csrf_token

router = APIRouter(prefix="/session", tags=["session"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    username: str
    role: str
    csrf_token: str


@router.post("", response_model=SessionOut)
async def log_in(body: Login, request: Request, db_session: SessionDep) -> SessionOut:
    """Starts a staff session; unsafe requests must then send the returned CSRF token."""
    user = await auth_service.authenticate_staff(
        db_session=db_session, username=body.username, password=body.password
    )
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    request.session.clear()
    request.session["staff_id"] = user.id
    return SessionOut(username=user.username, role=user.role, csrf_token=csrf_token(request))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(request: Request) -> None:
    """Ends the staff session."""
    request.session.clear()
