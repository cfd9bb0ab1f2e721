"""Billing answers in three styles: short (SMS), spoken (IVR) and full (chat, web, kiosk).

An SMS answer fits one or two segments: the total and the date it is for. A chat or a screen
gets the breakdown by supplier and service, one line each. A spoken answer says the amounts
with the currency's name, because "₽" means nothing read aloud.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal, get_currency_name

from core.i18n import detect_language, gettext, pick_name

SHORT, SPOKEN, FULL = "short", "spoken", "full"
_LOCALES = {"en": "en_GB", "ru": "ru_RU", "zh": "zh_Hans_CN"}


def _money(language: str, style: str, amount: str, currency: str) -> str:
    value = Decimal(amount or "0")
    locale = _LOCALES.get(language, "en_GB")
    if style == SPOKEN:
        name = get_currency_name(currency, count=int(value), locale=locale)
        return f"{format_decimal(value, locale=locale)} {name}"
    return format_currency(value, currency, locale=locale)


def _label(language: str, prefix: str, value: str) -> str:
    """Translates a coded value ("unit:m3"); a code the catalog lacks is shown as it is."""
    key = f"{prefix}:{value}"
    text = gettext(language, key)
    return value if text == key else text


def _short(item: dict[str, Any], language: str) -> str:
    """Returns the meter's short label in the resident's script ("хв", "cw", "冷水")."""
    labels: list[str] = item.get("labels") or [""]
    for label in labels:
        script = detect_language(label) or "en"
        if script == language:
            return label
    return labels[0]


def _name(names: dict[str, str] | None, language: str) -> str:
    return pick_name(names, language)


def _lines(head: str, lines: list[str], style: str) -> str:
    if style == FULL:
        return "\n".join([head, *lines])
    return " ".join([head, *lines])


def balance(language: str, style: str, values: dict[str, Any]) -> str:
    currency = values["currency"]
    due, credit = values["due"], values["credit"]
    if Decimal(credit):
        head = gettext(
            language,
            "Account {account}: nothing is due; {credit} is paid in advance.",
            account=values["account"],
            credit=_money(language, style, credit, currency),
        )
    else:
        head = gettext(
            language,
            "Account {account}: {due} is due.",
            account=values["account"],
            due=_money(language, style, due, currency),
        )
    if style == SHORT:
        return head
    lines = [
        f"{_name(line['supplier'], language)} · {_name(line['service'], language)}: "
        f"{_money(language, style, line['owed'], currency)}"
        for line in values["lines"]
    ]
    return _lines(head, lines, style)


def details(language: str, style: str, values: dict[str, Any]) -> str:
    currency = values["currency"]
    if not values["lines"]:
        return gettext(language, "Account {account} has no bill yet.", account=values["account"])
    head = gettext(
        language,
        "Bill for {period}, account {account}: {total}.",
        period=values["period"],
        account=values["account"],
        total=_money(language, style, values["total"], currency),
    )
    lines = []
    for line in values["lines"]:
        amount = _money(language, style, line["amount"], currency)
        how = _label(language, "basis", line["basis"])
        if style == SHORT:
            lines.append(f"{_name(line['service'], language)} {amount};")
            continue
        text = gettext(
            language,
            "{service} ({supplier}): {quantity} {unit} × {tariff}, {how} = {amount}",
            service=_name(line["service"], language),
            supplier=_name(line["supplier"], language),
            quantity=format_decimal(
                Decimal(line["quantity"]), locale=_LOCALES.get(language, "en_GB")
            ),
            unit=_label(language, "unit", line["unit"]),
            tariff=_money(language, style, line["tariff"], currency),
            how=how,
            amount=amount,
        )
        if line["recalculated"]:
            text += " " + gettext(
                language,
                "(recalculated: {amount})",
                amount=_money(language, style, line["recalculated"], currency),
            )
        lines.append(text)
    return _lines(head, lines, style)


def payments(language: str, style: str, values: dict[str, Any]) -> str:
    if not values["payments"]:
        return gettext(language, "No payments on account {account} yet.", account=values["account"])
    head = gettext(language, "Last payments, account {account}:", account=values["account"])
    lines = [
        f"{p['paid_on']} {_money(language, style, p['amount'], values['currency'])}"
        for p in values["payments"]
    ]
    return _lines(head, lines, style)


def why(language: str, style: str, values: dict[str, Any]) -> str:
    if not values["period"]:
        return gettext(language, "Account {account} has no bill yet.", account=values["account"])
    if not values["previous"]:
        return gettext(language, "There is only one bill so far, so nothing to compare.")
    if not values["changes"]:
        return gettext(
            language,
            "Your bill for {period} is the same as for {previous}.",
            period=values["period"],
            previous=values["previous"],
        )
    head = gettext(
        language,
        "Changes from {previous} to {period}:",
        period=values["period"],
        previous=values["previous"],
    )
    lines = []
    for change in values["changes"]:
        reasons = ", ".join(gettext(language, reason) for reason in change["reasons"])
        lines.append(
            gettext(
                language,
                "{service}: {before} → {after} ({reasons}).",
                service=_name(change["service"], language),
                before=_money(language, style, change["before"], values["currency"]),
                after=_money(language, style, change["after"], values["currency"]),
                reasons=reasons,
            )
        )
    return _lines(head, lines, style)


def readings(language: str, style: str, values: dict[str, Any]) -> str:
    if not values["readings"]:
        return gettext(
            language, "Account {account} has no meters on record.", account=values["account"]
        )
    head = gettext(language, "Last readings, account {account}:", account=values["account"])
    lines = []
    for reading in values["readings"]:
        label = _short(reading, language) if style == SHORT else _name(reading["service"], language)
        if not reading["value"]:
            lines.append(gettext(language, "{meter}: none yet.", meter=label))
            continue
        lines.append(
            gettext(
                language,
                "{meter}: {value} for {period} ({status}).",
                meter=label,
                value=reading["value"],
                period=reading["period"],
                status=gettext(language, f"reading_status:{reading['status']}"),
            )
        )
    return _lines(head, lines, style)


def reading_result(language: str, style: str, values: dict[str, Any]) -> str:
    head = gettext(
        language,
        "Readings for {period}, account {account}:",
        period=values["period"],
        account=values["account"],
    )
    lines = []
    for result in values["results"]:
        meter = _short(result, language) if style == SHORT else _name(result["service"], language)
        status = gettext(language, f"reading_status:{result['status']}")
        text = f"{meter} {result['value']}: {status}"
        reason: str = result["reason"]
        if reason:
            text += " - " + gettext(language, reason)
        lines.append(text + ".")
    if values["late"] and style != SHORT:
        lines.append(
            gettext(language, "Sent after this month's deadline, so they count for next month.")
        )
    return _lines(head, lines, style)


def reading_howto(language: str, style: str, values: dict[str, Any]) -> str:
    reason = values.get("reason") or ""
    how = gettext(language, "To send readings, write: READING, then each meter's name and number.")
    if not reason:
        return how
    explained = gettext(
        language, reason, label=values.get("label", ""), labels=values.get("labels", "")
    )
    return f"{explained} {how}"


def linked(language: str, style: str, values: dict[str, Any]) -> str:
    return gettext(
        language,
        "Account {account} is linked. Now just write BALANCE or READING.",
        account=values["account"],
    )


def identify(language: str, style: str, values: dict[str, Any]) -> str:
    return gettext(
        language,
        "First prove the account: write ACCOUNT, its number and the PIN from your bill.",
    )


def choose_account(language: str, style: str, values: dict[str, Any]) -> str:
    return gettext(
        language,
        "You have several accounts: {accounts}. Add the number, e.g. BALANCE {first}.",
        accounts=", ".join(values["accounts"]),
        first=values["accounts"][0],
    )


def pin_wrong(language: str, style: str, values: dict[str, Any]) -> str:
    # An unknown account, and one with no PIN yet, get the very same words as a wrong PIN:
    # which account numbers exist is nobody's to learn by guessing (each miss costs a try).
    return gettext(
        language,
        "Account {account} and this PIN do not match. Check both on your bill; without a "
        "PIN, ask the settlement centre for one. Tries left: {attempts_left}.",
        account=values["account"],
        attempts_left=values["attempts_left"],
    )


pin_unknown_account = pin_no_pin = pin_wrong


def pin_locked(language: str, style: str, values: dict[str, Any]) -> str:
    return gettext(
        language,
        "Too many wrong tries. Try again in {minutes} minutes.",
        minutes=values["minutes"],
    )


TEMPLATES: dict[str, Callable[[str, str, dict[str, Any]], str]] = {
    "billing_balance": balance,
    "billing_details": details,
    "billing_payments": payments,
    "billing_why": why,
    "billing_readings": readings,
    "billing_reading_result": reading_result,
    "billing_reading_howto": reading_howto,
    "billing_linked": linked,
    "billing_identify": identify,
    "billing_choose_account": choose_account,
    "billing_pin_wrong": pin_wrong,
    "billing_pin_unknown_account": pin_unknown_account,
    "billing_pin_no_pin": pin_no_pin,
    "billing_pin_locked": pin_locked,
}


def render(style: str, notice: str, language: str, **values: Any) -> str:
    """Returns a billing notice's text in one of the three styles."""
    return TEMPLATES[notice](language, style, values)
