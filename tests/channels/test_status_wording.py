"""Status words agree with the noun they describe, in every language (issue 16)."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from channels.templates import render
from core.tickets.enums import TicketStatus
from core.tickets.wording import REQUEST_STATUS

LOCALE = Path(__file__).parents[2] / "core" / "locale"

# Russian "обращение" is neuter: its status words must be neuter too ("новое", not "новая").
RUSSIAN = {
    TicketStatus.NEW: "новое",
    TicketStatus.ASSIGNED: "передано исполнителю",
    TicketStatus.IN_PROGRESS: "в работе",
    TicketStatus.ON_HOLD: "ждёт вашего ответа",
    TicketStatus.RESOLVED: "выполнено",
    TicketStatus.CLOSED: "закрыто",
    TicketStatus.REJECTED: "отклонено",
    TicketStatus.REOPENED: "открыто повторно",
}
ENGLISH = {
    TicketStatus.NEW: "new",
    TicketStatus.ASSIGNED: "assigned",
    TicketStatus.IN_PROGRESS: "in progress",
    TicketStatus.ON_HOLD: "waiting for your answer",
    TicketStatus.RESOLVED: "resolved",
    TicketStatus.CLOSED: "closed",
    TicketStatus.REJECTED: "rejected",
    TicketStatus.REOPENED: "reopened",
}
CHINESE = {
    TicketStatus.NEW: "新建",
    TicketStatus.ASSIGNED: "已分派",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.ON_HOLD: "等待您的答复",
    TicketStatus.RESOLVED: "已解决",
    TicketStatus.CLOSED: "已办结",
    TicketStatus.REJECTED: "已退回",
    TicketStatus.REOPENED: "已重新打开",
}


def _says_then_next(text: str, sentence: str) -> bool:
    """The status sentence comes first, then what happens next (issue 17: a reply says what
    to do next, never just "Request 0000018: new.")."""
    return text.startswith(sentence) and len(text.removeprefix(sentence).strip()) > 10


@pytest.mark.parametrize("status", list(TicketStatus))
def test_a_russian_status_agrees_with_obrashchenie(status: TicketStatus) -> None:
    assert _says_then_next(
        render("sms", "ticket_status", "ru", number="7", status=status),
        f"Обращение 7: {RUSSIAN[status]}.",
    )
    assert _says_then_next(
        render("web", "ticket_status", "ru", number="7", status=status),
        f"Статус обращения 7: {RUSSIAN[status]}.",
    )


@pytest.mark.parametrize("status", list(TicketStatus))
def test_an_english_status_reads_as_words(status: TicketStatus) -> None:
    assert _says_then_next(
        render("sms", "ticket_status", "en", number="7", status=status),
        f"Request 7: {ENGLISH[status]}.",
    )
    assert _says_then_next(
        render("telegram", "ticket_status", "en", number="7", status=status),
        f"Request 7 is now: {ENGLISH[status]}.",
    )


@pytest.mark.parametrize("status", list(TicketStatus))
def test_a_chinese_status_reads_as_words(status: TicketStatus) -> None:
    assert _says_then_next(
        render("sms", "ticket_status", "zh", number="7", status=status),
        f"诉求7：{CHINESE[status]}。",
    )


@pytest.mark.parametrize("language", ["en", "ru", "zh"])
def test_each_catalog_words_statuses_for_the_request_noun(language: str) -> None:
    # A context per noun lets each language agree with it; a bare "status:new" cannot.
    catalog = read_po(
        (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb"), locale=language
    )
    words = {m.id: m.string for m in catalog if m.context == REQUEST_STATUS}
    assert sorted(words) == sorted(ENGLISH.values())
    if language != "en":
        assert all(words.values())
