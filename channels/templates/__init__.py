"""Every message a person receives, by notice name: one convention for all of them.

A template is a Python function ``(say, **values) -> str`` in the module of the back office
that sends it; ``say`` (channels/templates/say.py) holds the resident's language and the
channel's style, and is the only way a template gets words or formats a number. Which
channel speaks in which style is decided here, in ``STYLES``, and nowhere else: an SMS is
short (parts cost money), a call is spoken, a chat or a screen says it in full.

``render`` is the public entry; a template that fails to render raises, and a notice that
renders to nothing is refused, so a resident never gets a blank message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from channels.contract import Channel
from channels.templates import billing, common, complaints, dispatch, votes
from channels.templates.say import Say, Style

Template = Callable[..., str]

# One explicit list of the modules that word notices; a notice name belongs to one.
_MODULES = (common, billing, dispatch, complaints, votes)
TEMPLATES: Mapping[str, Template] = {
    name: template for module in _MODULES for name, template in module.TEMPLATES.items()
}
NOTICES = tuple(TEMPLATES)

# How each channel says things; a channel not named here (a screen, an API) says it in full.
STYLES: Mapping[str, Style] = {
    Channel.SMS: Style.SHORT,
    Channel.VOICE: Style.SPOKEN,
}


class EmptyMessage(ValueError):
    """A notice rendered to nothing: a defect in a template, never sent."""


def style_of(channel: Channel | str) -> Style:
    """Returns the way ``channel`` says things."""
    return STYLES.get(str(channel), Style.FULL)


def render(channel: Channel | str, notice: str, language: str, **values: object) -> str:
    """Returns the text of ``notice`` for ``channel`` in ``language``."""
    template = TEMPLATES.get(notice)
    if template is None:
        raise KeyError(f"unknown notice {notice!r}")
    text = template(Say(language, style_of(channel), str(channel)), **values).strip()
    if not text:
        raise EmptyMessage(notice)
    return text
