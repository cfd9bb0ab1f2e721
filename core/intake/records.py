"""What a back office may ask of the kept raw messages: to mask a secret in one."""

from __future__ import annotations

import json
import re

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage
from core.intake.models import InboundRecord


async def redact_digits(
    *, db_session: AsyncSession, inbound_id: int, message: InboundMessage, digits: str
) -> None:
    """Masks ``digits`` (a PIN) in the kept raw message, the provider's own fields included.

    The digits may have been typed full-width (NFKC reads them as ASCII), so each matches
    either form; a longer number that contains them is left alone.
    """
    either = "".join(f"[{d}{chr(ord(d) - ord('0') + 0xFF10)}]" for d in digits)
    pattern = re.compile(rf"(?<![0-9０-９]){either}(?![0-9０-９])")
    masked = pattern.sub("*" * len(digits), message.text)
    raw_json = json.dumps(message.model_dump(mode="json"), ensure_ascii=False)
    payload = json.loads(pattern.sub("*" * len(digits), raw_json))
    await db_session.execute(
        update(InboundRecord)
        .where(InboundRecord.id == inbound_id)
        .values(text=masked, payload=payload)
    )
