"""Conformance of every Sender implementation to the channel contract."""

import pytest

from channels.console import ConsoleSender
from channels.contract import Channel, Reply, Sender
from channels.registry import SenderRegistry, UnknownChannel, console_registry

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


def test_registry_knows_every_channel_in_the_embedded_default() -> None:
    registry = console_registry()
    assert all(registry.get(ch).channel == ch for ch in Channel)
    with pytest.raises(UnknownChannel):
        SenderRegistry().get("sms")
    with pytest.raises(UnknownChannel):
        registry.get("carrier-pigeon")
