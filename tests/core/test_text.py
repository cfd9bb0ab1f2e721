"""Small pure pieces people depend on: numbers, phones, languages, masking, catalogs."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from channels.templates import NOTICES, render
from core.i18n import LANGUAGES, detect_language
from core.logs import mask_phones
from core.residents.service import InvalidAddress, normalise_phone
from core.tickets.numbers import format_public_number, parse_public_number
from core.tickets.wording import status_word

LOCALE = Path(__file__).parents[2] / "core" / "locale"


def test_public_numbers_carry_a_check_digit_that_catches_typos() -> None:
    number = format_public_number(4217)
    assert number == "0042176" and parse_public_number(number) == 4217
    assert parse_public_number("004-2176") == 4217 and parse_public_number("００４２１７６") == 4217
    assert parse_public_number("0042177") is None  # one digit wrong
    assert parse_public_number("0041276") is None  # two digits swapped
    assert parse_public_number("42") is None and parse_public_number("abc") is None


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+7 (900) 555-01-01", "+79005550101"),
        ("8 900 555 01 01", "+79005550101"),
        ("9005550101", "+79005550101"),
        ("+86 138 0013 8000", "+8613800138000"),
    ],
)
def test_phones_normalise_to_e164(raw: str, e164: str) -> None:
    assert normalise_phone(raw, "RU") == e164


@pytest.mark.parametrize("raw", ["", "hello", "12", "+7 900"])
def test_impossible_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_phone(raw, "RU")


def test_language_is_read_from_the_script() -> None:
    assert detect_language("Нет воды") == "ru"
    assert detect_language("没有水 no water") == "zh"
    assert detect_language("no water") is None


def test_logs_never_show_whole_phone_numbers() -> None:
    line = mask_phones("sms from +79005550101 and 8 (900) 555-01-02 at 127.0.0.1:5432 id 1795288")
    assert "9005550101" not in line and "555-01-02" not in line
    assert "127.0.0.1:5432" in line and "1795288" in line


def _translated(message: object) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)  # type: ignore[attr-defined]
    return all(strings)


def test_catalogs_translate_every_message_into_russian_and_chinese() -> None:
    template = read_po((LOCALE / "messages.pot").open("rb"))
    ids = {m.id for m in template if m.id}
    for language, forms in (("ru", 3), ("zh", 1)):
        catalog = read_po((LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb"))
        missing = {m.id for m in catalog if m.id and not _translated(m)} | (
            ids - {m.id for m in catalog if m.id}
        )
        assert not missing, f"{language} lacks {sorted(map(str, missing))[:5]}"
        # A plural message has every form the language has (Russian 3, Chinese 1).
        for message in catalog:
            if message.id and isinstance(message.id, tuple):
                assert len(message.string) == forms, (language, message.id)
                assert catalog.num_plurals == forms


@pytest.mark.parametrize("channel", ["sms", "telegram", "voice", "web", "kiosk"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_notice_renders_on_every_channel_in_every_language(
    channel: str, language: str
) -> None:
    for notice in NOTICES:
        text = render(channel, notice, language, **NOTICE_VALUES[notice])
        assert text.strip(), notice
        assert not re.search(r"\{[a-z_]*\}", text), (notice, text)
        # Coded values (basis, units, reasons) are translated, never shown as codes.
        assert not any(
            code in text for code in ("basis:", "unit:", "reading:", "why:", "_status:", "appeal:")
        ), (notice, text)
        if language != "en":
            assert text != render(channel, notice, "en", **NOTICE_VALUES[notice]), notice


VOTE_VALUES = {
    "title": "Lifts",
    "choices": "1: 1 Agree",
    "closes": "2026-12-20T17:00:00+00:00",
    "closed": "2026-12-20T17:00:00+00:00",
    "opens": "2026-12-06T06:00:00+00:00",
    "voters": 2,
    "missing": "2",
    "how": "Reply 1, 2 or 3.",
    "details": "Replace the lifts?",
    "ballots": "#3 Lifts; #4 Roof",
    "example": 3,
}
COMPLAINT_VALUES = {
    "company": "Uyut",
    "respond_by": "2026-11-27",
    "answer": "The lift was repaired on Monday.",
    "finding": "The stairwell is clean.",
    "estate": "Riverside Gardens",
    "order": "12",
    "points": "2.00",
    "rule": "Upheld complaint",
    "appeal_by": "2026-12-01",
    "decision": "refused",
}
WATER = {"en": "Cold water", "ru": "Холодная вода", "zh": "冷水"}
VODOKANAL = {"en": "Water company", "ru": "Водоканал", "zh": "自来水公司"}
BILLING_VALUES = {
    "account": "7700001",
    "currency": "RUB",
    "period": "2026-10",
    "previous": "2026-09",
    "due": "1234.50",
    "credit": "0",
    "total": "1234.50",
    "lines": [
        {
            "supplier": VODOKANAL,
            "service": WATER,
            "owed": "1234.50",
            "basis": "average",
            "quantity": "4.5",
            "unit": "m3",
            "tariff": "42.30",
            "amount": "190.35",
            "recalculated": "-18.00",
        }
    ],
    "payments": [{"paid_on": "2026-10-05", "amount": "500.00"}],
    "changes": [
        {
            "service": WATER,
            "before": "100.00",
            "after": "190.35",
            "reasons": ["why:tariff", "why:basis:average"],
            "basis": "average",
        }
    ],
    "readings": [
        {
            "service": WATER,
            "serial": "CW-1",
            "labels": ["cw", "хв", "冷水"],
            "value": "123.4",
            "period": "2026-10",
            "status": "review",
        }
    ],
    "results": [
        {
            "service": WATER,
            "labels": ["cw", "хв", "冷水"],
            "value": "120",
            "status": "rejected",
            "reason": "reading:lower_than_previous",
            "volume": "",
        }
    ],
    "late": True,
    "reason": "reading:which_meter",
    "label": "x",
    "labels": "cw hw",
    "accounts": ["7700001", "7700002"],
    "attempts_left": 3,
    "minutes": 60,
}


TICKET_VALUES = {"number": "0042172", "status": "resolved", "category": "Roads"}
# Representative values for every notice, by the module that words it: each notice names
# the values it takes, so a value one notice lacks cannot hide behind another's.
NOTICE_VALUES: dict[str, dict[str, object]] = {
    **dict.fromkeys(NOTICES, {}),
    **{
        n: TICKET_VALUES
        for n in ("ticket_created", "ticket_continued", "ticket_joined", "ticket_status")
    },
    "status_unknown": {"number": "0042172"},
    "ticket_list": {
        "count": 2,
        "items": [
            {"number": "0042172", "status": "new"},
            {"number": "0042180", "status": "in_progress"},
        ],
    },
    "command_usage": {"command": "subscribe"},
    "subscribed": {"topic": "outages"},
    "unsubscribed": {"topic": "votes"},
    "otp_code": {"code": "123456"},
    **{n: BILLING_VALUES for n in NOTICES if n.startswith("billing_")},
    "case_closed": {"number": "0042172", "outcome": "Cleaned up."},
    "case_cancelled": {"number": "0042172", "why_cancelled": "Not a city matter."},
    "case_merged": {"number": "0042172", "into": "0042180"},
    **{n: {"number": "0042172", **COMPLAINT_VALUES} for n in NOTICES if "complaint" in n},
    "order_for_company": {"number": "0042172", **COMPLAINT_VALUES, "due": "2026-12-20"},
    "complaint_upheld": {"number": "0042172", **COMPLAINT_VALUES, "due": "2026-12-20"},
    **{n: COMPLAINT_VALUES for n in ("score_pre_deduction", "score_appeal_decided")},
    **{n: {"number": 3, **VOTE_VALUES} for n in NOTICES if n.startswith("vote_")},
}


def test_every_notice_has_representative_values() -> None:
    assert all(NOTICE_VALUES[notice] or notice in NO_VALUES for notice in NOTICES)


NO_VALUES = {"help", "opted_out", "opted_in", "choice_again", "choice_stale"}


def test_status_words_are_translated_not_shown_as_codes() -> None:
    assert status_word("ru", "resolved") == "выполнено"  # обращение is neuter
    assert "status:" not in render("sms", "ticket_status", "zh", number="1", status="closed")


def test_tracebacks_in_logs_are_masked_too() -> None:
    import logging

    from core.logs import PersonalDataFilter

    try:
        raise ValueError("no contact for +79005550101")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "hub", logging.ERROR, __file__, 1, "failed for %s", ("+79005550102",), sys.exc_info()
        )
    assert PersonalDataFilter().filter(record)
    assert "9005550102" not in record.getMessage() and "9005550101" not in (record.exc_text or "")
    assert "ValueError" in (record.exc_text or "")
