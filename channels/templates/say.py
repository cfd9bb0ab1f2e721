"""How a channel says things: one object every template receives.

A template is a plain function ``(say, **values) -> str``. ``say`` carries the resident's
language and the channel's way of speaking (its ``Style``), and offers the only means a
template has to produce words: catalog lookups (with plurals) and Babel formatting of
numbers, money, months, days and times. So no template formats a number by hand, and
which channel speaks how is decided once, in ``channels.templates.STYLES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from core import i18n


class Style(StrEnum):
    """A channel's way of saying a notice."""

    SHORT = "short"  # SMS: every part costs money, so one part where it can
    SPOKEN = "spoken"  # IVR: heard, not read; numbers digit by digit, currencies named
    FULL = "full"  # a chat or a screen: the whole answer, a line per item


@lru_cache(maxsize=1)
def _city_timezone() -> str:
    # Read once: the city's zone is a deployment setting, not something a message varies.
    from core.config import get_settings

    return get_settings().timezone


@dataclass(frozen=True)
class Say:
    language: str
    style: Style
    channel: str = ""

    @property
    def short(self) -> bool:
        return self.style is Style.SHORT

    @property
    def spoken(self) -> bool:
        return self.style is Style.SPOKEN

    def __call__(self, message: str, **values: object) -> str:
        """Returns a catalog message in the resident's language."""
        return i18n.gettext(self.language, message, **values)

    def plural(self, singular: str, plural: str, count: int, **values: object) -> str:
        """Returns the form that agrees with ``count`` (1 заявка, 2 заявки, 5 заявок)."""
        return i18n.ngettext(self.language, singular, plural, count, **values)

    def code(self, prefix: str, value: object) -> str:
        """Translates a coded value ("unit:m3"); a code the catalog lacks is shown as it is."""
        key = f"{prefix}:{value}"
        text = i18n.gettext(self.language, key)
        return str(value) if text == key else text

    def number(self, value: object) -> str:
        return i18n.format_number(self.language, value)

    def money(self, amount: object, currency: str) -> str:
        return i18n.format_money(self.language, amount, currency, spoken=self.spoken)

    def month(self, value: object) -> str:
        return i18n.format_month(self.language, value)

    def day(self, value: object) -> str:
        return i18n.format_day(self.language, value)

    def moment(self, value: object) -> str:
        return i18n.format_moment(self.language, value, _city_timezone())

    def ticket(self, number: object) -> str:
        """Returns a request number; spoken digit by digit, so a caller can write it down."""
        return " ".join(str(number)) if self.spoken else str(number)

    def name(self, names: dict[str, str] | None) -> str:
        return i18n.pick_name(names, self.language)

    def note(self, text: object, limit: int) -> str:
        """Returns someone's free text, on one line; cut to ``limit`` characters by SMS."""
        flat = " ".join(str(text or "").split())
        if self.short and len(flat) > limit:
            return flat[: limit - 1].rstrip() + "…"
        return flat

    def lines(self, head: str, lines: list[str], tail: str = "") -> str:
        """Joins a head, its items and a closing sentence: a line each on a screen, one run
        of text in an SMS or aloud, where the items end with a full stop (never a
        separator: "…190,35 ₽." not "…190,35 ₽;")."""
        if self.style is Style.FULL:
            return "\n".join(part for part in (head, *lines, tail) if part)
        run = self.sep().join(lines)
        if run and run[-1] not in ".。!?！？…":
            run += "。" if self.language == "zh" else "."
        return self.join(head, run, tail)

    def listing(self, items: list[str]) -> str:
        """Returns items as a list in a sentence: "a, b and c", "a, b и c", "a、b和c"."""
        return i18n.format_items(self.language, items)

    def sep(self) -> str:
        """Returns the separator between items of a list in a running sentence."""
        return "；" if self.language == "zh" else "; "

    def join(self, *parts: str) -> str:
        """Joins sentences: Chinese writes them with no space after the full stop."""
        glue = "" if self.language == "zh" else " "
        return glue.join(part for part in parts if part)
