"""Translations from Babel catalogs, and guessing a resident's language from what they wrote."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru", "zh")


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


def pgettext(language: str, context: str, message: str, **values: object) -> str:
    """Returns ``message`` as meant in ``context``, translated into ``language``.

    The context lets one English word take several translations: Russian status words
    agree in gender with the noun they describe ("обращение новое", "жалоба новая").
    """
    text = str(translations(language).pgettext(context, message))
    return text.format(**values) if values else text


def detect_language(text: str) -> str | None:
    """Returns the language a text's script points to, or None when it says nothing.

    Residents rarely tell us their language; the script they type in does. Latin text is
    not taken as English, because transliterated Russian is common on old phones.
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
    return None


def pick_name(names: dict[str, str] | None, language: str) -> str:
    """Returns the name in ``language``, falling back to English, then to any name."""
    if not names:
        return ""
    return names.get(language) or names.get("en") or next(iter(names.values()))
