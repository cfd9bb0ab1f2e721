"""The one decision intake makes about a message: what it is, and who takes it.

The order is the rule, read top to bottom:
1. an explicit category (a kiosk tile, an Open311 service code) files a request;
2. an answer to the choices the last reply offered (a button, or a digit on SMS) is read
   against those choices only — a wrong or stale one gets the choices again;
3. a top-level menu key of the channel (the IVR's first menu) picks a category;
4. a command of the hub ("help", "status 0000018", "stop");
5. a back office claims it, in the conversation it has with the sender (a ballot reply)
   or as its own command ("баланс") — the claim carries what the reader parsed;
6. the follow-up rule: a message continues a ticket only when it names the ticket, answers
   a question the hub asked on it, or adds a photo or a place (or, ambiguously, more words
   about the same matter) to a ticket filed minutes ago; anything else is a new request.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contract import Choice, InboundMessage
from core.backoffice import BackOffices, Claim
from core.intake.context import ConversationContext
from core.intake.intents import Intent, read_command
from core.intake.models import PendingChoice
from core.outbox.models import OutboxMessage
from core.routing.models import Category
from core.routing.service import RoutingTable
from core.tickets.enums import TicketStatus
from core.tickets.models import Ticket
from core.tickets.numbers import parse_public_number


class Step(StrEnum):
    COMMAND = "command"
    CHOICE = "choice"
    CHOICE_AGAIN = "choice_again"
    CHOICE_STALE = "choice_stale"
    CONTINUE = "continue"
    REQUEST = "request"
    HELP = "help"


class UnknownCategory(LookupError):
    """The message names a category that does not exist or is retired."""


@dataclass(frozen=True)
class Decision:
    step: Step
    command: Intent | None = None
    claim: Claim | None = None
    category: Category | None = None
    # The ticket a follow-up joins.
    ticket: Ticket | None = None
    # Joined, but it may be a separate matter: the reply says how to split it out.
    ambiguous: bool = False
    pending: PendingChoice | None = None
    choice: Choice | None = None

    @property
    def name(self) -> str:
        """A short name for logs and results ("help", "status", "request", "continue")."""
        if self.command is not None:
            return str(self.command.name)
        return str(self.step)


FINISHED = (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.REJECTED)
# A ticket named in a message: its 7-digit public number, alone or after # / №.
_NAMED = re.compile(r"(?<![0-9])[#№]?\s?([0-9]{7})(?![0-9])")
# A digit answering a numbered list (full-width digits arrive from Chinese keyboards).
_DIGIT = re.compile(r"^\s*([0-9])\s*[.)]?\s*$")


def _typed(message: InboundMessage) -> str:
    # A caller answers a spoken list with a key press; everyone else types the digit.
    return message.text or message.menu_choice or ""


def _digit(text: str) -> int | None:
    match = _DIGIT.match(unicodedata.normalize("NFKC", text))
    return int(match.group(1)) if match else None


async def read_pending(
    db_session: AsyncSession, contact_id: int, channel: str, now: datetime
) -> PendingChoice | None:
    """Returns the choices the last reply on this channel offered, expired or not; None
    when there are none, or another message reached the resident on that channel after
    them (a ballot notice, a status notice): a digit then answers that.

    The row is locked: two answers arriving together are taken one after the other, and
    the second finds the first's reply (which replaced or removed the row), so a choice is
    never acted on twice.
    """
    pending = await db_session.scalar(
        select(PendingChoice)
        .where(PendingChoice.contact_id == contact_id, PendingChoice.channel == channel)
        .with_for_update()
    )
    if pending is None:
        return None
    offered_by = int(pending.context.get("outbox_id") or 0)
    newer = await db_session.scalar(
        select(
            exists().where(
                OutboxMessage.channel == channel,
                OutboxMessage.address == pending.context.get("address", ""),
                OutboxMessage.id > offered_by,
            )
        )
    )
    return None if newer else pending


def _answer(pending: PendingChoice, message: InboundMessage) -> Choice | None:
    choices = [Choice.model_validate(item) for item in pending.choices]
    if message.choice_id is not None:
        return next((c for c in choices if c.id == message.choice_id), None)
    index = _digit(_typed(message))
    if index is not None and 1 <= index <= len(choices):
        return choices[index - 1]
    return None


async def _read_choice(
    db_session: AsyncSession, message: InboundMessage, contact_id: int, now: datetime
) -> Decision | None:
    """Reads a button or a digit against the last reply's choices; None if it is neither."""
    pressed = message.choice_id is not None
    if not pressed and _digit(_typed(message)) is None:
        return None
    pending = await read_pending(db_session, contact_id, str(message.channel), now)
    if pending is None:
        # A button from a reply that is no longer current; a bare digit with nothing
        # offered goes on to the back offices (it may be a ballot answer).
        return Decision(Step.CHOICE_STALE) if pressed else None
    choice = _answer(pending, message)
    if choice is None or pending.expires_at <= now:
        # A wrong answer, or one too late to trust: the same choices again, fresh.
        return Decision(Step.CHOICE_AGAIN, pending=pending)
    return Decision(Step.CHOICE, pending=pending, choice=choice)


async def _named_ticket(
    db_session: AsyncSession, text: str, context: ConversationContext
) -> Ticket | None:
    """Returns the sender's own ticket the text names by number, or None."""
    contact = context.contact
    for match in _NAMED.finditer(unicodedata.normalize("NFKC", text)):
        ticket_id = parse_public_number(match.group(1))
        if ticket_id is None:
            continue
        ticket = await db_session.get(Ticket, ticket_id)
        # A closed request takes no more messages (nobody would read them): the message
        # is a new request, which names the old one in its own words.
        if (
            ticket is not None
            and ticket.status not in FINISHED
            and (
                ticket.contact_id == contact.id
                or (contact.resident_id is not None and ticket.resident_id == contact.resident_id)
            )
        ):
            return ticket
    return None


async def _follow_up(
    db_session: AsyncSession,
    message: InboundMessage,
    context: ConversationContext,
    offices: BackOffices,
    category: Category | None,
) -> Decision | None:
    """Applies the follow-up rule (module docstring, point 6); None for a new request."""
    named = await _named_ticket(db_session, message.text, context) if message.text else None
    if named is not None:
        return Decision(Step.CONTINUE, ticket=named)
    if context.on_hold_ticket_id is not None:
        held = await db_session.get(Ticket, context.on_hold_ticket_id)
        if held is not None and await offices.awaits_answer(db_session=db_session, ticket=held):
            # An answer to the hub's question; words about another matter are offered a split.
            other = category is not None and category.id != held.category_id
            return Decision(Step.CONTINUE, ticket=held, ambiguous=other)
    if context.recent_ticket_id is None:
        return None
    recent = await db_session.get(Ticket, context.recent_ticket_id)
    if recent is None:
        return None
    adds_media = bool(message.attachments) or message.location is not None
    if category is None and adds_media:
        return Decision(Step.CONTINUE, ticket=recent)
    if message.text and (category is None or category.id == recent.category_id):
        return Decision(Step.CONTINUE, ticket=recent, ambiguous=True)
    return None


async def decide(
    *,
    db_session: AsyncSession,
    message: InboundMessage,
    routing: RoutingTable,
    context: ConversationContext,
    offices: BackOffices,
    menu: dict[str, str],
    now: datetime,
) -> Decision:
    """Returns what the message is and who takes it (module docstring for the order)."""
    if message.category_code:
        category = routing.category_by_code(message.category_code)
        if category is None or not category.active:
            raise UnknownCategory(message.category_code)
        return Decision(Step.REQUEST, category=category)
    answered = await _read_choice(db_session, message, context.contact.id, now)
    if answered is not None:
        return answered
    if message.menu_choice:
        code = menu.get(message.menu_choice)
        category = routing.category_by_code(code) if code else None
        if category is None or not category.active:
            return Decision(Step.HELP)
        return Decision(Step.REQUEST, category=category)
    command = read_command(message.text)
    if command is not None:
        return Decision(Step.COMMAND, command=command)
    claimed = await _claim(db_session, message, context, offices, now)
    if claimed is not None:
        category = routing.category_by_kind(claimed.kind)
        return Decision(Step.REQUEST, claim=claimed, category=category)
    if not message.text and not message.attachments and message.location is None:
        return Decision(Step.HELP)
    if _digit(message.text) is not None:
        # A lone digit that answers nothing offered and no ballot is no request: help.
        return Decision(Step.HELP)
    category = routing.classify_text(message.text) if message.text else None
    followed = await _follow_up(db_session, message, context, offices, category)
    if followed is not None:
        return followed
    return Decision(Step.REQUEST, category=category)


async def _claim(
    db_session: AsyncSession,
    message: InboundMessage,
    context: ConversationContext,
    offices: BackOffices,
    now: datetime,
) -> Claim | None:
    """Returns a back office's claim on the message: in its conversation, or a command."""
    if not message.text:
        return None
    awaiting = False
    if context.on_hold_ticket_id is not None:
        held = await db_session.get(Ticket, context.on_hold_ticket_id)
        awaiting = held is not None and await offices.awaits_answer(
            db_session=db_session, ticket=held
        )
    found = await offices.claim_in_conversation(
        db_session=db_session,
        contact=context.contact,
        message=message,
        awaiting_answer=awaiting,
        now=now,
    )
    return found if found is not None else offices.claim(message.text)
