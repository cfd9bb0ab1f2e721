"""Per-notice message templates, one module per channel, so each says things its own way.

An SMS must be short (segments cost money), a voice prompt is heard not read, a web reply
can carry more. Every template takes the resident's language.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from channels.contract import Channel
from channels.templates import billing, complaints, dispatch, sms, telegram, voice, votes, web

Render = Callable[..., str]

_MODULES: dict[Channel, ModuleType] = {
    Channel.SMS: sms,
    Channel.TELEGRAM: telegram,
    Channel.VOICE: voice,
    Channel.WEB: web,
    Channel.KIOSK: web,
    Channel.OPEN311: web,
    Channel.API: web,
}

NOTICES = (
    "ticket_created",
    "ticket_continued",
    "ticket_status",
    "help",
    "status_unknown",
    "opted_out",
    "opted_in",
    "subscribed",
    "unsubscribed",
    "otp_code",
    *billing.TEMPLATES,
    *dispatch.TEMPLATES,
    *complaints.TEMPLATES,
    *votes.TEMPLATES,
)

# How each channel words billing answers (see channels/templates/billing.py).
_BILLING_STYLE: dict[Channel, str] = {
    Channel.SMS: billing.SHORT,
    Channel.VOICE: billing.SPOKEN,
}


def render(channel: Channel | str, notice: str, language: str, **values: object) -> str:
    """Returns the text of ``notice`` for ``channel`` in ``language``."""
    if notice not in NOTICES:
        raise KeyError(f"unknown notice {notice!r}")
    if notice in billing.TEMPLATES:
        style = _BILLING_STYLE.get(Channel(channel), billing.FULL)
        return billing.render(style, notice, language, **values)
    if notice in dispatch.TEMPLATES:
        return dispatch.render(str(Channel(channel)), notice, language, **values)
    if notice in complaints.TEMPLATES:
        return complaints.render(str(Channel(channel)), notice, language, **values)
    if notice in votes.TEMPLATES:
        return votes.render(str(Channel(channel)), notice, language, **values)
    module = _MODULES[Channel(channel)]
    template: Render = getattr(module, notice)
    return template(language, **values)
