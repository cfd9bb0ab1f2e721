"""Reading what a message asks for: a command, a menu choice, a continuation, or a request."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from core.notices.enums import Topic
from core.routing.models import Category
from core.tickets.models import Ticket


class IntentName(StrEnum):
    HELP = "help"
    STATUS = "status"
    CONTINUE = "continue"
    REQUEST = "request"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    # A command sent without what it needs ("subscribe" alone): answered with its usage,
    # the command named in ``argument``.
    USAGE = "usage"


HELP_WORDS = frozenset({"help", "?", "помощь", "справка", "помогите", "帮助", "帮忙", "菜单"})
STATUS_WORDS = ("status", "статус", "状态", "查询")
_STATUS_PATTERN = re.compile(
    r"^(?:" + "|".join(STATUS_WORDS) + r")\s*[:#№]?\s*([0-9][0-9\s-]*)$", re.IGNORECASE
)


# STOP-style words end all bulk messages; START-style words resume them. With a topic after
# them, the subscribe/unsubscribe words change just that topic.
OPT_OUT_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "стоп",
        "отписаться",
        "отписка",
        "退订",
        "取消订阅",
    }
)
OPT_IN_WORDS = frozenset({"start", "unstop", "старт", "возобновить", "恢复", "开始", "开启"})
SUBSCRIBE_WORDS = frozenset({"subscribe", "подписаться", "подписка", "订阅"})
# Little words between a verb and its topic: "subscribe to outages", "подписаться на отключения".
_LINKING_WORDS = frozenset({"to", "for", "on", "на", "о"})
UNSUBSCRIBE_WORDS = frozenset({"unsubscribe", "отписаться", "отписка", "退订", "取消订阅"})
TOPIC_WORDS: dict[str, Topic] = {
    **dict.fromkeys(
        (
            "outages",
            "outage",
            "отключения",
            "отключение",
            "停水停电",
            "停电",
            "停水",
            "停水停电通知",
        ),
        Topic.OUTAGES,
    ),
    **dict.fromkeys(("status", "статус", "状态", "进度"), Topic.TICKET_STATUS),
    **dict.fromkeys(("votes", "vote", "голосования", "голосование", "投票"), Topic.VOTES),
    **dict.fromkeys(("billing", "bills", "квитанции", "счета", "账单", "缴费"), Topic.BILLING),
}


@dataclass(frozen=True)
class Intent:
    name: IntentName
    category: Category | None = None
    ticket: Ticket | None = None
    argument: str | None = None
    topic: Topic | None = None


def read_command(text: str) -> Intent | None:
    """Returns the intent of a command (HELP, STATUS, STOP, START, SUBSCRIBE ...) in any of
    our languages, or None when the text is not one.

    A command sent alone, without what it needs, is still a command: a bare STATUS asks
    for the sender's requests (``argument`` None), a bare SUBSCRIBE for how to use it
    (USAGE). Such a text is never a note on an open ticket.
    """
    folded = unicodedata.normalize("NFKC", text).strip().casefold().rstrip(".!?？！。")
    if folded in HELP_WORDS:
        return Intent(IntentName.HELP)
    topical = _read_topic_command(folded)
    if topical is not None:
        return topical
    if folded in OPT_OUT_WORDS:
        return Intent(IntentName.OPT_OUT)
    if folded in OPT_IN_WORDS:
        return Intent(IntentName.OPT_IN)
    if folded in STATUS_WORDS:
        return Intent(IntentName.STATUS)
    match = _STATUS_PATTERN.match(folded)
    if match:
        return Intent(IntentName.STATUS, argument=re.sub(r"[\s-]", "", match.group(1)))
    return None


def _read_topic_command(folded: str) -> Intent | None:
    """Returns SUBSCRIBE / UNSUBSCRIBE with a topic, or the usage of a bare SUBSCRIBE."""
    words = [word for word in folded.split() if word not in _LINKING_WORDS]
    # Chinese needs no space between the verb and the topic: 订阅停电.
    if len(words) == 1:
        for verb in sorted(SUBSCRIBE_WORDS | UNSUBSCRIBE_WORDS, key=len, reverse=True):
            rest = words[0][len(verb) :]
            if words[0].startswith(verb) and rest in TOPIC_WORDS:
                words = [verb, rest]
                break
    if len(words) == 2 and words[1] in TOPIC_WORDS:
        if words[0] in SUBSCRIBE_WORDS:
            return Intent(IntentName.SUBSCRIBE, topic=TOPIC_WORDS[words[1]])
        if words[0] in UNSUBSCRIBE_WORDS:
            return Intent(IntentName.UNSUBSCRIBE, topic=TOPIC_WORDS[words[1]])
    # "subscribe" alone, or with a topic we do not have ("subscribe news"): how to use it.
    # A longer text that starts with the word is somebody's sentence, not a command.
    if words and words[0] in SUBSCRIBE_WORDS and len(words) <= 2:
        return Intent(IntentName.USAGE, argument="subscribe")
    return None
