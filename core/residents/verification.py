"""Proving a phone number with a one-time SMS code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.residents.models import PhoneVerification

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# At most this many codes per phone in a quarter of an hour: an SMS costs money, and a
# stranger must not be able to flood someone's phone.
MAX_CODES = 3
CODES_WINDOW = timedelta(minutes=15)


class TooManyCodes(Exception):
    """The phone asked for too many codes recently."""


def _hash(code: str, salt: str) -> str:
    return salt + "$" + hashlib.sha256((salt + code).encode()).hexdigest()


def _matches(code: str, stored: str) -> bool:
    salt = stored.split("$", 1)[0]
    return hmac.compare_digest(_hash(code, salt), stored)


async def start(*, db_session: AsyncSession, phone: str) -> tuple[PhoneVerification, str]:
    """Creates a verification for an E.164 phone; returns it and the code to send."""
    recent = await db_session.scalar(
        select(func.count()).where(
            PhoneVerification.phone == phone,
            PhoneVerification.created_at >= utcnow() - CODES_WINDOW,
        )
    )
    if (recent or 0) >= MAX_CODES:
        raise TooManyCodes(phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    verification = PhoneVerification(
        phone=phone,
        code_hash=_hash(code, secrets.token_hex(8)),
        expires_at=utcnow() + CODE_LIFETIME,
        created_at=utcnow(),
    )
    db_session.add(verification)
    await db_session.flush()
    return verification, code


async def check(*, db_session: AsyncSession, verification_id: int, code: str) -> str | None:
    """Returns the phone if ``code`` is right, unused, in time and within the attempts."""
    # Counting the try in the same statement that checks the limit: parallel guesses
    # cannot get more than MAX_ATTEMPTS tries between them.
    verification = await db_session.scalar(
        update(PhoneVerification)
        .where(
            PhoneVerification.id == verification_id,
            PhoneVerification.verified_at.is_(None),
            PhoneVerification.expires_at >= utcnow(),
            PhoneVerification.attempts < MAX_ATTEMPTS,
        )
        .values(attempts=PhoneVerification.attempts + 1)
        .returning(PhoneVerification)
    )
    if verification is None or not _matches(code.strip(), verification.code_hash):
        return None
    verification.verified_at = utcnow()
    return verification.phone
