"""A resident proves their phone with an SMS code and chooses their notice topics."""

import re

import httpx
import pytest
from sqlalchemy import select

from core.notices.models import Subscription
from core.outbox.models import OutboxMessage
from core.residents.models import Contact
from core.runtime import Hub

PHONE = "+79001000001"


async def csrf(client: httpx.AsyncClient, lang: str = "en") -> str:
    page = await client.get("/subscriptions", params={"lang": lang})
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def last_sms(hub: Hub) -> str:
    async with hub.session_factory() as session:
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    assert row is not None and row.address == PHONE and row.channel == "sms"
    return row.text


async def test_prove_the_phone_then_choose_topics(client: httpx.AsyncClient, hub: Hub) -> None:
    token = await csrf(client, "ru")
    sent = await client.post(
        "/subscriptions/phone", data={"phone": "8 900 100-00-01", "csrf": token}
    )
    assert sent.status_code == 303
    sms = await last_sms(hub)
    assert sms.startswith("Ваш код:")
    code = re.search(r"\d{6}", sms)
    assert code

    wrong = await client.post("/subscriptions/code", data={"code": "000000", "csrf": token})
    assert wrong.status_code == 422 and "Код неверный" in wrong.text
    right = await client.post("/subscriptions/code", data={"code": code.group(), "csrf": token})
    assert right.status_code == 303
    page = await client.get("/subscriptions")
    assert "0001" in page.text and PHONE not in page.text  # only the last digits are shown

    saved = await client.post(
        "/subscriptions/topics", data={"topic": ["outages", "votes"], "csrf": token}
    )
    assert saved.status_code == 303
    assert "Сохранено" in (await client.get("/subscriptions")).text
    async with hub.session_factory() as session:
        contact = await session.scalar(select(Contact).where(Contact.value == PHONE))
        assert contact is not None and contact.verified
        chosen = dict(
            (
                await session.execute(
                    select(Subscription.topic, Subscription.active).where(
                        Subscription.contact_id == contact.id
                    )
                )
            ).all()
        )
    # Only changes are written: outages (on by default, left on) and billing (off by
    # default, left off) stay defaults; votes turned on, ticket status turned off.
    assert chosen == {"votes": True, "ticket_status": False}


async def test_codes_are_limited_and_single_use(client: httpx.AsyncClient, hub: Hub) -> None:
    token = await csrf(client)
    for _ in range(3):
        assert (
            await client.post("/subscriptions/phone", data={"phone": PHONE, "csrf": token})
        ).status_code == 303
    fourth = await client.post("/subscriptions/phone", data={"phone": PHONE, "csrf": token})
    assert fourth.status_code == 429 and "Too many codes" in fourth.text

    code = re.search(r"\d{6}", await last_sms(hub))
    assert code
    for _ in range(5):
        await client.post("/subscriptions/code", data={"code": "999999", "csrf": token})
    locked = await client.post("/subscriptions/code", data={"code": code.group(), "csrf": token})
    assert locked.status_code == 422  # five wrong tries use the code up


async def test_the_forms_need_their_csrf_token_and_a_real_phone(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    assert (
        await client.post("/subscriptions/phone", data={"phone": PHONE, "csrf": "forged"})
    ).status_code == 403
    token = await csrf(client)
    bad = await client.post("/subscriptions/phone", data={"phone": "nope", "csrf": token})
    assert bad.status_code == 422 and "Enter a phone number" in bad.text
    # Without a proven phone, saving topics changes nothing.
    await client.post("/subscriptions/topics", data={"topic": ["outages"], "csrf": token})
    async with hub.session_factory() as session:
        assert await session.scalar(select(Subscription)) is None


async def test_one_client_cannot_send_codes_to_many_phones(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    token = await csrf(client)
    answers = [
        (
            await client.post(
                "/subscriptions/phone", data={"phone": f"+7900555{i:04d}", "csrf": token}
            )
        ).status_code
        for i in range(11)
    ]
    assert answers[:10] == [303] * 10 and answers[10] == 429


@pytest.mark.parametrize(
    ("lang", "hint"),
    [
        ("en", "We sent a code by SMS to +7 900 ***-**-01."),
        ("ru", "Мы отправили код в SMS на номер +7 900 ***-**-01."),
        ("zh", "验证码已通过短信发送至 +7 900 ***-**-01。"),
    ],
)
async def test_the_code_form_says_where_the_code_went(
    client: httpx.AsyncClient, lang: str, hint: str
) -> None:
    token = await csrf(client, lang)
    await client.post("/subscriptions/phone", data={"phone": "8 900 100-00-01", "csrf": token})
    page = await client.get("/subscriptions")
    assert hint in page.text
    # Enough to recognise one's own number, not enough to read someone else's.
    assert "100-00" not in page.text and "9001000001" not in page.text


async def test_saving_topics_leads_to_a_page_that_can_be_reloaded(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    token = await csrf(client, "ru")
    await client.post("/subscriptions/phone", data={"phone": PHONE, "csrf": token})
    code = re.search(r"\d{6}", await last_sms(hub))
    assert code
    await client.post("/subscriptions/code", data={"code": code.group(), "csrf": token})

    saved = await client.post("/subscriptions/topics", data={"topic": ["votes"], "csrf": token})
    # Redirect after POST: reloading the page shows it again instead of resending the form.
    assert saved.status_code == 303 and saved.headers["location"] == "/subscriptions"
    shown = await client.get("/subscriptions")
    assert "Сохранено" in shown.text
    checked = re.findall(r'value="(\w+)" checked', shown.text)
    assert checked == ["votes"]
    again = await client.get("/subscriptions")
    assert "Сохранено" not in again.text and re.findall(r'value="(\w+)" checked', again.text) == [
        "votes"
    ]
    # The address the form posted to, reloaded or bookmarked, leads to the page too.
    stale = await client.get("/subscriptions/topics")
    assert stale.status_code == 303 and stale.headers["location"] == "/subscriptions"


async def test_without_an_sms_provider_the_code_shows_in_the_simulator(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    token = await csrf(client, "en")
    sent = await client.post(
        "/subscriptions/phone", data={"phone": "8 900 100-00-01", "csrf": token}
    )
    assert sent.status_code == 303
    code = re.search(r"\d{6}", await last_sms(hub))
    assert code
    conversation = (await client.get("/simulator/conversation")).json()
    assert any(code.group() in line["text"] for line in conversation), conversation
