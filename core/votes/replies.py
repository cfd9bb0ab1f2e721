"""Reading an owner's SMS reply to a ballot: "1", "１", "да", "同意", "11 22", "1-1, 2-2",
"#12 1" (ballot 12), "0" for the details.

Two steps. ``looks_like_vote`` says, from the text alone, whether a message is shaped like
an answer to a ballot at all (digits, yes/no words, separators); only such messages are
looked at against the sender's ballots, so a complaint written while a vote is open is
never taken for a vote. ``read_reply`` then reads it against the ballot's questions; what
it cannot read for sure is ``Unclear`` and the owner is asked again, never guessed for.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.votes.enums import OptionKind

# Longer phrases first: "не согласен" must not be read as "согласен".
_WORDS: dict[str, OptionKind] = {
    "не согласен": OptionKind.AGAINST,
    "не согласна": OptionKind.AGAINST,
    "не согласны": OptionKind.AGAINST,
    "不同意": OptionKind.AGAINST,
    "不赞成": OptionKind.AGAINST,
    "disagree": OptionKind.AGAINST,
    "against": OptionKind.AGAINST,
    "против": OptionKind.AGAINST,
    "反对": OptionKind.AGAINST,
    "нет": OptionKind.AGAINST,
    "no": OptionKind.AGAINST,
    "否": OptionKind.AGAINST,
    "воздерживаюсь": OptionKind.ABSTAIN,
    "воздержался": OptionKind.ABSTAIN,
    "воздержалась": OptionKind.ABSTAIN,
    "воздержусь": OptionKind.ABSTAIN,
    "abstain": OptionKind.ABSTAIN,
    "弃权": OptionKind.ABSTAIN,
    "согласен": OptionKind.FOR,
    "согласна": OptionKind.FOR,
    "согласны": OptionKind.FOR,
    "agree": OptionKind.FOR,
    "approve": OptionKind.FOR,
    "yes": OptionKind.FOR,
    "赞成": OptionKind.FOR,
    "同意": OptionKind.FOR,
    "支持": OptionKind.FOR,
    "да": OptionKind.FOR,
    "за": OptionKind.FOR,
    "是": OptionKind.FOR,
}
_WORD_PATTERN = "|".join(re.escape(w) for w in sorted(_WORDS, key=len, reverse=True))
_CHINESE_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
# What may stand between a question's number and its choice, or between answers.
_JOINERS = re.compile(r"[-‐‑–—:./=]")
_NOISE = re.compile(r"[,，;；!！?？。\"'«»“”()（）]")
_PREFIX = re.compile(r"^(?:#|№|n°|no\.)\s*(\d{1,9})\b")
_ONLY = re.compile(rf"^(?:\d|\s|{_WORD_PATTERN})+$")
_PAIR_WITH_WORD = re.compile(rf"(\d)\s*({_WORD_PATTERN})")
MAX_LENGTH = 60


def normalise(text: str) -> str:
    """Returns the reply folded for reading: ASCII digits, lower case, no punctuation."""
    # "№" first: NFKC would make it "No", and "№12 1" names ballot 12 on Russian phones.
    folded = unicodedata.normalize("NFKC", text.replace("№", "#")).casefold().replace("ё", "е")
    folded = folded.translate(_CHINESE_DIGITS)
    folded = _NOISE.sub(" ", folded)
    return " ".join(folded.split())


def split_prefix(text: str) -> tuple[int | None, str]:
    """Returns the ballot number a reply names ("#12 1") and the rest."""
    match = _PREFIX.match(text)
    if match is None:
        return None, text
    return int(match.group(1)), text[match.end() :].strip()


def looks_like_vote(text: str) -> bool:
    """Whether a message is shaped like a ballot answer (cheap: no database)."""
    if not text or len(text) > MAX_LENGTH:
        return False
    _number, rest = split_prefix(normalise(text))
    rest = _JOINERS.sub(" ", rest).strip()
    if not rest or not _ONLY.match(rest):
        return False
    # A ticket number or an amount is not a ballot answer: digit runs are one digit, or
    # question-choice pairs (an even count), and at most nine answers.
    runs = re.findall(r"\d+", rest)
    return len(runs) <= 18 and all(len(r) == 1 or (len(r) % 2 == 0 and len(r) <= 18) for r in runs)


def is_word_reply(text: str) -> bool:
    """Whether the reply is words (yes/no), not digits: a complaint may be awaiting those."""
    return not any(char.isdigit() for char in normalise(text))


@dataclass(frozen=True)
class Question:
    """What reading a reply needs of a question: its number and its options' kinds."""

    position: int
    options: dict[str, OptionKind]

    def code_for(self, kind: OptionKind) -> str | None:
        """Returns the option a yes/no/abstain word means, if exactly one option is it."""
        codes = [code for code, k in self.options.items() if k is kind]
        return codes[0] if len(codes) == 1 else None


@dataclass(frozen=True)
class Details:
    """The owner asked for the full text ("0")."""


@dataclass(frozen=True)
class Choices:
    # question position → option code
    picked: dict[int, str]


@dataclass(frozen=True)
class Unclear:
    reason: str


Reading = Details | Choices | Unclear


def read_reply(text: str, questions: list[Question]) -> Reading:
    """Reads a reply (without its ballot prefix) against a ballot's questions."""
    folded = normalise(text)
    if folded in ("0", "00"):
        return Details()
    if re.search(_WORD_PATTERN, folded):
        return _read_words(folded, questions)
    digits = re.sub(r"\D", "", folded)
    if not digits or re.sub(rf"[\d\s]|{_JOINERS.pattern}", "", folded):
        return Unclear("not a vote")
    if len(questions) == 1:
        return _read_single(folded, digits, questions[0])
    # Several questions: question digit then option digit, pairs run together or not
    # ("11 22", "1-1 2-2", "1122", and a stray space as in "1 1 2 2"). Two lone digits
    # ("1 2") are as likely "agree, disagree" as "question 1, choice 2": asked again.
    tokens = _JOINERS.sub(" - ", folded).split()
    if len(tokens) == 2 and all(len(t) == 1 and t.isdigit() for t in tokens):
        return Unclear("two lone digits: which question is which?")
    if len(digits) % 2:
        return Unclear("several questions need a question number and a choice each")
    picked: dict[int, str] = {}
    for index in range(0, len(digits), 2):
        position, code = int(digits[index]), digits[index + 1]
        found = _check(questions, position, code)
        if isinstance(found, Unclear):
            return found
        if picked.get(position, code) != code:
            return Unclear(f"two different answers to question {position}")
        picked[position] = code
    return Choices(picked)


def _read_single(folded: str, digits: str, question: Question) -> Reading:
    if len(set(digits)) == 1:
        code = digits[0]  # "1", or "1 1" typed twice
    elif len(digits) == 2 and digits[0] == str(question.position) and " " not in folded:
        # "12" or "1-2": the per-question form works for one question too. "1 2" with a
        # space could as well be two answers, and is asked again.
        code = digits[1]
    else:
        return Unclear("one question needs one choice")
    if code not in question.options:
        return Unclear(f"there is no choice {code}")
    return Choices({question.position: code})


def _read_words(folded: str, questions: list[Question]) -> Reading:
    pairs = _PAIR_WITH_WORD.findall(folded)
    if pairs:
        leftover = _PAIR_WITH_WORD.sub(" ", folded)
        if _JOINERS.sub(" ", leftover).strip():
            return Unclear("mixed answers")
        picked: dict[int, str] = {}
        for position_text, word in pairs:
            position = int(position_text)
            question = next((q for q in questions if q.position == position), None)
            if question is None:
                return Unclear(f"there is no question {position}")
            code = question.code_for(_WORDS[word])
            if code is None or picked.get(position, code) != code:
                return Unclear(f"the answer to question {position} is not clear")
            picked[position] = code
        return Choices(picked)
    kinds = {_WORDS[word] for word in re.findall(_WORD_PATTERN, folded)}
    rest = re.sub(_WORD_PATTERN, " ", folded)
    if len(questions) != 1 or len(kinds) != 1 or _JOINERS.sub(" ", rest).strip():
        return Unclear("a word answers only a ballot with one question")
    code = questions[0].code_for(kinds.pop())
    if code is None:
        return Unclear("this question's choices are not yes or no")
    return Choices({questions[0].position: code})


def _check(questions: list[Question], position: int, code: str) -> Unclear | None:
    question = next((q for q in questions if q.position == position), None)
    if question is None:
        return Unclear(f"there is no question {position}")
    if code not in question.options:
        return Unclear(f"question {position} has no choice {code}")
    return None
