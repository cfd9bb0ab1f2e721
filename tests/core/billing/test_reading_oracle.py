"""A reading command naming an account does not tell a stranger whether the account exists.

"показания 7700002 1234" is two readings or an account and a PIN; which one it is may
depend only on what the sender may see (their own accounts), never on whether someone
else's account exists, or anyone could enumerate account numbers for free.
"""

import pytest
from sqlalchemy import func, select

from core.billing.models import MeterReading, PinFailure
from core.intake.service import receive
from core.runtime import Hub
from tests.core.billing.factories import PIN, setup_billing
from tests.factories import inbound

HOLDER = "+79001000001"  # demo resident holding account 7700001 (one meter)
STRANGER = "+79005550199"
EXISTING_NOT_THEIRS, ABSENT = "7700002", "7799999"


async def reply_to(hub: Hub, text: str, sender: str) -> str:
    result = await receive(hub=hub, message=inbound(text, sender=sender))
    assert len(result.replies) == 1
    return result.replies[0].text


async def count(hub: Hub, model: type) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("keyword", ["показания", "reading", "读数"])
@pytest.mark.parametrize("sender", [STRANGER, HOLDER], ids=["stranger", "holder"])
async def test_an_existing_and_an_absent_account_get_the_same_answer(
    hub: Hub, keyword: str, sender: str
) -> None:
    await setup_billing(hub)
    for second in ("150", PIN, "1111"):
        existing = await reply_to(hub, f"{keyword} {EXISTING_NOT_THEIRS} {second}", sender)
        absent = await reply_to(hub, f"{keyword} {ABSENT} {second}", sender)
        assert existing == absent, (second, existing, absent)
        assert EXISTING_NOT_THEIRS not in existing
    # Nothing was tried as a PIN, and no reading reached anyone's meter.
    assert await count(hub, PinFailure) == 0
    assert await count(hub, MeterReading) == 0


async def test_the_holder_still_names_their_own_account(hub: Hub) -> None:
    await setup_billing(hub)
    text = await reply_to(hub, f"показания 7700001 {PIN} 150", HOLDER)
    assert "7700001" in text and await count(hub, MeterReading) == 1
