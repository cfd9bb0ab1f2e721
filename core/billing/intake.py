"""The billing back office on intake: balance and reading commands from any channel.

A command ("баланс", "показания хв 123") is answered at once, from the figures, once the
sender has proven the account. Anything else routed here (a free-text question about a
bill) becomes a ticket for the settlement centre's staff.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Choice, Expect
from core.backoffice import Answer, Claim, Outcome, RoutedRequest, notice
from core.billing import identity, inquiries
from core.billing.calc import plain
from core.billing.commands import BillingCommand, Command, parse
from core.billing.models import BillingService
from core.billing.readings import (
    ReadingRejected,
    account_meters,
    match_meters,
    reading_period,
    submit_reading,
)
from core.intake.records import redact_digits
from core.intake.triage import open_ticket
from core.routing.enums import BackOffice
from core.territory.models import Account
from core.tickets.enums import TicketKind

_READING_COMMANDS = (Command.READINGS, Command.SUBMIT)


def read_billing_command(text: str) -> Claim | None:
    """Claims texts that are billing commands for the billing back office."""
    parsed = parse(text)
    if parsed is None:
        return None
    kind = (
        TicketKind.METER_READING if parsed.command is Command.SUBMIT else TicketKind.BILLING_INQUIRY
    )
    # The parse travels with the claim: the handler does not read the text again.
    return Claim(BackOffice.BILLING, kind, payload=parsed)


def _reply(notice: str, **values: Any) -> Outcome:
    return Outcome(ticket=None, notices=[(notice, values)])


async def _reads_as_readings(db_session: AsyncSession, request: RoutedRequest, number: str) -> bool:
    """Returns whether "показания 12345 6789" is two readings rather than account and PIN.

    Decided on the sender's own accounts, never on whether account 12345 exists (that
    would tell anyone which numbers exist). A holder's numbers other than their own
    account are readings (a holder adds an account with ЛС); a sender with no account
    can only be proving one, so it is an account and PIN: the PIN is masked, the try is
    counted, and an unknown account is answered exactly like a wrong PIN.
    """
    accounts = await identity.accounts_for_contact(db_session=db_session, contact=request.contact)
    return bool(accounts) and all(account.number != number for account in accounts)


async def _all_meter_words(db_session: AsyncSession, words: list[str]) -> bool:
    """Returns whether every word is some service's meter label ("гв" without a value)."""
    known: set[str] = set()
    for code, aliases in (
        await db_session.execute(select(BillingService.code, BillingService.aliases))
    ).all():
        known |= {code.casefold(), *(alias.casefold() for alias in aliases or [])}
    return all(word in known for word in words)


async def handle_billing(*, db_session: AsyncSession, request: RoutedRequest) -> Outcome:
    """Answers a billing command, or opens a ticket for a question only a person can answer."""
    text = request.message.text
    claimed = request.claim.payload if request.claim is not None else None
    if isinstance(claimed, Answer):
        return await _chosen_account(db_session, request, claimed)
    parsed = claimed if isinstance(claimed, BillingCommand) else (parse(text) if text else None)
    if (
        parsed is not None
        and parsed.command in _READING_COMMANDS
        and parsed.account is not None
        and await _reads_as_readings(db_session, request, parsed.account)
    ):
        parsed = parse(text, with_account=False)
    if parsed is not None and parsed.command in _READING_COMMANDS and parsed.leftover:
        if parsed.pin is not None:
            # "показания 7700001 1234 счетчик сломался": a PIN never reaches a person's
            # queue, so no ticket is opened from it; the PIN is masked in what is kept.
            await _redact_pin(db_session, request, parsed.pin)
            return _reply("billing_reading_howto", reason="reading:not_a_number")
        if parsed.values or any(char.isdigit() for word in parsed.leftover for char in word):
            # "показания 12а", "хв 123 гв": values with words where numbers should be;
            # nothing is recorded from the message.
            return _reply("billing_reading_howto", reason="reading:not_a_number")
        if await _all_meter_words(db_session, parsed.leftover):
            return _reply("billing_reading_howto", reason="reading:not_a_number")
        parsed = None  # "счетчик сломался": a problem for a person
    if parsed is None:
        if not text and request.kind == TicketKind.METER_READING:
            return _reply("billing_reading_howto", reason="")  # the IVR or kiosk menu item
        return await open_ticket(db_session=db_session, request=request)

    account, refusal = await _identify(db_session, request, parsed)
    if account is None:
        assert refusal is not None
        return refusal
    if parsed.command is Command.LINK:
        return _reply("billing_linked", account=account.number)
    return await _answer(db_session, request, parsed, account)


async def _identify(
    db_session: AsyncSession, request: RoutedRequest, parsed: BillingCommand
) -> tuple[Account | None, Outcome | None]:
    """Returns the account the sender has proven, or the reply explaining what is missing."""
    settings = request.settings
    if parsed.account is not None and parsed.pin is not None:
        await _redact_pin(db_session, request, parsed.pin)
        check = await identity.prove_with_pin(
            db_session=db_session,
            contact=request.contact,
            account_number=parsed.account,
            pin=parsed.pin,
            secret=settings.secret_key.get_secret_value(),
            now=request.now,
            max_failures=settings.billing_pin_max_failures,
            lock_minutes=settings.billing_pin_lock_minutes,
        )
        if check.status is identity.PinStatus.OK:
            return check.account, None
        return None, _reply(
            f"billing_pin_{check.status}",
            account=parsed.account,
            attempts_left=check.attempts_left,
            minutes=check.retry_minutes,
        )
    accounts = await identity.accounts_for_contact(db_session=db_session, contact=request.contact)
    if parsed.account is not None:
        chosen = [a for a in accounts if a.number == parsed.account]
        if chosen:
            return chosen[0], None
        return None, _reply("billing_identify", account=parsed.account)
    if parsed.command is Command.LINK or not accounts:
        return None, _reply("billing_identify", account="")
    if len(accounts) > 1:
        # Each account is a choice: the resident answers with its number in the list, and
        # the command they sent is carried out for it (see _chosen_account).
        numbers = [a.number for a in accounts]
        choices = [Choice(id=f"account:{n}", labels={request.language: n}) for n in numbers]
        ask = notice(
            "billing_choose_account", choices=choices, expects=Expect.CHOICE, accounts=numbers
        )
        context = {"kind": request.kind, "text": request.message.text}
        return None, Outcome(None, [ask], purpose=BackOffice.BILLING, context=context)
    return accounts[0], None


async def _chosen_account(
    db_session: AsyncSession, request: RoutedRequest, answer: Answer
) -> Outcome:
    """Carries out the command a resident with several accounts sent, for the one picked."""
    parsed = parse(str(answer.context.get("text", "")))
    if parsed is None or not answer.choice.id.startswith("account:"):
        return _reply("billing_identify", account="")
    number = answer.choice.id.removeprefix("account:")
    # _identify checks the number is one of this sender's own accounts, as if typed.
    parsed = replace(parsed, account=number, pin=None)
    account, refusal = await _identify(db_session, request, parsed)
    if account is None:
        assert refusal is not None
        return refusal
    return await _answer(db_session, request, parsed, account)


async def _redact_pin(db_session: AsyncSession, request: RoutedRequest, pin: str) -> None:
    """Keeps the PIN out of the stored raw message (through intake's own records)."""
    await redact_digits(
        db_session=db_session,
        inbound_id=request.inbound_id,
        message=request.message,
        digits=pin,
    )


async def _answer(
    db_session: AsyncSession, request: RoutedRequest, parsed: BillingCommand, account: Account
) -> Outcome:
    if parsed.command is Command.BALANCE:
        answer = await inquiries.balance(db_session=db_session, account=account)
        return _reply("billing_balance", currency=request.settings.billing_currency, **answer)
    if parsed.command is Command.DETAILS:
        answer = await inquiries.breakdown(db_session=db_session, account=account)
        return _reply("billing_details", currency=request.settings.billing_currency, **answer)
    if parsed.command is Command.PAYMENTS:
        answer = await inquiries.last_payments(db_session=db_session, account=account)
        return _reply("billing_payments", currency=request.settings.billing_currency, **answer)
    if parsed.command is Command.WHY:
        answer = await inquiries.why_changed(db_session=db_session, account=account)
        return _reply("billing_why", currency=request.settings.billing_currency, **answer)
    if parsed.command is Command.READINGS:
        answer = await inquiries.last_readings(db_session=db_session, account=account)
        return _reply("billing_readings", **answer)
    return await _submit(db_session, request, parsed, account)


async def _submit(
    db_session: AsyncSession, request: RoutedRequest, parsed: BillingCommand, account: Account
) -> Outcome:
    settings = request.settings
    meters = await account_meters(db_session=db_session, account_id=account.id)
    try:
        matched = match_meters(meters, parsed.values)
    except ReadingRejected as exc:
        return _reply("billing_reading_howto", reason=exc.reason, **exc.values)
    today = request.now.astimezone(ZoneInfo(settings.timezone)).date()
    period = reading_period(today, settings.billing_reading_deadline_day)
    results = []
    for meter, service, value in matched:
        outcome = await submit_reading(
            db_session=db_session,
            meter=meter,
            value=value,
            period=period,
            band=settings.billing_review_band,
            channel=request.message.channel,
            inbound_id=request.inbound_id,
            now=request.now,
        )
        results.append(
            {
                "service": service.names,
                "labels": service.aliases or [service.code],
                "value": plain(value),
                "status": str(outcome.status),
                "reason": outcome.reason or "",
                "volume": plain(outcome.volume) if outcome.volume is not None else "",
                # A refused reading's reply quotes the last counted one.
                "previous": plain(outcome.previous) if outcome.previous is not None else "",
            }
        )
    return _reply(
        "billing_reading_result",
        account=account.number,
        period=period.strftime("%Y-%m"),
        late=period.month != today.month,
        results=results,
    )
