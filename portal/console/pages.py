"""Drawing console pages: the staff member's language, menu and CSRF token in every template."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import _TemplateResponse

from core.i18n import LANGUAGES, format_moment, format_number, gettext, ngettext, pgettext
from core.sla.countdown import Countdown
from core.tickets.wording import back_office_name, status_word
from portal.console.auth import Staff
from portal.console.nav import screens_for
from portal.i18n import TEMPLATES, translator

# Staff read times in the city's zone (the demo city's; a setting when there are more).
TIMEZONE = "Europe/Moscow"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "zh": "中文"}


def clock_text(language: str, clock: Countdown) -> str:
    """Returns an SLA countdown as words: "2 h 5 min left", "overdue by 40 min"."""
    seconds = int(abs(clock.left.total_seconds()))
    days, rest = divmod(seconds, 86400) if not clock.working else (0, seconds)
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = []
    if days:
        parts.append(ngettext(language, "{count} day", "{count} days", days))
    if hours:
        parts.append(ngettext(language, "{count} h", "{count} h", hours))
    if minutes or not parts:
        parts.append(ngettext(language, "{count} min", "{count} min", minutes))
    amount = " ".join(parts)
    if clock.left.total_seconds() < 0 or clock.overdue:
        return gettext(language, "overdue by {time}", time=amount)
    if clock.working:
        return gettext(language, "{time} of working time left", time=amount)
    return gettext(language, "{time} left", time=amount)


def helpers(language: str) -> dict[str, Any]:
    """Returns the functions every console template may call, bound to ``language``."""
    return {
        "_": translator(language),
        "lang": language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "n_": lambda one, many, count, **values: ngettext(language, one, many, count, **values),
        "p_": lambda context, message, **values: pgettext(language, context, message, **values),
        "moment": lambda value: format_moment(language, value, TIMEZONE) if value else "",
        "number": lambda value: format_number(language, value),
        "status_word": lambda status: status_word(language, status),
        "office_name": lambda office: back_office_name(language, office),
        "clock_text": lambda clock: clock_text(language, clock),
    }


def page(
    request: Request,
    staff: Staff | None,
    template: str,
    *,
    status_code: int = 200,
    language: str | None = None,
    **context: Any,
) -> _TemplateResponse:
    """Renders a console template for ``staff`` (or the login page, with no one yet)."""
    chosen = language or (staff.language if staff else "en")
    values: dict[str, Any] = {
        **helpers(chosen),
        "staff": staff,
        "screens": screens_for(staff.role) if staff else [],
        "current": request.url.path,
        **context,
    }
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def fragment(request: Request, staff: Staff, template: str, **context: Any) -> HTMLResponse:
    """Renders a piece of a page (an htmx swap) in the staff member's language."""
    values = {**helpers(staff.language), "staff": staff, **context}
    return TEMPLATES.TemplateResponse(request, template, values)
