"""Staff accounts and API keys: hashing, verification, creation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role, ScopeKind
from core.auth.models import ApiKey, StaffUser
from core.tickets.service import Scope

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str) -> str:
    """Returns a salted scrypt hash of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Returns whether ``password`` matches the stored hash, in constant time."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff member or an API key, with role and territorial scope."""

    actor: str
    role: Role
    scope: Scope
    language: str = "en"


async def create_api_key(
    *,
    db_session: AsyncSession,
    name: str,
    role: Role,
    scope_kind: ScopeKind = ScopeKind.CITY,
    scope_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Creates an API key; returns the row and the key itself, which is never stored."""
    key = "hub_" + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        key_hash=_key_hash(key),
        prefix=key[:12],
        role=role,
        scope_kind=scope_kind,
        scope_id=scope_id,
    )
    db_session.add(row)
    await db_session.flush()
    return row, key


async def authenticate_api_key(*, db_session: AsyncSession, key: str) -> Principal | None:
    """Returns the principal an API key stands for, or None if it is unknown or revoked."""
    row = await db_session.scalar(
        select(ApiKey).where(ApiKey.key_hash == _key_hash(key), ApiKey.active.is_(True))
    )
    if row is None:
        return None
    return Principal(
        f"apikey:{row.id}", Role(row.role), Scope(ScopeKind(row.scope_kind), row.scope_id)
    )


async def create_staff(
    *,
    db_session: AsyncSession,
    username: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    scope_kind: ScopeKind = ScopeKind.CITY,
    scope_id: int | None = None,
    language: str = "en",
) -> StaffUser:
    """Creates a staff account."""
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        scope_kind=scope_kind,
        scope_id=scope_id,
        language=language,
    )
    db_session.add(user)
    await db_session.flush()
    return user


async def authenticate_staff(
    *, db_session: AsyncSession, username: str, password: str
) -> StaffUser | None:
    """Returns the staff member for these credentials, or None."""
    user = await db_session.scalar(
        select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True))
    )
    if user is None:
        # Hash anyway so a wrong username takes as long as a wrong password.
        verify_password(password, hash_password("timing-equaliser"))
        return None
    return user if verify_password(password, user.password_hash) else None


def principal_for(user: StaffUser) -> Principal:
    """Returns the principal of a logged-in staff member."""
    return Principal(
        f"staff:{user.id}",
        Role(user.role),
        Scope(ScopeKind(user.scope_kind), user.scope_id),
        user.language,
    )


async def get_staff(*, db_session: AsyncSession, user_id: int) -> StaffUser | None:
    """Returns a staff member based on the given id."""
    user = await db_session.get(StaffUser, user_id)
    return user if user is not None and user.active else None
