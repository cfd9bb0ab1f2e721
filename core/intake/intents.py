"""Reading what a message asks for: a command, a menu choice, a continuation, or a request."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage
from core.intake.backoffices import Claim, claim, claim_in_conversation
from core.notices.enums import Topic
from core.residents.models import Contact
from core.routing.models import Category
from core.routing.service import RoutingTable
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
OPT_IN_WORDS = frozenset({"start", "unstop", "старт", "возобновить", "恢复"})
SUBSCRIBE_WORDS = frozenset({"subscribe", "подписаться", "подписка", "订阅"})
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


class UnknownCategory(LookupError):
    """The message names a category that does not exist or is retired."""


@dataclass(frozen=True)
class Intent:
    name: IntentName
    category: Category | None = None
    ticket: Ticket | None = None
    argument: str | None = None
    topic: Topic | None = None
    # A command a back office claimed ("баланс" for billing): it goes there directly.
    claim: Claim | None = None


def read_command(text: str) -> Intent | None:
    """Returns a HELP or STATUS intent when the text is such a command, in any language."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold().rstrip(".!")
    if folded in HELP_WORDS:
        return Intent(IntentName.HELP)
    words = folded.split()
    # Chinese needs no space between the verb and the topic: 订阅停电.
    if len(words) == 1:
        for verb in sorted(SUBSCRIBE_WORDS | UNSUBSCRIBE_WORDS, key=len, reverse=True):
            rest = folded[len(verb) :]
            if folded.startswith(verb) and rest in TOPIC_WORDS:
                words = [verb, rest]
                break
    if len(words) == 2 and words[1] in TOPIC_WORDS:
        if words[0] in SUBSCRIBE_WORDS:
            return Intent(IntentName.SUBSCRIBE, topic=TOPIC_WORDS[words[1]])
        if words[0] in UNSUBSCRIBE_WORDS:
            return Intent(IntentName.UNSUBSCRIBE, topic=TOPIC_WORDS[words[1]])
    if folded in OPT_OUT_WORDS:
        return Intent(IntentName.OPT_OUT)
    if folded in OPT_IN_WORDS:
        return Intent(IntentName.OPT_IN)
    match = _STATUS_PATTERN.match(folded)
    if match:
        return Intent(IntentName.STATUS, argument=re.sub(r"[\s-]", "", match.group(1)))
    return None


async def decide(
    *,
    db_session: AsyncSession,
    message: InboundMessage,
    routing: RoutingTable,
    continuable_ticket_id: int | None,
    contact: Contact,
    now: datetime,
) -> Intent:
    """Returns what the message asks for: explicit command, menu choice, context, or NLU."""
    if message.category_code:
        category = routing.category_by_code(message.category_code)
        if category is None or not category.active:
            raise UnknownCategory(message.category_code)
        return Intent(IntentName.REQUEST, category=category)
    if message.menu_choice:
        category = routing.category_by_menu_key(message.menu_choice)
        if category is None:
            return Intent(IntentName.HELP)
        return Intent(IntentName.REQUEST, category=category)
    command = read_command(message.text)
    if command is not None:
        return command
    claimed = (
        await claim_in_conversation(
            db_session=db_session,
            contact=contact,
            message=message,
            awaiting_answer=continuable_ticket_id is not None,
            now=now,
        )
        if message.text
        else None
    )
    if claimed is None and message.text:
        claimed = claim(message.text)
    if claimed is not None:
        return Intent(
            IntentName.REQUEST, category=routing.category_by_kind(claimed.kind), claim=claimed
        )
    if not message.text and not message.attachments and message.location is None:
        return Intent(IntentName.HELP)
    if continuable_ticket_id is not None:
        ticket = await db_session.get(Ticket, continuable_ticket_id)
        if ticket is not None:
            return Intent(IntentName.CONTINUE, ticket=ticket)
    return Intent(IntentName.REQUEST, category=routing.classify_text(message.text))
