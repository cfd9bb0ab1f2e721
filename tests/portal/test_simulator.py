import re

import httpx
import pytest
from sqlalchemy import func, select

from core.runtime import Hub
from core.tickets.models import Ticket
from core.tickets.numbers import format_public_number, parse_public_number
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
        f"/simulator/tickets/{incoming['ticket']}", params={"lang": "ru"}, follow_redirects=True
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
    mine = await client.get(f"/simulator/tickets/{number}")
    assert mine.status_code == 303 and mine.headers["location"].startswith(
        f"/simulator/tickets/{number}/"
    )
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


def ticket_links(html: str) -> list[str]:
    return re.findall(r'href="(/simulator/tickets/[^"]+)"', html)


async def test_a_ticket_link_works_for_whoever_holds_it(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    _, csrf, message_id = await page(client)
    await send(
        client, csrf=csrf, message_id=message_id, channel="sms", address="+79005550101", text="Hole"
    )
    number = (await client.get("/simulator/conversation")).json()[0]["ticket"]
    link = ticket_links((await client.get("/simulator")).text)[0]
    assert number in link and "79005550101" not in link and "5550101" not in link
    stranger = httpx.AsyncClient(transport=client._transport, base_url="https://hub.test")
    async with stranger:
        shown = await stranger.get(link, params={"lang": "ru"})
        assert shown.status_code == 200 and f"Обращение {number}" in shown.text
        assert "79005550101" not in shown.text
        # The number alone, or with a made-up key, opens nothing: the key is unguessable.
        assert (await stranger.get(f"/simulator/tickets/{number}")).status_code == 404
        forged = link[:-4] + ("0000" if not link.endswith("0000") else "1111")
        refused = await stranger.get(forged, params={"lang": "ru"})
        # A page in the reader's language, not a bare JSON error.
        assert refused.status_code == 404 and "Обращение не найдено" in refused.text
        other = format_public_number(parse_public_number(number) + 1)  # type: ignore[operator]
        assert (await stranger.get(link.replace(number, other))).status_code == 404


@pytest.mark.parametrize(
    ("lang", "pressed"), [("en", "Pressed 2"), ("ru", "Нажато: 2"), ("zh", "按键：2")]
)
async def test_a_key_press_shows_what_was_pressed(
    client: httpx.AsyncClient, lang: str, pressed: str
) -> None:
    _, csrf, message_id = await page(client, lang)
    await send(
        client, csrf=csrf, message_id=message_id, channel="voice", address="+79005550303", keys="2"
    )
    html, _, _ = await page(client, lang)
    assert re.search(rf'<span class="text">\s*{pressed}\s*</span>', html), html


WORDS = {
    "en": [
        "City maintenance dispatch",
        "Status: new → assigned",
        "Handed to Sanitation",
        "Dispatcher",
        "Resident",
    ],
    "ru": [
        "Городская диспетчерская служба",
        "Статус: новое → передано исполнителю",
        "Передано исполнителю: Санитарная очистка",
        "Диспетчер",
        "Заявитель",
    ],
    "zh": ["城市管理派遣中心", "状态：新建 → 已分派", "已派往环卫处", "派遣员", "市民"],
}


async def test_the_ticket_page_names_offices_people_and_what_changed(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    login = await client.post(
        "/api/v1/session", json={"username": "dispatcher", "password": "dispatcher-demo"}
    )
    staff = {"X-CSRF-Token": login.json()["csrf_token"]}
    _, csrf, message_id = await page(client)
    await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="sms",
        address="+79005550101",
        text="Мусор у контейнеров у Центрального рынка",
    )
    number = (await client.get("/simulator/conversation")).json()[0]["ticket"]
    registered = await client.post(
        f"/api/v1/dispatch/cases/{number}/actions", json={"action": "register"}, headers=staff
    )
    assert registered.status_code == 200, registered.text
    link = ticket_links((await client.get("/simulator")).text)[0]
    for lang, words in WORDS.items():
        html = (await client.get(link, params={"lang": lang})).text
        for word in words:
            assert word in html, (lang, word)
        # No codes or ids: not the back office's, not a staff member's, not an event's.
        assert "staff:" not in html and ">dispatch<" not in html and "event:" not in html
        assert "dispatcher (" not in html  # the public sees a role, not the person


COMPANY_WORDS = {
    "en": ("Property company", "Uyut Housing"),
    "ru": ("Управляющая компания", "УК «Уют»"),
    "zh": ("物业公司", "舒适物业"),
}


async def test_the_ticket_page_names_the_company_a_complaint_went_to(
    client: httpx.AsyncClient,
) -> None:
    _, csrf, message_id = await page(client)
    # The demo owner of flat 1 in b001, an estate under contract with «Уют».
    await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="sms",
        address="+79001000001",
        text="Не работает лифт в подъезде",
    )
    link = ticket_links((await client.get("/simulator")).text)[0]
    for lang, (label, company) in COMPANY_WORDS.items():
        html = (await client.get(link, params={"lang": lang})).text
        assert re.search(rf"<dt>{label}</dt><dd>{company}</dd>", html), (lang, html)
        assert ">uyut<" not in html
