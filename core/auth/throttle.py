"""Staff login throttling: wrong passwords lock an account and an address for a while.

Counting is done with the hub's rate limiter (Redis across processes, memory when
embedded) over a moving window, so a lock lifts by itself as old failures age out and
a burst spread over several processes is counted once. Every failure, refusal and
success is written to ``auth_events`` for whoever audits access.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.models import AuthEvent, StaffUser
from core.auth.service import authenticate_staff
from core.config import Settings


class LoginLocked(Exception):
    """Too many wrong passwords for this account or from this address."""

    def __init__(self, minutes: int) -> None:
        super().__init__(f"too many failed logins; try again in {minutes} minutes")
        self.minutes = minutes


class LoginFailed(Exception):
    """Wrong username or password."""


@dataclass(frozen=True)
class LoginLimits:
    per_account: RateLimitItem
    per_client: RateLimitItem
    minutes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        minutes = settings.login_lock_minutes
        return cls(
            per_account=RateLimitItemPerMinute(settings.login_max_failures, minutes),
            per_client=RateLimitItemPerMinute(settings.login_max_failures_per_client, minutes),
            minutes=minutes,
        )


async def log_in(
    *,
    db_session: AsyncSession,
    limiter: MovingWindowRateLimiter,
    settings: Settings,
    username: str,
    password: str,
    client: str,
) -> StaffUser:
    """Returns the staff member for these credentials, or raises LoginFailed / LoginLocked.

    A locked account is refused even with the right password: otherwise a guesser would
    learn the password the moment they found it, lock or not. Attempts, not only failures,
    count: an account allows ``login_max_failures`` tries in the window (a success starts
    it again), an address ``login_max_failures_per_client`` tries of any account.
    """
    limits = LoginLimits.from_settings(settings)
    account = username.strip().lower()[:64]
    # Every attempt is counted before the password is checked: counting only failures,
    # after the check, let thirty attempts sent at once all through before the first
    # failure was counted. ``hit`` tests and counts in one step (atomically in Redis).
    allowed = await limiter.hit(limits.per_account, "login-account", account)
    allowed = await limiter.hit(limits.per_client, "login-client", client) and allowed
    if not allowed:
        _audit(db_session, "login_locked", username, client)
        await db_session.commit()
        raise LoginLocked(limits.minutes)
    user = await authenticate_staff(db_session=db_session, username=username, password=password)
    if user is None:
        _audit(db_session, "login_failed", username, client)
        await db_session.commit()
        raise LoginFailed
    # A success clears the account's count (its failures were someone's typos, now past);
    # the address keeps its count, so one valid login cannot wipe a spray across accounts.
    await limiter.clear(limits.per_account, "login-account", account)
    _audit(db_session, "login_succeeded", username, client, user.id)
    await db_session.commit()
    return user


def _audit(
    db_session: AsyncSession, kind: str, username: str, client: str, user_id: int | None = None
) -> None:
    db_session.add(
        AuthEvent(kind=kind, username=username[:64], staff_user_id=user_id, client=client[:64])
    )
