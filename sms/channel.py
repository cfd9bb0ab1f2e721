"""The SMS channel, declared once: phones, Twilio (or the console), numbered choices."""

from __future__ import annotations

from channels.console import ConsoleSender
from channels.contract import Channel, Sender
from channels.render import numbered_list
from channels.spec import Capabilities, ChannelSpec, Compose, Delivery
from core.config import Settings
from core.residents.enums import ContactKind
from sms.service import MAX_BODY, MAX_MEDIA
from sms.views import router


def build_sender(settings: Settings) -> Sender:
    """Returns Twilio's sender when the settings configure it, else the console sender."""
    if not settings.twilio_account_sid:
        return ConsoleSender(Channel.SMS)
    from sms.ratelimit import SendingRate
    from sms.sender import TwilioSender

    rate = SendingRate(
        per_second=settings.sms_rate_per_second,
        reply_reserve=settings.sms_reply_reserve,
        redis_url=settings.redis_url,
    )
    return TwilioSender(settings, rate=rate)


SMS = ChannelSpec(
    name=Channel.SMS,
    address_kind=ContactKind.PHONE,
    sender=build_sender,
    renderer=numbered_list,
    # Twilio answers an inbound SMS in TwiML, but a reply it has not confirmed may still be
    # re-sent by REST: delivery is the provider's, with the inline answer a shortcut.
    delivery=Delivery.PROVIDER,
    capabilities=Capabilities(photo=MAX_MEDIA > 0, max_length=MAX_BODY, segmented=True),
    text_style="sms",
    compose=Compose.TEXT,
    routers=(router,),
)
