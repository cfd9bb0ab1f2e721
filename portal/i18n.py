"""Choosing the page language and giving templates their translation function."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from core.i18n import LANGUAGES, gettext

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page_language(request: Request) -> str:
    """Returns the language from ?lang=, the session, or Accept-Language, else English."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        request.session["lang"] = chosen
        return chosen
    remembered = request.session.get("lang")
    if remembered in LANGUAGES:
        return str(remembered)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def translator(language: str) -> Callable[..., str]:
    """Returns ``_`` for templates: ``_("text {x}", x=1)`` in the page language."""

    def _(message: str, **values: object) -> str:
        return gettext(language, message, **values)

    return _
