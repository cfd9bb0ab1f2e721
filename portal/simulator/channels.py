"""Stand-ins for the channels whose own packages are still to come (bot/, ivr/): declared
through the registry like any channel, with the console sender, so the simulator plays
them and the hub treats their messages as it will treat the real ones.

When bot/ or ivr/ ships its own spec, channels/installed.py lists it instead of these.
"""

from __future__ import annotations

from channels.console import console_sender
from channels.contract import Channel
from channels.render import buttons, spoken_keys
from channels.spec import Capabilities, ChannelSpec, Compose, Delivery
from core.residents.enums import ContactKind

TELEGRAM = ChannelSpec(
    name=Channel.TELEGRAM,
    address_kind=ContactKind.TELEGRAM,
    sender=console_sender(Channel.TELEGRAM),
    # An inline keyboard draws the choices.
    renderer=buttons,
    delivery=Delivery.PROVIDER,
    capabilities=Capabilities(photo=True, location=True, voice=True, buttons=True, max_length=4096),
    text_style="telegram",
    compose=Compose.TEXT,
)

# The caller hears the answer during the call and has hung up by the time anything else
# happens: their ticket's later news goes by SMS to the number they called from.
VOICE = ChannelSpec(
    name=Channel.VOICE,
    address_kind=ContactKind.PHONE,
    sender=console_sender(Channel.VOICE),
    renderer=spoken_keys,
    delivery=Delivery.INLINE,
    capabilities=Capabilities(voice=True),
    text_style="voice",
    notify_via=Channel.SMS,
    compose=Compose.KEYS,
    # The first menu a caller hears: the key → a category of the demo city (data of this
    # channel, as the kiosk's tiles will be of the kiosk's).
    menu={
        "1": "water_outage",
        "2": "heating",
        "3": "street_light",
        "4": "garbage",
        "5": "stairwell",
        "6": "bill_question",
        "7": "meter_reading",
        "9": "other",
    },
)

SPECS = (TELEGRAM, VOICE)
