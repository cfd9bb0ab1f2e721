"""A reading command naming an account does not tell a stranger whether the account exists.

"показания 7700002 1234" is two readings or an account and a PIN; which one it is may
depend only on what the sender may see (their own accounts), never on whether someone
else's account exists, or anyone could enumerate account numbers for free.
"""

import pytest
from sqlalchemy import func, select

from core.billing.models import MeterReading, PinFailure
from core.intake.models import InboundRecord
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
async def test_a_stranger_gets_the_same_answer_for_an_existing_and_an_absent_account(
    hub: Hub, keyword: str
) -> None:
    await setup_billing(hub)
    for n, second in enumerate(("1111", PIN[::-1], "98765")):
        # Two fresh senders, so each answer counts the same tries.
        existing = await reply_to(
            hub, f"{keyword} {EXISTING_NOT_THEIRS} {second}", f"+7900555{n:02d}01"
        )
        absent = await reply_to(hub, f"{keyword} {ABSENT} {second}", f"+7900555{n:02d}02")
        same = existing.replace(EXISTING_NOT_THEIRS, "N") == absent.replace(ABSENT, "N")
        assert same, (second, existing, absent)
    # A stranger can only be proving an account: every try counted, no reading recorded.
    assert await count(hub, PinFailure) == 6
    assert await count(hub, MeterReading) == 0


async def test_a_holders_numbers_are_readings_whatever_exists(hub: Hub) -> None:
    await setup_billing(hub)
    for second in ("150", "1111"):
        existing = await reply_to(hub, f"показания {EXISTING_NOT_THEIRS} {second}", HOLDER)
        absent = await reply_to(hub, f"показания {ABSENT} {second}", HOLDER)
        assert existing.replace(EXISTING_NOT_THEIRS, "N") == absent.replace(ABSENT, "N")
        assert EXISTING_NOT_THEIRS not in existing
    assert await count(hub, PinFailure) == 0


async def test_a_strangers_pin_is_never_stored_nor_queued(hub: Hub) -> None:
    await setup_billing(hub)
    texts = (
        "показания 7700001 9876 счетчик сломался",  # a wrong PIN, from a stranger
        f"показания 7700001 {PIN} 150",  # the right one: proves the account, takes 150
        f"показания 7700001 {PIN} счетчик сломался",  # now a holder, PIN and words
    )
    for text in texts:
        result = await receive(hub=hub, message=inbound(text, sender=STRANGER))
        assert result.ticket_id is None  # a command with a PIN never reaches a person
        async with hub.session_factory() as session:
            stored = await session.scalar(
                select(InboundRecord.text).where(InboundRecord.id == result.inbound_id)
            )
        assert stored is not None and "7700001" in stored
        assert PIN not in stored and "9876" not in stored


async def test_the_holder_still_names_their_own_account(hub: Hub) -> None:
    await setup_billing(hub)
    text = await reply_to(hub, f"показания 7700001 {PIN} 150", HOLDER)
    assert "7700001" in text and await count(hub, MeterReading) == 1
