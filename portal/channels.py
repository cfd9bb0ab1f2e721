"""The portal's own channels: the web page, the kiosk, Open311 clients and the REST API."""

from __future__ import annotations

from channels.console import console_sender
from channels.contract import Channel
from channels.render import buttons
from channels.spec import Capabilities, ChannelSpec, Compose, Delivery
from core.residents.enums import ContactKind

# The page shows the answer it was sent with; notices wait on the page for the resident.
WEB = ChannelSpec(
    name=Channel.WEB,
    address_kind=ContactKind.WEB,
    sender=console_sender(Channel.WEB),
    renderer=buttons,
    delivery=Delivery.INLINE,
    capabilities=Capabilities(photo=True, location=True, buttons=True),
    text_style="web",
    compose=Compose.TEXT,
)

# A kiosk user walks away from the screen: later news about their ticket goes by SMS.
KIOSK = ChannelSpec(
    name=Channel.KIOSK,
    address_kind=ContactKind.WEB,
    sender=console_sender(Channel.KIOSK),
    renderer=buttons,
    delivery=Delivery.INLINE,
    capabilities=Capabilities(buttons=True),
    text_style="web",
    notify_via=Channel.SMS,
)

# Open311 clients poll GET /requests: nobody is there to send anything to.
OPEN311 = ChannelSpec(
    name=Channel.OPEN311,
    address_kind=ContactKind.WEB,
    sender=console_sender(Channel.OPEN311),
    renderer=buttons,
    delivery=Delivery.NONE,
    capabilities=Capabilities(photo=True, location=True),
    text_style="web",
)

# Tickets an agent files through the API on a resident's behalf.
API = ChannelSpec(
    name=Channel.API,
    address_kind=ContactKind.WEB,
    sender=console_sender(Channel.API),
    renderer=buttons,
    delivery=Delivery.PROVIDER,
    text_style="web",
)

SPECS = (WEB, KIOSK, OPEN311, API)
