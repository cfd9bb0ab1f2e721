"""What native readers texted the demo, through intake (issue 17): bare commands, typos and
questions in words get an answer, never a silent note on the ticket they opened before."""

import pytest

from core.billing.models import MeterReading
from core.intake.service import receive
from core.runtime import Hub
from tests.core.billing.factories import setup_billing
from tests.core.test_intake import count
from tests.factories import inbound

HOLDER = "+79001000001"  # demo resident holding account 7700001 (tests/core/billing)
CONTINUED = ("Added to request", "Добавлено к обращению", "已补充到诉求")


async def _after_a_fresh_ticket(hub: Hub, sender: str, text: str) -> str:
    """Opens a ticket from ``sender``, then sends ``text`` within the follow-up window."""
    opened = await receive(
        hub=hub, message=inbound("Street light broken on Garden St 4", sender=sender)
    )
    assert opened.ticket_number is not None
    result = await receive(hub=hub, message=inbound(text, sender=sender))
    assert result.intent != "continue" and result.ticket_number != opened.ticket_number
    [reply] = result.replies
    assert not any(words in reply.text for words in CONTINUED), reply.text
    return reply.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("балланс", ("ЛС", "PIN")),  # not linked yet: asked to prove the account
        ("how much do i owe", ("ACCOUNT", "PIN")),
        ("почему так дорого?", ("ЛС", "PIN")),
        ("сколько я должен", ("ЛС", "PIN")),
        ("我欠多少钱", ("账户 7800002 1234",)),
        ("subscribe", ("SUBSCRIBE OUTAGES",)),
        ("подписаться", ("ПОДПИСКА",)),
        ("订阅", ("订阅停电",)),
        ("开始", ("退订",)),
    ],
)
async def test_commands_questions_and_typos_get_an_answer(
    hub: Hub, text: str, expected: tuple[str, ...]
) -> None:
    reply = await _after_a_fresh_ticket(hub, "+79005550311", text)
    assert all(words in reply for words in expected), reply


@pytest.mark.parametrize(
    ("text", "head"), [("status", "You have 1 open request"), ("状态", "您有1件未办结的诉求")]
)
async def test_a_bare_status_lists_the_residents_open_requests(
    hub: Hub, text: str, head: str
) -> None:
    reply = await _after_a_fresh_ticket(hub, "+79005550312", text)
    assert reply.startswith(head), reply


async def test_a_meter_named_in_words_is_read(hub: Hub) -> None:
    await setup_billing(hub)
    before = await count(hub, MeterReading)
    result = await receive(hub=hub, message=inbound("reading cold water 120", sender=HOLDER))
    [reply] = result.replies
    assert "could not read" not in reply.text and "cw 120" in reply.text, reply.text
    assert await count(hub, MeterReading) == before + 1


async def test_a_reading_without_a_number_explains_the_meter_labels(hub: Hub) -> None:
    await setup_billing(hub)
    result = await receive(hub=hub, message=inbound("reading cw 12a", sender=HOLDER))
    [reply] = result.replies
    assert "cw cold water" in reply.text and "READING cw 120" in reply.text, reply.text
