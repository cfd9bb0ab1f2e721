"""Conformance of every Sender implementation to the channel contract, and the registry."""

import pytest

from channels.console import ConsoleSender, console_sender
from channels.contract import Channel, Reply, Sender
from channels.installed import INSTALLED, registry
from channels.registry import ChannelRegistry, UnknownChannel
from channels.render import buttons
from channels.spec import ChannelSpec, Delivery
from core.config import Settings
from core.residents.enums import ContactKind

SENDERS = [pytest.param(lambda: ConsoleSender(Channel.SMS), id="console")]


@pytest.mark.parametrize("make", SENDERS)
async def test_sender_contract(make) -> None:  # type: ignore[no-untyped-def]
    sender = make()
    assert isinstance(sender, Sender)
    reply = Reply(channel=sender.channel, address="+79005550101", text="Привет", language="ru")
    first = await sender.send(reply, idempotency_key="outbox-1")
    again = await sender.send(reply, idempotency_key="outbox-1")
    other = await sender.send(reply, idempotency_key="outbox-2")
    assert first.provider_message_id == again.provider_message_id  # a retry is not a new SMS
    assert other.provider_message_id != first.provider_message_id


def test_the_embedded_default_sends_every_installed_channel_to_the_console() -> None:
    channels = registry(Settings())
    assert channels.names() == tuple(spec.name for spec in INSTALLED)
    for name in channels.names():
        sender = channels.sender(name)
        assert isinstance(sender, ConsoleSender) and sender.channel == name
    # Built once: the same sender keeps its idempotency memory between deliveries.
    assert channels.sender("sms") is channels.sender("sms")


def test_an_unknown_channel_is_refused_cleanly() -> None:
    channels = registry(Settings())
    for ask in (channels.spec, channels.sender, channels.notify_channel, channels.address_kind):
        with pytest.raises(UnknownChannel, match="carrier_pigeon"):
            ask("carrier_pigeon")
    with pytest.raises(UnknownChannel):
        registry(Settings(), senders={"carrier_pigeon": ConsoleSender("carrier_pigeon")})


def _spec(name: str, **changes: object) -> ChannelSpec:
    fields: dict[str, object] = {
        "name": name,
        "address_kind": ContactKind.WEB,
        "sender": console_sender(name),
        "renderer": buttons,
        "delivery": Delivery.PROVIDER,
    }
    return ChannelSpec(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_registry_refuses_what_would_break_later() -> None:
    with pytest.raises(ValueError, match="twice"):
        ChannelRegistry([_spec("fax"), _spec("fax")], settings=Settings())
    with pytest.raises(ValueError, match="not installed"):
        ChannelRegistry([_spec("fax", notify_via="sms")], settings=Settings())
    with pytest.raises(ValueError, match="must match"):
        ChannelRegistry([_spec("Fax Machine")], settings=Settings())


def test_where_later_notices_go() -> None:
    channels = registry(Settings())
    # A caller has hung up, a kiosk user has left: SMS to their phone.
    assert channels.notify_channel("voice") == "sms"
    assert channels.notify_channel("kiosk") == "sms"
    # Channels that carry their own notices, and Open311, whose clients poll.
    assert channels.notify_channel("sms") == "sms"
    assert channels.notify_channel("telegram") == "telegram"
    assert channels.notify_channel("open311") is None
    assert channels.notices_channel(ContactKind.PHONE) == "sms"
    assert channels.notices_channel(ContactKind.EMAIL) is None
    assert channels.is_inline("voice") and not channels.is_inline("sms")


def test_a_new_channel_is_one_spec() -> None:
    """A channel nobody else in the hub knows of works through the registry alone."""
    fax = _spec("fax", address_kind=ContactKind.PHONE, notify_via="sms")
    channels = ChannelRegistry([*INSTALLED, fax], settings=Settings())
    assert channels.names()[-1] == "fax" and channels.notify_channel("fax") == "sms"
    assert channels.sender("fax").channel == "fax"
    assert Reply(channel="fax", address="+79005550101", text="hi", language="en").channel == "fax"
