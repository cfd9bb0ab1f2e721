"""The usual ways a channel words a structured reply: the notice's text from its template,
then the choices as the channel offers them.

Choices are numbered from 1 in the order the structure lists them, on every channel: the
digit an SMS resident types and the key a caller presses name the same choice, and intake
reads an answer against that numbering (the pending choices of the conversation).
"""

from __future__ import annotations

from channels import templates
from channels.contract import Structure
from channels.spec import ChannelSpec
from core.i18n import gettext


def base_text(spec: ChannelSpec, structure: Structure, language: str) -> str:
    """Returns the notice's own text in the channel's style, without the choices."""
    return templates.render(spec.text_style, structure.notice, language, **structure.values)


def numbered_list(spec: ChannelSpec, structure: Structure, language: str) -> str:
    """Returns the text with one "1: label" line per choice, answered by typing the digit."""
    text = base_text(spec, structure, language)
    if not structure.choices:
        return text
    # "1: label", not "1 — label": an em dash is outside the GSM alphabet and would double
    # what an English SMS costs; Chinese takes its own full-width colon.
    colon = "：" if language == "zh" else ": "
    lines = [
        f"{number}{colon}{choice.label(language)}"
        for number, choice in enumerate(structure.choices, start=1)
    ]
    return "\n".join([text, *lines, gettext(language, "Reply with the number.")])


def spoken_keys(spec: ChannelSpec, structure: Structure, language: str) -> str:
    """Returns the prompt followed by "for …, press 1" for each choice, answered on the keypad."""
    text = base_text(spec, structure, language)
    keys = [
        gettext(language, "For {label}, press {digit}.", label=choice.label(language), digit=number)
        for number, choice in enumerate(structure.choices, start=1)
    ]
    return " ".join([text, *keys])


def buttons(spec: ChannelSpec, structure: Structure, language: str) -> str:
    """Returns the text alone: the choices are buttons the screen draws from the structure."""
    return base_text(spec, structure, language)
