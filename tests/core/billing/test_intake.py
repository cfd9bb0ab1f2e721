"""Balance and reading commands through intake, on every channel, only for proven senders."""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from channels.contract import Channel
from core.billing.enums import ReadingStatus
from core.billing.models import Meter, MeterReading, PinFailure
from core.billing.payments import record_payment
from core.billing.readings import reading_period, submit_reading
from core.billing.service import run_charges
from core.db import transaction, utcnow
from core.intake.models import InboundRecord
from core.intake.service import receive
from core.residents.models import AccountContact, Contact
from core.runtime import Hub
from core.territory.models import Account
from core.tickets.models import Ticket
from tests.core.billing.factories import PIN, read, setup_billing
from tests.factories import inbound

HOLDER = "+79001000001"  # demo resident holding account 7700001
STRANGER = "+79005550199"


async def ask(hub: Hub, text: str, sender: str = HOLDER, **fields: object) -> str:
    result = await receive(hub=hub, message=inbound(text, sender=sender, **fields))
    assert len(result.replies) == 1
    return result.replies[0].text


async def count(hub: Hub, model: type) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def readings(hub: Hub) -> list[tuple[D, str, str | None]]:
    async with hub.session_factory() as session:
        rows = await session.execute(
            select(MeterReading.value, MeterReading.status, MeterReading.reason).order_by(
                MeterReading.id
            )
        )
        return [(value, status, reason) for value, status, reason in rows]


async def bill_two_months(hub: Hub, meter_id: int) -> None:
    """Charges January (first reading 100) and February (104.25: 4.25 m³)."""
    for month, value in ((1, "100"), (2, "104.25")):
        await read(hub, meter_id, month, value)
        async with transaction(hub.session_factory) as session:
            await run_charges(db_session=session, period=date(2026, month, 1))


async def test_the_holder_asks_for_the_balance_in_russian_and_gets_the_total(hub: Hub) -> None:
    ids = await setup_billing(hub)
    await bill_two_months(hub, ids["meter"])
    # Jan: water 200.71 + upkeep 45.40 × 25.50 = 1157.70; Feb: 179.78 + 1157.70.
    async with transaction(hub.session_factory) as session:
        await record_payment(
            db_session=session,
            account_number="7700001",
            paid_on=date(2026, 2, 10),
            amount=D("1000"),
            source="manual",
        )
    text = await ask(hub, "Баланс")
    # 200.71 + 1157.70 + 179.78 + 1157.70 − 1000 = 1695.89
    assert text == "ЛС 7700001: к оплате 1\xa0695,89\xa0₽."
    details = await ask(hub, "余额", channel=Channel.TELEGRAM, sender="1001")
    assert "账户" in details  # a Telegram user not linked to any account is asked to prove it
    assert "PIN" in details


async def test_a_stranger_must_prove_the_account_with_its_pin(hub: Hub) -> None:
    await setup_billing(hub)
    assert "ACCOUNT" in await ask(hub, "balance", sender=STRANGER)
    assert "is linked" in await ask(hub, f"account 7700001 {PIN}", sender=STRANGER)
    async with hub.session_factory() as session:  # the PIN is not kept in the raw record
        kept = (await session.scalars(select(InboundRecord.text))).all()
        assert "account 7700001 ****" in kept and not any(PIN in text for text in kept)
    # Linked now: the next question needs no PIN.
    assert (await ask(hub, "balance", sender=STRANGER)).startswith("Account 7700001:")
    assert await count(hub, AccountContact) == 1
    # Asking for someone else's account without its PIN gets nothing.
    assert "ACCOUNT" in await ask(hub, "balance 7700002", sender=STRANGER)


async def test_wrong_pins_lock_the_sender_and_the_account(hub: Hub) -> None:
    await setup_billing(hub)
    replies = [
        await ask(hub, f"баланс 7700001 {pin}", sender=STRANGER) for pin in range(1000, 1005)
    ]
    assert "Осталось 4 попытки." in replies[0] and "Осталась 1 попытка." in replies[3]
    assert "Повторите через 60 мин" in replies[4]
    # Locked: even the right PIN is refused now, and nothing was linked.
    assert "Повторите" in await ask(hub, f"баланс 7700001 {PIN}", sender=STRANGER)
    assert await count(hub, AccountContact) == 0
    # Another phone guessing the same account is stopped too: the account counts failures.
    assert "Повторите" in await ask(hub, f"баланс 7700001 {PIN}", sender="+79005550198")
    assert await count(hub, PinFailure) == 5


async def test_unknown_accounts_get_a_reason_and_count_as_tries(hub: Hub) -> None:
    await setup_billing(hub)
    text = await ask(hub, "余额 9999999 1234", sender=STRANGER)
    # The same words as a wrong PIN: an unknown number says nothing of which numbers exist.
    assert text == (
        "账户9999999与该PIN码不匹配。请核对账单上的账户和PIN码；如尚无PIN码，请向结算中心申请。"
        "剩余4次机会。"
    )


async def test_readings_are_checked_and_refused_with_a_reason(hub: Hub) -> None:
    ids = await setup_billing(hub)
    await bill_two_months(hub, ids["meter"])
    period = reading_period(utcnow().date(), hub.settings.billing_reading_deadline_day)
    assert "принято" in await ask(hub, "показания 108,5")
    assert "меньше предыдущего показания" in await ask(hub, "Показания ХВ 90")
    assert "не может быть отрицательным" in await ask(hub, "показания -5")
    assert "Не удалось прочитать число" in await ask(hub, "показания 12а")
    assert "Не удалось прочитать число" in await ask(hub, "показания хв 123 гв")  # гв: no value
    # Latin letters say nothing of the language: the sender's Russian is kept.
    assert "Нет счётчика «hw». Ваши счётчики: хв." in await ask(hub, "reading hw 5")
    # 4.25 m³ is the usual month; ~900 m³ since February (over 3 × 4.25 × the months since)
    # is held for review, not silently taken.
    held = await ask(hub, "读数 冷水 1000")
    assert "已接受，待审核" in held and "远高于平常用量" in held
    assert await readings(hub) == [
        (D("100"), "accepted", None),
        (D("104.25"), "accepted", None),
        (D("108.5"), "accepted", None),
        (D("90"), "rejected", "reading:lower_than_previous"),
        (D("-5"), "rejected", "reading:negative"),
        (D("1000"), "review", "reading:far_above_usual"),
    ]
    async with hub.session_factory() as session:
        periods = set(await session.scalars(select(MeterReading.period).where(MeterReading.id > 2)))
    assert periods == {period}


async def test_a_retried_reading_is_recorded_once(hub: Hub) -> None:
    await setup_billing(hub)
    message = inbound("показания 100", sender=HOLDER, provider_id="SM-reading-1")
    first = await receive(hub=hub, message=message)
    again = await receive(hub=hub, message=message)
    assert again.duplicate and again.replies[0].text == first.replies[0].text
    assert len(await readings(hub)) == 1


async def test_two_bare_numbers_are_readings_when_no_such_account_exists(hub: Hub) -> None:
    await setup_billing(hub)
    # "12345 6789" could be an account and a PIN; there is no account 12345, and the
    # holder has one meter, so the reply explains the second value is for the same meter.
    text = await ask(hub, "reading 12345 6789")
    assert "same meter appears twice" in text
    assert await count(hub, PinFailure) == 0


async def test_a_free_text_question_about_a_bill_becomes_a_ticket(hub: Hub) -> None:
    await setup_billing(hub)
    result = await receive(
        hub=hub,
        message=inbound("Почему такой большой счёт за воду в этом месяце?", sender=HOLDER),
    )
    assert result.ticket_id is not None
    async with hub.session_factory() as session:
        ticket = await session.get(Ticket, result.ticket_id)
        assert ticket is not None and ticket.back_office == "billing"


async def test_why_names_what_changed(hub: Hub) -> None:
    ids = await setup_billing(hub)
    await bill_two_months(hub, ids["meter"])
    text = await ask(hub, "why", channel=Channel.WEB, sender=HOLDER.replace("+", ""))
    assert "ACCOUNT" in text  # a web sender is another contact: it must prove the account
    text = await ask(hub, "why")
    # January was the meter's first reading (charged by the norm); February by the meter.
    assert text == (
        "Changes from January 2026 to February 2026: Cold water: RUB 200.71 → RUB 179.78 "
        "(charged by meter)."
    )


@pytest.mark.parametrize("deadline", [1])
async def test_readings_after_the_deadline_day_count_for_next_month(deadline: int) -> None:
    assert reading_period(date(2026, 11, 25), 25) == date(2026, 11, 1)
    assert reading_period(date(2026, 11, 26), 25) == date(2026, 12, 1)
    assert reading_period(date(2026, 12, 31), 25) == date(2027, 1, 1)
    assert reading_period(date(2026, 12, 1), deadline) == date(2026, 12, 1)


async def test_words_about_a_problem_are_not_taken_for_commands(hub: Hub) -> None:
    await setup_billing(hub)
    for text in ("счетчик сломался", "почему нет воды", "оплата не прошла", "meter broken"):
        result = await receive(hub=hub, message=inbound(text, sender=HOLDER))
        assert result.ticket_id is not None, text
    # Punctuation and a polite word do not turn a command into a question.
    assert (await ask(hub, "Баланс, пожалуйста?")).startswith("ЛС 7700001")
    assert await count(hub, MeterReading) == 0


async def test_the_pin_is_masked_everywhere_it_was_kept(hub: Hub) -> None:
    await setup_billing(hub)
    # As the SMS adapter hands it over: the provider's form, full-width digits and all.
    text = "баланс 7700001 １２３４"
    message = inbound(text, sender=STRANGER, raw={"Body": text, "From": STRANGER})
    result = await receive(hub=hub, message=message)
    assert result.replies[0].text.startswith("ЛС 7700001")
    async with hub.session_factory() as session:
        record = await session.get(InboundRecord, result.inbound_id)
        assert record is not None
        assert record.text == "баланс 7700001 ****"
        assert record.payload["raw"]["Body"] == "баланс 7700001 ****"
        assert "１２３４" not in str(record.payload) and PIN not in str(record.payload)


async def test_an_account_without_a_pin_costs_a_try_to_probe(hub: Hub) -> None:
    await setup_billing(hub)
    text = await ask(hub, "баланс 7700002 1111", sender=STRANGER)
    # Worded as any miss (it would tell that 7700002 exists), with the way to get a PIN.
    assert text.startswith("ЛС 7700002 и этот PIN-код не совпадают")
    assert "если PIN-кода нет, получите его в расчётном центре" in text
    assert await count(hub, PinFailure) == 1


async def test_a_reading_after_missed_months_is_compared_with_as_many_months(hub: Hub) -> None:
    ids = await setup_billing(hub)
    await bill_two_months(hub, ids["meter"])  # the usual month: 4.25 m³
    async with transaction(hub.session_factory) as session:
        meter = await session.get(Meter, ids["meter"])
        assert meter is not None
        # Four months after February, 16 m³ is about 4 a month: not suspicious.
        outcome = await submit_reading(
            db_session=session,
            meter=meter,
            value=D("120.25"),
            period=date(2026, 6, 1),
            band=D(3),
            channel="sms",
            inbound_id=None,
            now=utcnow(),
        )
    assert outcome.status is ReadingStatus.ACCEPTED


async def test_a_holder_of_two_accounts_picks_one_by_its_number_in_the_list(hub: Hub) -> None:
    ids = await setup_billing(hub)
    await bill_two_months(hub, ids["meter"])
    # The holder of 7700001 is also linked (by staff) to 7700002.
    async with transaction(hub.session_factory) as session:
        contact = await session.scalar(select(Contact).where(Contact.value == HOLDER))
        second = await session.scalar(select(Account).where(Account.number == "7700002"))
        assert contact is not None and second is not None
        session.add(AccountContact(account_id=second.id, contact_id=contact.id, via="staff"))

    which = await receive(hub=hub, message=inbound("баланс", sender=HOLDER))
    structure = which.replies[0].structure
    assert structure is not None and structure.notice == "billing_choose_account"
    assert [c.id for c in structure.choices] == ["account:7700001", "account:7700002"]
    assert "1: 7700001" in which.replies[0].text  # the SMS lists them by number

    picked = await ask(hub, "1")

    # The balance of the account picked, exactly as if its number had been typed.
    assert picked == await ask(hub, "баланс 7700001")
