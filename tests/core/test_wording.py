"""Wording native readers can rely on (issue 17): plurals, numbers, money and dates as each
language writes them, Chinese punctuation, one SMS part for the common replies, and command
words that the hub understands when a resident sends them back."""

import re

import pytest

from channels.segments import count_segments
from channels.templates import NOTICES, render
from core.billing.commands import Command, parse
from core.complaints.enums import Verdict
from core.complaints.flow import read_verdict
from core.i18n import format_day, format_moment, format_money, format_month, format_number
from core.intake.intents import IntentName, read_command
from core.votes.enums import OptionKind
from core.votes.replies import Choices, Question, read_reply
from tests.core.test_text import NOTICE_VALUES


def _open_requests(language: str, count: int) -> str:
    items = [{"number": f"00{i:05d}", "status": "new"} for i in range(count)]
    return render("web", "ticket_list", language, count=count, items=items).splitlines()[0]


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (1, "1 открытое обращение"),
        (2, "2 открытых обращения"),
        (5, "5 открытых обращений"),
        (11, "11 открытых обращений"),
        (21, "21 открытое обращение"),
        (22, "22 открытых обращения"),
        (25, "25 открытых обращений"),
    ],
)
def test_russian_counts_take_the_form_the_number_asks_for(count: int, words: str) -> None:
    assert _open_requests("ru", count) == f"У вас {words}:"


def test_english_has_two_forms_and_chinese_one() -> None:
    assert _open_requests("en", 1) == "You have 1 open request:"
    assert _open_requests("en", 2) == "You have 2 open requests:"
    assert _open_requests("zh", 1) == "您有1件未办结的诉求："
    assert _open_requests("zh", 25) == "您有25件未办结的诉求："


def test_other_counts_are_plural_aware_too() -> None:
    one = render("sms", "billing_pin_locked", "ru", minutes=1)
    assert one.endswith("через 1 минуту.")
    assert render("sms", "billing_pin_locked", "ru", minutes=22).endswith("через 22 минуты.")
    assert render("sms", "billing_pin_wrong", "ru", account="1", attempts_left=1).endswith(
        "Осталась 1 попытка."
    )
    assert render("sms", "billing_pin_wrong", "en", account="1", attempts_left=1).endswith(
        "1 try left."
    )
    pre = render("sms", "score_pre_deduction", "ru", points="2.50", rule="x", appeal_by="")
    assert "2,5 балла" in pre


def test_numbers_money_and_dates_are_written_as_each_language_writes_them() -> None:
    assert format_money("ru", "36671.14", "RUB") == "36\xa0671,14\xa0₽"
    # A Chinese bill names the unit after the amount; rubles are 卢布, yuan 元.
    assert format_money("zh", "18486.31", "RUB") == "18,486.31卢布"
    assert format_money("zh", "18486.31", "CNY") == "18,486.31元"
    assert format_money("en", "36671.14", "RUB") == "RUB 36,671.14"
    assert format_number("ru", "108.7") == "108,7"
    assert format_month("ru", "2026-11") == "ноябрь 2026"
    assert format_month("zh", "2026-11") == "2026年11月"
    assert format_month("en", "2026-11") == "November 2026"
    assert format_day("ru", "2026-12-11") == "11 декабря 2026"
    assert format_day("zh", "2026-12-11") == "2026年12月11日"
    # A time names the city's clock: Moscow is UTC+3.
    moment = "2026-12-18T06:00:00+00:00"
    assert format_moment("ru", moment, "Europe/Moscow") == "18 декабря 2026, 09:00 (Москва)"
    assert format_moment("zh", moment, "Europe/Moscow") == "2026年12月18日 09:00（莫斯科时间）"
    assert format_moment("en", moment, "Europe/Moscow") == "18 December 2026, 09:00 (Moscow time)"


def test_billing_replies_use_months_and_local_money() -> None:
    values = NOTICE_VALUES["billing_details"]
    text = render("sms", "billing_details", "ru", **values)
    assert "октябрь 2026" in text and "1\xa0234,50\xa0₽" in text and "2026-10" not in text
    assert "RUB" not in render("sms", "billing_balance", "zh", **values)


@pytest.mark.parametrize("channel", ["sms", "voice", "web"])
@pytest.mark.parametrize("language", ["en", "ru", "zh"])
def test_no_breakdown_ends_with_a_separator(channel: str, language: str) -> None:
    for notice in ("billing_details", "billing_balance", "billing_readings", "billing_why"):
        text = render(channel, notice, language, **NOTICE_VALUES[notice])
        assert not text.rstrip().endswith((";", "；", ",")), (notice, text)


# ASCII ; : . beside a Chinese character: a Chinese sentence takes full-width marks.
_ASCII_IN_CHINESE = re.compile(r"[\u3400-\u9fff][;:.,]|[;:.,][\u3400-\u9fff]")


@pytest.mark.parametrize("channel", ["sms", "voice", "web"])
def test_chinese_sentences_use_full_width_punctuation(channel: str) -> None:
    for notice in NOTICES:
        values = NOTICE_VALUES[notice]
        text = render(channel, notice, "zh", **values)
        # Someone else's free text (a company's answer) is quoted as written.
        for quoted in ("answer", "finding", "outcome", "why_cancelled", "details", "how"):
            text = text.replace(str(values.get(quoted, "")) or "\0", "")
        assert not _ASCII_IN_CHINESE.search(text), (notice, text)


COMMON_SMS = {
    "help": {},
    "ticket_created": {"number": "0000018"},
    "ticket_status": {"number": "0000018", "status": "in_progress"},
    "status_unknown": {"number": "0000018"},
    "billing_balance": NOTICE_VALUES["billing_balance"],
    "complaint_answered": {"number": "0000018", "company": "Uyut", "answer": "Fixed."},
    "complaint_verdict_help": {"number": "0000018"},
    "opted_out": {},
}


# A company's short answer, as it would write it in each language.
ANSWERS = {
    "ru": {"company": "УК Уют", "answer": "Лифт починили."},
    "zh": {"company": "安居物业", "answer": "电梯已修好。"},
}


@pytest.mark.parametrize("language", ["en", "ru", "zh"])
@pytest.mark.parametrize("notice", sorted(COMMON_SMS))
def test_common_sms_replies_fit_one_part(language: str, notice: str) -> None:
    values = {**COMMON_SMS[notice], **ANSWERS.get(language, {})} if "answer" in notice else {}
    text = render("sms", notice, language, **(values or COMMON_SMS[notice]))
    assert count_segments(text).parts == 1, (count_segments(text), text)


def test_segment_counting_sees_the_rendered_text() -> None:
    # The Russian money sign and no-break spaces are counted as what is sent: UCS-2.
    text = render("sms", "billing_balance", "ru", **NOTICE_VALUES["billing_balance"])
    assert count_segments(text).encoding == "UCS-2"
    assert count_segments(render("sms", "help", "en")).encoding == "GSM-7"


# What each HELP tells a resident to send, and what the hub must then understand.
ADVERTISED = {
    "en": ["STATUS 0000018", "BALANCE", "READING cw 120", "SUBSCRIBE", "STOP"],
    "ru": ["СТАТУС", "БАЛАНС", "ПОКАЗАНИЯ", "ПОДПИСКА", "СТОП"],
    "zh": ["状态", "余额", "读数 冷水120", "订阅", "退订"],
}


@pytest.mark.parametrize("language", ["en", "ru", "zh"])
def test_every_command_help_advertises_is_understood(language: str) -> None:
    help_text = render("sms", "help", language)
    for command in ADVERTISED[language]:
        assert command.split()[0] in help_text, (command, help_text)
        assert read_command(command) is not None or parse(command) is not None, command
    full = render("web", "help", language)
    for word in {"en": "BALANCE", "ru": "БАЛАНС", "zh": "余额"}[language]:
        assert word in full


@pytest.mark.parametrize("channel", ["sms", "web"])
def test_russian_and_chinese_replies_never_name_english_commands(channel: str) -> None:
    english = re.compile(r"\b(STATUS|BALANCE|READING|SUBSCRIBE|UNSUBSCRIBE|STOP|START|ACCOUNT)\b")
    for language in ("ru", "zh"):
        for notice in NOTICES:
            text = render(channel, notice, language, **NOTICE_VALUES[notice])
            assert not english.search(text), (language, notice, text)


def test_replies_speak_of_the_residents_building_not_mine() -> None:
    for language, mine in (("en", "my building"), ("ru", "моём доме"), ("zh", "我家")):
        text = render("sms", "subscribed", language, topic="outages")
        assert mine not in text


def test_the_chinese_account_prompt_shows_an_example() -> None:
    assert "账户 7800002 1234" in render("sms", "billing_identify", "zh")
    assert parse("账户 7800002 1234") is not None


@pytest.mark.parametrize(
    ("text", "name", "argument"),
    [
        ("status", IntentName.STATUS, None),
        ("Статус", IntentName.STATUS, None),
        ("状态", IntentName.STATUS, None),
        ("状态 0042176", IntentName.STATUS, "0042176"),
        ("subscribe", IntentName.USAGE, "subscribe"),
        ("подписаться", IntentName.USAGE, "subscribe"),
        ("订阅", IntentName.USAGE, "subscribe"),
        ("开始", IntentName.OPT_IN, None),
    ],
)
def test_bare_commands_are_commands(text: str, name: IntentName, argument: str | None) -> None:
    intent = read_command(text)
    assert intent is not None and intent.name is name and intent.argument == argument


def test_a_sentence_starting_with_a_command_word_is_not_a_command() -> None:
    assert read_command("подписка на газету не пришла вовремя") is None
    intent = read_command("подписаться на отключения")
    assert intent is not None and intent.name is IntentName.SUBSCRIBE


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("балланс", Command.BALANCE),
        ("balnce", Command.BALANCE),
        ("how much do i owe", Command.BALANCE),
        ("How much do I owe?", Command.BALANCE),
        ("сколько я должен", Command.BALANCE),
        ("我欠多少钱", Command.BALANCE),
        ("почему так дорого?", Command.WHY),
        ("为什么这么贵？", Command.WHY),
    ],
)
def test_billing_questions_in_words_and_typos_are_billing_commands(
    text: str, command: Command
) -> None:
    parsed = parse(text)
    assert parsed is not None and parsed.command is command


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("reading cold water 120", "cold_water"),
        ("показания холодная вода 120", "cold_water"),
        ("показания горячей воды 45", "hot_water"),
        ("抄表 冷水表120", "cold_water"),
        ("reading electricity 3000", "electricity"),
    ],
)
def test_meter_names_in_words_are_read(text: str, label: str) -> None:
    parsed = parse(text)
    assert parsed is not None and parsed.command is Command.SUBMIT
    assert [value.label for value in parsed.values] == [label]


def test_questions_for_a_person_stay_free_text() -> None:
    assert parse("почему нет горячей воды") is None
    assert parse("почему так дорого вывоз мусора стал") is None
    assert parse("hot water is off") is None


def test_chinese_agree_and_disagree_answer_yes_no_questions() -> None:
    question = Question(1, {"1": OptionKind.FOR, "2": OptionKind.AGAINST})
    assert read_reply("同意", [question]) == Choices({1: "1"})
    assert read_reply("不同意", [question]) == Choices({1: "2"})
    assert read_verdict("同意") == (Verdict.CONFIRMED, "")
    verdict = read_verdict("不同意，电梯还是坏的")
    assert verdict is not None and verdict[0] is Verdict.DISPUTED
