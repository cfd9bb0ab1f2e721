"""The simulator's channels come from the registry, and a reply's choices are buttons."""

import re

import httpx

from channels.contract import Choice, Structure
from core.db import transaction
from core.outbox import service as outbox_service
from core.outbox.enums import OutboxKind
from core.runtime import Hub
from tests.portal.test_simulator import page, send

CHOOSE = Structure(
    notice="help",
    choices=(
        Choice(id="cat:heating", labels={"en": "Heating", "ru": "Отопление"}),
        Choice(id="cat:lift", labels={"en": "Lift", "ru": "Лифт"}),
    ),
)


async def test_the_channels_offered_are_the_registrys_playable_ones(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    html, _, _ = await page(client)
    offered = re.findall(r'name="channel" value="([a-z0-9_]+)"', html)
    playable = [n for n in hub.channels.names() if hub.channels.spec(n).compose is not None]
    assert offered == playable == ["sms", "telegram", "voice", "web"]
    # A channel the registry does not offer here is refused with a sentence, not a 500.
    _, csrf, message_id = await page(client)
    refused = await send(
        client, csrf=csrf, message_id=message_id, channel="kiosk", address="x", text="hi"
    )
    assert refused.status_code == 422 and "Choose a channel" in refused.text


async def test_a_replys_choices_are_buttons_on_the_page_and_in_the_json(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    _, csrf, message_id = await page(client)
    await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="sms",
        address="+79005550606",
        text="Help",
    )
    async with transaction(hub.session_factory) as session:
        await outbox_service.create(
            db_session=session,
            kind=OutboxKind.REPLY,
            channel="sms",
            address="+79005550606",
            language="ru",
            text=hub.channels.render("sms", CHOOSE, "ru"),
            structure=CHOOSE,
        )
    lines = (await client.get("/simulator/conversation")).json()
    last = lines[-1]
    assert last["direction"] == "out" and last["text"].count("\n") >= 2
    assert last["choices"] == [
        {"id": "cat:heating", "label": "Отопление"},
        {"id": "cat:lift", "label": "Лифт"},
    ]
    html, _, _ = await page(client)
    # An SMS has no buttons: pressing one types its number, as the resident would.
    buttons = re.findall(r'<button type="submit" name="text" value="([^"]+)">([^<]+)<', html)
    assert buttons == [("1", "Отопление"), ("2", "Лифт")]


async def test_a_pressed_button_goes_to_intake_as_a_choice(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    _, csrf, message_id = await page(client)
    pressed = await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="telegram",
        address="123456789",
        choice="cat:heating",
    )
    assert pressed.status_code == 303
    _, csrf, message_id = await page(client)
    forged = await send(
        client,
        csrf=csrf,
        message_id=message_id,
        channel="telegram",
        address="123456789",
        choice="<script>",
    )
    assert forged.status_code == 422
