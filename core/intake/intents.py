"""Reading what a message asks for: a command, a menu choice, a continuation, or a request."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import InboundMessage
from core.routing.models import Category
from core.routing.service import RoutingTable
from core.tickets.models import Ticket


class IntentName(StrEnum):
    HELP = "help"
    STATUS = "status"
    CONTINUE = "continue"
    REQUEST = "request"


HELP_WORDS = frozenset({"help", "?", "помощь", "справка", "помогите", "帮助", "帮忙", "菜单"})
STATUS_WORDS = ("status", "статус", "状态", "查询")
_STATUS_PATTERN = re.compile(
    r"^(?:" + "|".join(STATUS_WORDS) + r")\s*[:#№]?\s*([0-9][0-9\s-]*)$", re.IGNORECASE
)


class UnknownCategory(LookupError):
    """The message names a category that does not exist or is retired."""


@dataclass(frozen=True)
class Intent:
    name: IntentName
    category: Category | None = None
    ticket: Ticket | None = None
    argument: str | None = None


def read_command(text: str) -> Intent | None:
    """Returns a HELP or STATUS intent when the text is such a command, in any language."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    if folded in HELP_WORDS:
        return Intent(IntentName.HELP)
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
    if not message.text and not message.attachments and message.location is None:
        return Intent(IntentName.HELP)
    if continuable_ticket_id is not None:
        ticket = await db_session.get(Ticket, continuable_ticket_id)
        if ticket is not None:
            return Intent(IntentName.CONTINUE, ticket=ticket)
    return Intent(IntentName.REQUEST, category=routing.classify_text(message.text))
