"""Billing answers: short by SMS, spoken on a call, in full in a chat or on a screen.

An SMS answer aims at one part: the total and the month it is for, the breakdown by meter
label ("хв", "cw", "冷水") rather than full service names. A chat or a screen gets the
breakdown by supplier and service, one line each. Aloud, amounts name their currency,
because "₽" means nothing read aloud. Periods come as "2026-11" and days as ISO dates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from channels.templates.say import Say
from core.i18n import detect_language


def _short_label(item: dict[str, Any], language: str) -> str:
    """Returns the meter's short label in the resident's script ("хв", "cw", "冷水")."""
    labels: list[str] = item.get("labels") or [""]
    for label in labels:
        if (detect_language(label) or "en") == language:
            return label
    return labels[0]


def _service(say: Say, item: dict[str, Any]) -> str:
    if say.short and item.get("labels"):
        return _short_label(item, say.language)
    return say.name(item["service"])


def balance(say: Say, *, account: str, currency: str, due: str, credit: str, **v: Any) -> str:
    if Decimal(credit or "0"):
        head = say(
            "Account {account}: nothing is due; {credit} is paid in advance.",
            account=account,
            credit=say.money(credit, currency),
        )
    else:
        head = say(
            "Account {account}: {due} is due.", account=account, due=say.money(due, currency)
        )
    if say.short:
        return head
    lines = [
        say(
            "{supplier} · {service}: {amount}",
            supplier=say.name(line["supplier"]),
            service=say.name(line["service"]),
            amount=say.money(line["owed"], currency),
        )
        for line in v.get("lines", [])
    ]
    return say.lines(head, lines)


def _detail_line(say: Say, line: dict[str, Any], currency: str) -> str:
    amount = say.money(line["amount"], currency)
    if say.short:
        return say("{service} {amount}", service=_service(say, line), amount=amount)
    text = say(
        "{service} ({supplier}): {quantity} {unit} × {tariff}, {how} = {amount}",
        service=say.name(line["service"]),
        supplier=say.name(line["supplier"]),
        quantity=say.number(line["quantity"]),
        unit=say.code("unit", line["unit"]),
        tariff=say.money(line["tariff"], currency),
        how=say.code("basis", line["basis"]),
        amount=amount,
    )
    if line.get("recalculated"):
        text += " " + say(
            "(recalculated: {amount})", amount=say.money(line["recalculated"], currency)
        )
    return text


def details(say: Say, *, account: str, currency: str, lines: list[dict[str, Any]], **v: Any) -> str:
    if not lines:
        return say("Account {account} has no bill yet.", account=account)
    head = say(
        "Bill for {period}, account {account}: {total}.",
        period=say.month(v["period"]),
        account=account,
        total=say.money(v["total"], currency),
    )
    return say.lines(head, [_detail_line(say, line, currency) for line in lines])


def payments(say: Say, *, account: str, currency: str, **v: Any) -> str:
    if not v.get("payments"):
        return say("No payments on account {account} yet.", account=account)
    head = say("Last payments, account {account}:", account=account)
    lines = [
        say("{day}: {amount}", day=say.day(p["paid_on"]), amount=say.money(p["amount"], currency))
        for p in v["payments"]
    ]
    return say.lines(head, lines)


def why(say: Say, *, account: str, currency: str = "", **v: Any) -> str:
    if not v.get("period"):
        return say("Account {account} has no bill yet.", account=account)
    if not v.get("previous"):
        return say("There is only one bill so far, so nothing to compare.")
    period, previous = say.month(v["period"]), say.month(v["previous"])
    if not v.get("changes"):
        return say(
            "Your bill for {period} is the same as for {previous}.",
            period=period,
            previous=previous,
        )
    head = say("Changes from {previous} to {period}:", period=period, previous=previous)
    lines = [
        say(
            "{service}: {before} → {after} ({reasons})",
            service=say.name(change["service"]),
            before=say.money(change["before"], currency),
            after=say.money(change["after"], currency),
            reasons=say.listing([say(reason) for reason in change["reasons"]]),
        )
        for change in v["changes"]
    ]
    return say.lines(head, lines)


def readings(say: Say, *, account: str, **v: Any) -> str:
    if not v.get("readings"):
        return say("Account {account} has no meters on record.", account=account)
    head = say("Last readings, account {account}:", account=account)
    lines = []
    for reading in v["readings"]:
        meter = _service(say, reading)
        if not reading["value"]:
            lines.append(say("{meter}: none yet", meter=meter))
            continue
        lines.append(
            say(
                "{meter}: {value} for {period} ({status})",
                meter=meter,
                value=say.number(reading["value"]),
                period=say.month(reading["period"]),
                status=say.code("reading_status", reading["status"]),
            )
        )
    return say.lines(head, lines)


def _result_line(say: Say, result: dict[str, Any]) -> str:
    text = say(
        "{meter} {value}: {status}",
        meter=_service(say, result),
        value=say.number(result["value"]),
        status=say.code("reading_status", result["status"]),
    )
    reason: str = result.get("reason") or ""
    if reason:
        text += " " + say("({reason})", reason=say(reason))
    if result["status"] == "rejected" and result.get("previous"):
        text += " " + say("Last accepted: {previous}.", previous=say.number(result["previous"]))
    return text


def reading_result(say: Say, *, account: str, results: list[dict[str, Any]], **v: Any) -> str:
    head = say(
        "Readings for {period}, account {account}:",
        period=say.month(v["period"]),
        account=account,
    )
    text = say.lines(head, [_result_line(say, result) for result in results])
    if any(result["status"] == "rejected" for result in results):
        # A refused reading says what to do: check the meter and send the number again.
        text = say.join(text, say("Check the meter and send the reading again."))
    elif v.get("late") and not say.short:
        text = say.join(
            text, say("Sent after this month's deadline, so they count for next month.")
        )
    return text


def reading_howto(say: Say, **v: Any) -> str:
    how = say(
        "To send readings, write READING and each meter's label and number, e.g. READING cw "
        "120 hw 45 (cw cold water, hw hot water, el electricity)."
    )
    reason = v.get("reason") or ""
    if not reason:
        return how
    labels = v.get("labels") or []
    if isinstance(labels, list):  # one list of labels per meter: "хв гв" in Russian
        labels = " ".join(_short_label({"labels": each}, say.language) for each in labels)
    explained = say(reason, label=v.get("label", ""), labels=labels)
    return say.join(explained, how)


def linked(say: Say, *, account: str, **_: Any) -> str:
    return say("Account {account} is linked. Now just write BALANCE or READING.", account=account)


def identify(say: Say, **_: Any) -> str:
    return say(
        "First prove the account: write ACCOUNT, its number and the PIN from your bill, "
        "e.g. ACCOUNT 7800002 1234."
    )


def choose_account(say: Say, *, accounts: list[str], **_: Any) -> str:
    return say(
        "You have several accounts: {accounts}. Add the number, e.g. BALANCE {first}.",
        accounts=", ".join(accounts),
        first=accounts[0],
    )


def pin_wrong(say: Say, *, account: str, attempts_left: int, **_: Any) -> str:
    # An unknown account, and one with no PIN yet, get the very same words as a wrong PIN:
    # which account numbers exist is nobody's to learn by guessing (each miss costs a try).
    return say.join(
        say(
            "Account {account} and this PIN do not match. Check both on your bill; without a "
            "PIN, ask the settlement centre for one.",
            account=account,
        ),
        say.plural("{count} try left.", "{count} tries left.", int(attempts_left)),
    )


def pin_locked(say: Say, *, minutes: int, **_: Any) -> str:
    return say.plural(
        "Too many wrong tries. Try again in {count} minute.",
        "Too many wrong tries. Try again in {count} minutes.",
        int(minutes),
    )


TEMPLATES = {
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
    "billing_pin_unknown_account": pin_wrong,
    "billing_pin_no_pin": pin_wrong,
    "billing_pin_locked": pin_locked,
}
