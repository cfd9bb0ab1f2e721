"""Reading an owner's SMS reply to a ballot, from the text alone (no database)."""

from __future__ import annotations

import pytest

from core.votes.enums import OptionKind
from core.votes.replies import (
    MAX_LENGTH,
    Choices,
    Details,
    Question,
    Unclear,
    is_word_reply,
    looks_like_vote,
    normalise,
    read_reply,
    split_prefix,
)

AGREE_DISAGREE_ABSTAIN = {"1": OptionKind.FOR, "2": OptionKind.AGAINST, "3": OptionKind.ABSTAIN}
ONE = [Question(1, AGREE_DISAGREE_ABSTAIN)]
TWO = [Question(1, AGREE_DISAGREE_ABSTAIN), Question(2, AGREE_DISAGREE_ABSTAIN)]
# Two candidate companies and "against both": "yes" names no single choice.
CANDIDATES = [
    Question(1, {"1": OptionKind.FOR, "2": OptionKind.FOR, "3": OptionKind.AGAINST}),
]


def read(text: str, questions: list[Question] = ONE) -> object:
    """Reads a reply the way intake does: folded, the ballot prefix taken off."""
    _number, rest = split_prefix(normalise(text))
    return read_reply(rest, questions)


# --- normalise ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("１", "1"),
        ("１１ ２２", "11 22"),
        ("一", "1"),
        ("二三", "23"),
        ("  2  ", "2"),
        ("Да!", "да"),
        ("Воздержусь", "воздержусь"),
        ("Ещё", "еще"),
        ("1-1, 2-2", "1-1 2-2"),
        ("同意！", "同意"),
        ("«ДА»", "да"),
    ],
)
def test_normalise_folds_digits_case_and_punctuation(text: str, folded: str) -> None:
    assert normalise(text) == folded


# --- split_prefix ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#12 1", (12, "1")),
        ("#12  11 22", (12, "11 22")),
        ("# 7 да", (7, "да")),
        ("#12", (12, "")),
        ("№12 1", (12, "1")),
        ("no. 12 2", (12, "2")),
        ("1", (None, "1")),
        ("12 1", (None, "12 1")),
        ("да", (None, "да")),
    ],
)
def test_split_prefix_takes_off_the_ballot_number(
    text: str, expected: tuple[int | None, str]
) -> None:
    assert split_prefix(text) == expected


def test_a_full_width_hash_names_the_ballot_after_folding() -> None:
    assert split_prefix(normalise("＃１２ １")) == (12, "1")


def test_the_numero_sign_names_the_ballot_after_folding() -> None:
    assert split_prefix(normalise("№12 1")) == (12, "1")


# --- looks_like_vote ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1",
        "１",
        "一",
        " 2 ",
        "Да!",
        "нет",
        "не согласен",
        "Против",
        "воздерживаюсь",
        "同意",
        "不同意",
        "弃权",
        "yes",
        "No",
        "11 22",
        "1-1, 2-2",
        "1122",
        "1 да 2 нет",
        "#12 1",
        "0",
    ],
)
def test_answers_look_like_votes(text: str) -> None:
    assert looks_like_vote(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Нет, лифт опять стоит",
        "Не работает лифт",
        "Да, спасибо",
        "ACCOUNT 7700001 1234",
        "баланс",
        "STOP",
        "#12",
        "Лифт не работает уже неделю, 1 подъезд, кв 12, очень прошу срочно прислать мастера",
        "1" * (MAX_LENGTH + 1),
    ],
)
def test_other_messages_do_not_look_like_votes(text: str) -> None:
    assert not looks_like_vote(text)


def test_a_long_message_is_not_a_vote_even_if_it_is_all_yes_words() -> None:
    text = " ".join(["да"] * 30)
    assert len(text) > MAX_LENGTH
    assert not looks_like_vote(text)


def test_word_replies_and_digit_replies_are_told_apart() -> None:
    assert is_word_reply("Да!") and is_word_reply("同意") and is_word_reply("no")
    assert not is_word_reply("1") and not is_word_reply("１") and not is_word_reply("一")
    assert not is_word_reply("1 да 2 нет")


# --- read_reply: one question ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("1", "1"),
        ("１", "1"),
        ("一", "1"),
        ("二", "2"),
        (" 2 ", "2"),
        ("3", "3"),
        ("1 1", "1"),
        ("11", "1"),
        ("12", "2"),  # question 1, choice 2
        ("1-2", "2"),
        ("13", "3"),
        ("да", "1"),
        ("Да!", "1"),
        ("ДА", "1"),
        ("за", "1"),
        ("согласна", "1"),
        ("нет", "2"),
        ("Нет.", "2"),
        ("против", "2"),
        ("не согласен", "2"),
        ("Не согласна!", "2"),
        ("воздерживаюсь", "3"),
        ("同意", "1"),
        ("不同意", "2"),
        ("弃权", "3"),
        ("yes", "1"),
        ("YES", "1"),
        ("no", "2"),
        ("abstain", "3"),
        ("1 да", "1"),
        ("да да", "1"),
    ],
)
def test_one_question_replies(text: str, choice: str) -> None:
    assert read(text) == Choices({1: choice})


@pytest.mark.parametrize(
    "text",
    [
        "1 2",  # one answer or two? asked again, never guessed
        "21",  # question 2 does not exist
        "123",
        "4",
        "14",
        "10",
        "да нет",
        "1 нет 2",
        "2 да",
        "da",
    ],
)
def test_one_question_replies_that_are_unclear(text: str) -> None:
    assert isinstance(read(text), Unclear)


def test_an_unknown_choice_says_which() -> None:
    reading = read("4")
    assert isinstance(reading, Unclear) and "4" in reading.reason


def test_a_yes_word_names_no_choice_when_two_choices_can_be_adopted() -> None:
    assert isinstance(read("да", CANDIDATES), Unclear)
    assert read("нет", CANDIDATES) == Choices({1: "3"})
    assert read("2", CANDIDATES) == Choices({1: "2"})


# --- read_reply: several questions ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["11 22", "1-1, 2-2", "1122", "1 1 2 2", "1:1 2:2", "１１ ２２", "1 да 2 нет", "1да 2нет"],
)
def test_two_question_replies(text: str) -> None:
    assert read(text, TWO) == Choices({1: "1", 2: "2"})


def test_answering_only_some_questions_records_those() -> None:
    assert read("23", TWO) == Choices({2: "3"})
    assert read("2 нет", TWO) == Choices({2: "2"})


def test_the_same_answer_twice_is_one_answer() -> None:
    assert read("11 11", TWO) == Choices({1: "1"})


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("112", ""),  # odd digit count
        ("1", ""),
        ("11 2", ""),
        ("31", "3"),  # no question 3
        ("14", "4"),  # no choice 4
        ("10", "0"),
        ("11 12", "1"),  # two different answers to question 1
        ("3 да", "3"),
        ("да", ""),  # a word alone cannot say which question
        ("11 да", ""),
    ],
)
def test_two_question_replies_that_are_unclear(text: str, mentions: str) -> None:
    reading = read(text, TWO)
    assert isinstance(reading, Unclear)
    assert mentions in reading.reason


# --- details, prefix ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "０", "00", " 0 ", "〇", "#12 0"])
def test_zero_asks_for_the_details(text: str) -> None:
    assert read(text) == Details()
    assert read(text, TWO) == Details()


def test_a_prefixed_reply_is_read_without_its_prefix() -> None:
    assert read("#12 1") == Choices({1: "1"})
    assert read("#12 2") == Choices({1: "2"})
    assert read("#12 11 22", TWO) == Choices({1: "1", 2: "2"})
    # The 12 is the ballot, not "question 1 choice 2".
    assert read("#12 3") == Choices({1: "3"})


def test_read_reply_refuses_text_that_is_not_a_vote() -> None:
    assert isinstance(read_reply("Нет, лифт опять стоит", ONE), Unclear)
    assert isinstance(read_reply("Не работает лифт", ONE), Unclear)
    assert isinstance(read_reply("1 подъезд", ONE), Unclear)
