"""Reading what a resident asks the settlement centre in a short text, in any of our languages.

A pensioner types "баланс", an owner texts "показания хв 123,4 гв 56", a chat user sends
"余额 7700001 1234". The grammar is a keyword, then optionally an account number and PIN,
then (for readings) values, each optionally preceded by the meter's label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class Command(StrEnum):
    BALANCE = "balance"
    DETAILS = "details"
    PAYMENTS = "payments"
    READINGS = "readings"  # show the last readings
    SUBMIT = "submit"  # send new readings
    WHY = "why"
    LINK = "link"  # prove an account once: number and PIN


_WORDS: dict[Command, tuple[str, ...]] = {
    Command.BALANCE: ("balance", "owe", "debt", "баланс", "долг", "задолженность", "余额", "欠费"),
    Command.DETAILS: ("details", "breakdown", "детали", "подробно", "расшифровка", "明细"),
    Command.PAYMENTS: ("payments", "paid", "платежи", "оплаты", "оплата", "缴费记录", "付款"),
    Command.READINGS: (
        "reading",
        "readings",
        "meter",
        "показания",
        "показание",
        "счетчик",
        "счётчик",
        "读数",
        "抄表",
    ),
    Command.WHY: ("why", "почему", "为什么"),
    Command.LINK: ("account", "лс", "л/с", "лицевой", "账户", "户号"),
}
_KEYWORDS = {word: command for command, words in _WORDS.items() for word in words}
# Longest first, so "缴费记录" wins over a shorter word it starts with.
_BY_LENGTH = sorted(_KEYWORDS, key=len, reverse=True)
ACCOUNT_PATTERN = re.compile(r"^\d{5,12}$")
PIN_PATTERN = re.compile(r"^\d{4,8}$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d{1,3})?$")
# Chinese and Russian write no space between a word and a number ("读数123", "хв123").
# A minus sign and a decimal separator stay with their number: "-5" must read as negative.
_SPLIT = re.compile(r"(?<=[^\d.,\-])(?=\d)|(?<=\d)(?=[^\d.,])")


@dataclass(frozen=True)
class ReadingValue:
    label: str | None  # the meter's label as typed ("хв", "cw", a serial), or None
    value: Decimal


@dataclass(frozen=True)
class BillingCommand:
    command: Command
    account: str | None = None
    pin: str | None = None
    values: list[ReadingValue] = field(default_factory=list)
    # Words the parser could not place: the resident gets an explanation, not a guess.
    leftover: list[str] = field(default_factory=list)


# Meter names written out in words ("reading cold water 120", "показания горячая вода 45",
# "抄表 冷水表 120") are read as the service code every meter's labels include, so a resident
# need not know the short labels (cw, хв, 冷水).
METER_NAMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "cold water",
            "cold",
            "холодная вода",
            "холодной воды",
            "холодная",
            "холодной",
            "冷水表",
            "冷水水表",
        ),
        "cold_water",
    ),
    **dict.fromkeys(
        (
            "hot water",
            "hot",
            "горячая вода",
            "горячей воды",
            "горячая",
            "горячей",
            "热水表",
            "热水水表",
        ),
        "hot_water",
    ),
    **dict.fromkeys(
        (
            "electricity",
            "electric",
            "power",
            "электричество",
            "электричества",
            "электроэнергия",
            "электроэнергии",
            "电表",
            "用电",
        ),
        "electricity",
    ),
}


def _is_cjk(text: str) -> bool:
    return any(0x3400 <= ord(char) <= 0x9FFF for char in text)


# Longest first, so "cold water" wins over "cold"; a Latin or Cyrillic name is a whole word,
# a Chinese one needs no spaces around it ("冷水表120").
_METER_PATTERN = re.compile(
    "|".join(
        re.escape(name) if _is_cjk(name) else rf"\b{re.escape(name)}\b"
        for name in sorted(METER_NAMES, key=len, reverse=True)
    )
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def _tokens(text: str) -> list[str]:
    folded = _METER_PATTERN.sub(lambda m: f" {METER_NAMES[m.group(0)]} ", _fold(text))
    folded = re.sub(r"[:;=#№?!？！，,。]+(?=\s|$)|[:;=#№?!？！，。]+", " ", folded)
    tokens: list[str] = []
    for word in folded.split():
        if word in _DASHES:  # "хв - 123": a separator, not a minus sign
            continue
        tokens.extend(part for part in _SPLIT.split(word.strip(".")) if part)
    return tokens


def _keyword(tokens: list[str]) -> tuple[Command, list[str]] | None:
    if not tokens:
        return None
    first = tokens[0]
    if first in _KEYWORDS:
        return _KEYWORDS[first], tokens[1:]
    for word in _BY_LENGTH:  # "余额7700001" split off its digits, but "查询余额" has a prefix
        if first.endswith(word) and len(first) - len(word) <= 2:
            return _KEYWORDS[word], tokens[1:]
    typo = _misspelt(first)
    return (typo, tokens[1:]) if typo is not None else None


# A keyword typed with one letter doubled, dropped, swapped or wrong ("балланс", "balnce")
# is still the keyword, when it is long enough that one slip cannot make another word.
_TYPO_MIN_LENGTH = 5


def _one_slip_apart(typed: str, word: str) -> bool:
    """Whether two words differ by one insertion, deletion, substitution or transposition."""
    if abs(len(typed) - len(word)) > 1 or typed == word:
        return False
    if len(typed) == len(word):
        diff = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        if len(diff) == 1:
            return True
        first, second = diff[0], diff[-1]
        return (
            len(diff) == 2
            and second == first + 1
            and typed[first] == word[second]
            and typed[second] == word[first]
        )
    longer, shorter = (typed, word) if len(typed) > len(word) else (word, typed)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _misspelt(typed: str) -> Command | None:
    if len(typed) < _TYPO_MIN_LENGTH or _is_cjk(typed) or not typed.isalpha():
        return None
    found = {
        command
        for word, command in _KEYWORDS.items()
        if len(word) >= _TYPO_MIN_LENGTH and _one_slip_apart(typed, word)
    }
    return found.pop() if len(found) == 1 else None


# Questions people ask in their own words, read as the command that answers them. Only the
# whole question (maybe with an account and PIN after it) counts: "почему так дорого
# вывоз мусора" stays a question for a person.
QUESTIONS: dict[str, Command] = {
    **dict.fromkeys(
        (
            "how much do i owe",
            "how much do i have to pay",
            "how much do i pay",
            "what do i owe",
            "how much is my bill",
            "сколько я должен",
            "сколько я должна",
            "сколько я должен заплатить",
            "сколько мне платить",
            "сколько платить",
            "сколько к оплате",
            "какой у меня долг",
            "我欠多少钱",
            "欠多少钱",
            "我要交多少钱",
            "要交多少钱",
            "我该交多少钱",
            "该交多少钱",
            "还欠多少钱",
        ),
        Command.BALANCE,
    ),
    **dict.fromkeys(
        (
            "why so expensive",
            "why is it so expensive",
            "why is my bill so high",
            "почему так дорого",
            "почему так много",
            "почему счет такой большой",
            "为什么这么贵",
            "为什么这么多",
            "怎么这么贵",
        ),
        Command.WHY,
    ),
}


def _question(text: str) -> tuple[Command, list[str]] | None:
    """Returns the command a question in words asks for, and what follows it (digits)."""
    words = " ".join(re.sub(r"[?!.,;:？！。，；：]+", " ", _fold(text)).split())
    for question in sorted(QUESTIONS, key=len, reverse=True):
        if words == question or words.startswith(question + " "):
            rest = words[len(question) :].split()
            if all(word.isdigit() for word in rest):
                return QUESTIONS[question], rest
    return None


_DASHES = frozenset({"-", "–", "—"})
# Words a command may carry without becoming a question for a person ("баланс, пожалуйста").
# Any other word makes it free text: "почему нет воды" or "оплата не прошла" is a ticket,
# not an answer about the bill.
FILLER = frozenset(
    {
        "please",
        "pls",
        "my",
        "me",
        "show",
        "check",
        "пожалуйста",
        "пож",
        "плз",
        "мой",
        "мои",
        "мне",
        "покажите",
        "узнать",
        "请",
        "谢谢",
        "我的",
        "查询",
        "查",
    }
)


def parse(text: str, *, with_account: bool = True) -> BillingCommand | None:
    """Returns the billing command a text is, or None when it is not one (free text).

    ``with_account=False`` reads two leading numbers as readings, not as account and PIN
    (the caller found no such account).
    """
    found = _question(text) or _keyword(_tokens(text))
    if found is None:
        return None
    command, rest = found
    parsed = _parse(command, [w for w in rest if w not in FILLER], with_account=with_account)
    if parsed.pin is not None or not parsed.leftover:
        # With a PIN it is a command whatever follows: it must never reach a person's queue.
        return parsed
    if parsed.command in (Command.SUBMIT, Command.READINGS) and (
        any(char.isdigit() for word in parsed.leftover for char in word)
        or len(parsed.leftover) == 1
    ):
        return parsed  # a reading gone wrong ("показания 12а", "показания хв"): explain
    return None


def _parse(command: Command, rest: list[str], *, with_account: bool) -> BillingCommand:
    account = pin = None
    # An account number and PIN may follow any keyword: "balance 7700001 1234".
    if (
        with_account
        and len(rest) >= 2
        and ACCOUNT_PATTERN.match(rest[0])
        and PIN_PATTERN.match(rest[1])
    ):
        account, pin, rest = rest[0], rest[1], rest[2:]
    elif command is not Command.READINGS and rest and ACCOUNT_PATTERN.match(rest[0]):
        # "balance 7700002": which of the sender's accounts (a reading value looks the same).
        account, rest = rest[0], rest[1:]
    if command is Command.LINK:
        return BillingCommand(command, account, pin, leftover=rest)
    if command is not Command.READINGS or not rest:
        return BillingCommand(command, account, pin, leftover=rest)
    values, leftover = _reading_values(rest)
    if not values:
        return BillingCommand(Command.READINGS, account, pin, leftover=leftover)
    return BillingCommand(Command.SUBMIT, account, pin, values=values, leftover=leftover)


def _reading_values(tokens: list[str]) -> tuple[list[ReadingValue], list[str]]:
    values: list[ReadingValue] = []
    leftover: list[str] = []
    label: str | None = None
    for token in tokens:
        if _NUMBER.match(token):
            values.append(ReadingValue(label, _decimal(token)))
            label = None
        elif token.startswith("-") and _NUMBER.match(token[1:]):
            values.append(ReadingValue(label, -_decimal(token[1:])))
            label = None
        elif label is None:
            label = token
        else:
            leftover.append(label)
            label = token
    if label is not None:
        leftover.append(label)
    return values, leftover


def _decimal(token: str) -> Decimal:
    try:
        return Decimal(token.replace(",", "."))
    except InvalidOperation:  # the pattern admits only digits and one separator
        raise ValueError(token) from None
