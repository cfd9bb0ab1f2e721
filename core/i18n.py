"""Translations from Babel catalogs, and guessing a resident's language from what they wrote."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_timezone, get_timezone_location
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_name
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru", "zh")
# The Babel locale each language is formatted in: the hub's readers live in these regions.
LOCALES = {"en": "en_GB", "ru": "ru_RU", "zh": "zh_Hans_CN"}


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    """Returns the catalog for a language, compiled in memory from its .po file.

    Compiling at load time keeps the .po files the single source and spares every
    installation a build step; the catalogs are small.
    """
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(language: str, message: str, **values: object) -> str:
    """Returns ``message`` translated into ``language`` with ``values`` filled in."""
    text = translations(language).gettext(message)
    return text.format(**values) if values else text


def ngettext(language: str, singular: str, plural: str, count: int, **values: object) -> str:
    """Returns the form of a message that agrees with ``count`` in ``language``.

    Russian has three forms (1 заявка, 2 заявки, 5 заявок), Chinese one, English two; the
    catalog's Plural-Forms header picks it. ``count`` is offered to the text as {count},
    written as the language writes numbers.
    """
    text = translations(language).ngettext(singular, plural, count)
    return text.format(**{"count": format_number(language, count), **values})


def pgettext(language: str, context: str, message: str, **values: object) -> str:
    """Returns ``message`` as meant in ``context``, translated into ``language``.

    The context lets one English word take several translations: Russian status words
    agree in gender with the noun they describe ("обращение новое", "жалоба новая").
    """
    text = str(translations(language).pgettext(context, message))
    return text.format(**values) if values else text


# Short English words that transliterated Russian ("ne rabotaet lift") does not use: a
# Latin message with two of them is English. One is not enough ("i" is Russian "и"), and
# a command ("status 0000018") has none, so a resident who wrote Chinese keeps Chinese.
_ENGLISH = frozenset(
    {
        "a",
        "again",
        "an",
        "and",
        "any",
        "are",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "here",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "many",
        "me",
        "much",
        "my",
        "near",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "outside",
        "please",
        "she",
        "should",
        "since",
        "some",
        "still",
        "thank",
        "thanks",
        "that",
        "the",
        "their",
        "there",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    }
)
_WORD = re.compile(r"[a-z']+")


def detect_language(text: str) -> str | None:
    """Returns the language a text points to, or None when it says nothing.

    Residents rarely tell us their language; the script they type in does. Latin text is
    English only when it reads as English (two common English words), because
    transliterated Russian is common on old phones.
    """
    cyrillic = cjk = 0
    for char in text:
        code = ord(char)
        if 0x0400 <= code <= 0x04FF:
            cyrillic += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            cjk += 1
    if cjk and cjk >= cyrillic:
        return "zh"
    if cyrillic:
        return "ru"
    words = set(_WORD.findall(text.casefold()))
    if len(words & _ENGLISH) >= 2:
        return "en"
    return None


def pick_name(names: dict[str, str] | None, language: str) -> str:
    """Returns the name in ``language``, falling back to English, then to any name."""
    if not names:
        return ""
    return names.get(language) or names.get("en") or next(iter(names.values()))


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["en"])


def format_number(language: str, value: object) -> str:
    """Returns a number as the language writes it ("108,7" in Russian); text passes through."""
    try:
        number = Decimal(str(value).replace(" ", "")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return str(value)
    return format_decimal(number, locale=_locale(language), decimal_quantization=False)


# How a Chinese sentence names an amount: "应缴18,486.31元" reads as a bill does, where a
# currency sign or an ISO code ("RUB18,486.31") in the middle of a sentence does not.
_CHINESE_UNITS = {"CNY": "元", "RUB": "卢布", "USD": "美元", "EUR": "欧元", "HKD": "港元"}


def format_money(language: str, amount: object, currency: str, *, spoken: bool = False) -> str:
    """Returns an amount of money as a reader of ``language`` expects it.

    Russian "36 671,14 ₽"; Chinese "18,486.31元" or "18,486.31卢布"; English
    "RUB 36,671.14" (the ISO code keeps an English SMS in the GSM alphabet, where "₽" would
    halve what one part carries). Spoken, the currency is named: a sign means nothing aloud.
    """
    try:
        value = Decimal(str(amount or "0"))
    except InvalidOperation:
        return str(amount)
    locale = _locale(language)
    number = format_decimal(value, format="#,##0.00", locale=locale)
    if spoken:
        count = int(abs(value))
        return f"{number} {get_currency_name(currency, count=count, locale=locale)}"
    if language == "zh":
        return number + _CHINESE_UNITS.get(currency, get_currency_name(currency, locale=locale))
    text = format_currency(value, currency, locale=locale)
    if text.startswith(currency):  # no symbol in this locale: "RUB 36,671.14", not "RUB36,…"
        text = f"{currency} {text[len(currency) :]}"
    return text


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_MONTH_PATTERNS = {"en": "MMMM y", "ru": "LLLL y", "zh": "y年M月"}
_DAY_PATTERNS = {"en": "d MMMM y", "ru": "d MMMM y", "zh": "y年M月d日"}
_MOMENT_PATTERNS = {"en": "d MMMM y, HH:mm", "ru": "d MMMM y, HH:mm", "zh": "y年M月d日 HH:mm"}


def format_month(language: str, value: object) -> str:
    """Returns a billing period ("2026-11", or a date) as "November 2026" / "ноябрь 2026"."""
    if isinstance(value, date):
        month = value.replace(day=1)
    else:
        match = _MONTH.match(str(value or "").strip())
        if match is None:
            return str(value or "")
        month = date(int(match.group(1)), int(match.group(2)), 1)
    pattern = _MONTH_PATTERNS.get(language, _MONTH_PATTERNS["en"])
    return format_date(month, pattern, locale=_locale(language))


def format_day(language: str, value: object) -> str:
    """Returns a day ("2026-11-27", or a date) as "27 November 2026" / "2026年11月27日"."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value or "").strip())
        except ValueError:
            return str(value or "")
    pattern = _DAY_PATTERNS.get(language, _DAY_PATTERNS["en"])
    return format_date(value, pattern, locale=_locale(language))


def format_moment(language: str, value: object, timezone: str) -> str:
    """Returns a time in the city's zone, naming the zone: "18 декабря 2026, 09:00 (Москва)".

    An aware time is shown as the city's clock reads it; a naive one is taken to be UTC,
    as every timestamp the hub stores is. A resident in another zone still reads which
    clock is meant.
    """
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            return str(value or "")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    zone = ZoneInfo(timezone)
    locale = _locale(language)
    pattern = _MOMENT_PATTERNS.get(language, _MOMENT_PATTERNS["en"])
    text = format_datetime(value.astimezone(zone), pattern, locale=locale)
    city = get_timezone_location(get_timezone(timezone), locale=locale, return_city=True)
    return gettext(language, "{time} ({city} time)", time=text, city=city)


def format_items(language: str, items: list[str]) -> str:
    """Returns items joined as the language lists them in a sentence ("a、b和c")."""
    return format_list(list(items), locale=_locale(language)) if items else ""
