import re

import httpx
import pytest
from sqlalchemy import func, select

from core.runtime import Hub
from core.tickets.models import Ticket
from tests.conftest import eventually


async def page(client: httpx.AsyncClient, lang: str = "en") -> tuple[str, str, str]:
    response = await client.get("/simulator", params={"lang": lang})
    assert response.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', response.text)
    message_id = re.search(r'name="message_id" value="([^"]+)"', response.text)
    assert csrf and message_id
    return response.text, csrf.group(1), message_id.group(1)


async def send(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await client.post("/simulator/send", data=form)


@pytest.mark.parametrize(
    ("lang", "title"),
    [("en", "Channel simulator"), ("ru", "Симулятор каналов"), ("zh", "渠道模拟器")],
)
async def test_the_page_speaks_three_languages(
    client: httpx.AsyncClient, lang: str, title: str
) -> None:
    html, _, _ = await page(client, lang)
    assert f"<h1>{title}</h1>" in html and f'<html lang="{lang}">' in html


async def test_an_sms_becomes_a_ticket_with_a_delivered_reply(
    client: httpx.AsyncClient, hub: Hub, worker: None
) -> None:
    _, csrf, message_id = await page(client)
    sent = await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="sms",
        address="+7 900 555-01-01",
        text="Мусор не вывозят неделю",
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/simulator"

    async def delivered() -> list:
        lines = (await client.get("/simulator/conversation")).json()
        return (
            lines if any(x["direction"] == "out" and x["status"] == "sent" for x in lines) else []
        )

    lines = await eventually(delivered)
    incoming, reply = lines
    assert incoming["text"] == "Мусор не вывозят неделю" and incoming["ticket"]
    assert reply["text"].startswith(f"Обращение {incoming['ticket']} принято")

    ticket_page = await client.get(
        f"/simulator/tickets/{incoming['ticket']}", params={"lang": "ru"}
    )
    assert ticket_page.status_code == 200
    assert "Мусор" in ticket_page.text and "Обращение зарегистрировано" in ticket_page.text


async def test_a_double_click_sends_one_message(client: httpx.AsyncClient, hub: Hub) -> None:
    _, csrf, message_id = await page(client)
    form = {
        "csrf": csrf,
        "message_id": message_id,
        "channel": "telegram",
        "address": "123456789",
        "text": "Lift broken again",
    }
    await send(client, **form)
    await send(client, **form)
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_phone_keys_choose_a_category(client: httpx.AsyncClient, hub: Hub) -> None:
    html, csrf, message_id = await page(client)
    assert "<kbd>2</kbd> Heating" in html
    await send(
        client, csrf=csrf, message_id=message_id, channel="voice", address="+79005550303", keys="2"
    )
    async with hub.session_factory() as session:
        ticket = await session.scalar(select(Ticket))
    assert ticket is not None and ticket.summary == "Heating" and ticket.channel == "voice"


async def test_a_web_message_needs_no_address(client: httpx.AsyncClient, hub: Hub) -> None:
    _, csrf, message_id = await page(client, "zh")
    sent = await send(client, csrf=csrf, message_id=message_id, channel="web", text="路灯不亮")
    assert sent.status_code == 303
    lines = (await client.get("/simulator/conversation")).json()
    assert lines[-1]["text"].startswith("您的诉求已登记")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"channel": "sms", "address": "hello", "text": "x"}, "Enter a phone number"),
        ({"channel": "sms", "address": "+79005550101", "text": "  "}, "Write a message first"),
        ({"channel": "voice", "address": "+79005550101", "keys": "one"}, "digits only"),
        ({"channel": "fax", "address": "+79005550101", "text": "x"}, "Choose a channel"),
        ({"channel": "telegram", "address": "@someone", "text": "x"}, "Telegram chat id"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_no_ticket(
    client: httpx.AsyncClient, hub: Hub, form: dict[str, str], message: str
) -> None:
    _, csrf, message_id = await page(client)
    response = await send(client, csrf=csrf, message_id=message_id, **form)
    assert response.status_code == 422 and message in response.text
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_a_forged_form_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    _, _, message_id = await page(client)
    response = await send(
        client,
        csrf="forged",
        message_id=message_id,
        channel="sms",
        address="+79005550101",
        text="hello",
    )
    assert response.status_code == 403
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_another_browser_cannot_open_my_ticket(client: httpx.AsyncClient, hub: Hub) -> None:
    _, csrf, message_id = await page(client)
    await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="sms",
        address="+79005550101",
        text="Pothole",
    )
    number = (await client.get("/simulator/conversation")).json()[0]["ticket"]
    assert (await client.get(f"/simulator/tickets/{number}")).status_code == 200
    stranger = httpx.AsyncClient(transport=client._transport, base_url="https://hub.test")
    async with stranger:
        assert (await stranger.get(f"/simulator/tickets/{number}")).status_code == 404


async def test_phone_numbers_never_appear_in_urls(client: httpx.AsyncClient) -> None:
    html, csrf, message_id = await page(client)
    await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="sms",
        address="+79005550101",
        text="Pothole",
    )
    html = (await client.get("/simulator")).text
    assert all("79005550101" not in href for href in re.findall(r'href="([^"]+)"', html))


async def test_oversized_or_expired_forms_get_the_page_back_with_a_reason(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    _, csrf, message_id = await page(client, "ru")
    long = await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="sms",
        address="+79005550101",
        text="я" * 4001,
    )
    assert long.status_code == 422 and "не больше 4000 символов" in long.text
    expired = await send(client, csrf=csrf, channel="sms", address="+79005550101", text="hi")
    assert expired.status_code == 422 and "Форма устарела" in expired.text
    async with hub.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0
