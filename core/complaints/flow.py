"""A complaint's way through: to the company that serves the estate, the company's answer,
the resident's verdict, and the authority stepping in when it is disputed or overdue.

    triage ─route─► with_company ─answer─► answered ─confirm─► resolved
                        │ overdue              │ dispute
                        ▼                      ▼
                     authority ─finding: not upheld─► dismissed
                        │ upheld (deduction pending, order issued)
                        ▼
                    rectifying ─order done─► resolved
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.complaints import integrity
from core.complaints.enums import (
    STATUS_OF_STAGE,
    Escalation,
    InspectionStatus,
    ScoreKind,
    Stage,
    TriageReason,
    Verdict,
)
from core.complaints.models import Complaint, Inspection, PropertyCompany, RectificationOrder
from core.complaints.notify import tell_company, tell_resident
from core.complaints.service import (
    AUTHORITY_ROLES,
    Context,
    IllegalStep,
    NotAllowed,
    company_of,
    contract_on,
    local_day,
    working_days_after,
)
from core.i18n import pick_name
from core.territory.models import Community, Estate
from core.tickets import service as tickets_service
from core.tickets.enums import Direction, EventKind, TicketStatus
from core.tickets.models import Ticket

MAX_TEXT = 4000


def move(
    db_session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    target: Stage,
    *,
    actor: str,
    reason: str | None = None,
    **data: Any,
) -> None:
    """Moves a complaint to ``target``, its ticket to the matching status, with an event."""
    previous = complaint.stage
    complaint.stage = target
    status = STATUS_OF_STAGE[target]
    if target is Stage.TRIAGE and ticket.department_id is not None:
        # The authority's department has it: assigned to triage, like any routed ticket.
        status = TicketStatus.ASSIGNED
    if ticket.status != status:
        tickets_service.change_status(
            db_session=db_session,
            ticket=ticket,
            status=status,
            actor=actor,
            reason=reason,
            enforce=False,
        )
    tickets_service.add_event(
        db_session=db_session,
        ticket_id=ticket.id,
        kind=EventKind.STAGE_CHANGED,
        actor=actor,
        previous=str(previous) if previous else None,
        stage=str(target),
        reason=reason,
        **data,
    )


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise IllegalStep(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise IllegalStep(f"{what} is longer than {MAX_TEXT} characters")
    return text


def _require_authority(ctx: Context) -> None:
    if ctx.principal.role not in AUTHORITY_ROLES:
        raise NotAllowed("only the housing authority takes this step")


async def assign(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    ticket: Ticket,
    complaint: Complaint,
    estate: Estate | None,
    company: PropertyCompany | None = None,
) -> None:
    """Routes a complaint through the contract register, or leaves it in triage.

    ``company`` is the authority's override when the register is wrong or incomplete.
    """
    if estate is not None:
        complaint.estate_id = estate.id
        if ticket.community_id is None and estate.community_id is not None:
            community = await db_session.get(Community, estate.community_id)
            ticket.community_id = estate.community_id
            ticket.district_id = community.district_id if community else None
    contract = None
    if estate is not None and company is None:
        contract = await contract_on(db_session=db_session, estate_id=estate.id, on=ctx.today)
        if contract is not None:
            company = await db_session.get(PropertyCompany, contract.company_id)
    if estate is None or company is None:
        reason = TriageReason.NO_ESTATE if estate is None else TriageReason.NO_CONTRACT
        complaint.triage_reason = reason
        complaint.company_id = None
        complaint.contract_id = None
        move(db_session, ticket, complaint, Stage.TRIAGE, actor=ctx.actor, reason=str(reason))
        return
    complaint.company_id = company.id
    complaint.contract_id = contract.id if contract is not None else None
    complaint.triage_reason = None
    complaint.respond_by = working_days_after(
        ctx.routing, ctx.now, ctx.settings.complaints_response_days
    )
    ticket.due_at = complaint.respond_by
    ticket.overdue = False
    move(
        db_session,
        ticket,
        complaint,
        Stage.WITH_COMPANY,
        actor=ctx.actor,
        company=company.code,
        contract=contract.number if contract is not None else None,
    )
    await tell_company(
        db_session=db_session,
        company=company,
        notice="complaint_for_company",
        outbox_ids=outbox_ids,
        number=ticket.public_number,
        estate=pick_name(estate.names, company.language),
        respond_by=f"{local_day(ctx.settings, complaint.respond_by)}",
    )


async def answer(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    ticket: Ticket,
    complaint: Complaint,
    text: str,
) -> None:
    """The company answers; the resident is asked to confirm or dispute."""
    if company_of(ctx.principal) != complaint.company_id or complaint.company_id is None:
        raise NotAllowed("only the company serving the estate answers")
    if complaint.stage != Stage.WITH_COMPANY:
        raise IllegalStep(f"the complaint is {complaint.stage}: the time to answer is over")
    complaint.answer = _text(text, "the answer")
    complaint.answered_at = ctx.now
    late = complaint.respond_by is not None and ctx.now > complaint.respond_by
    # The resident's verdict has its own clock in the sweep; nothing is overdue meanwhile.
    ticket.due_at = None
    ticket.overdue = False
    tickets_service.add_message(
        db_session=db_session,
        ticket=ticket,
        direction=Direction.NOTE,
        channel="api",
        text=complaint.answer,
        touch=False,
    )
    move(db_session, ticket, complaint, Stage.ANSWERED, actor=ctx.actor, late=late)
    company = await db_session.get(PropertyCompany, complaint.company_id)
    assert company is not None
    await tell_resident(
        db_session=db_session,
        ticket=ticket,
        notice="complaint_answered",
        outbox_ids=outbox_ids,
        number=ticket.public_number,
        company=pick_name(company.names, ticket.language),
        answer=complaint.answer,
    )


async def give_verdict(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    ticket: Ticket,
    complaint: Complaint,
    verdict: Verdict,
    why: str | None = None,
    automatic: bool = False,
    tell: bool = True,
) -> None:
    """The resident confirms the answer (closed) or disputes it (the authority steps in).

    The call centre may record it for a resident who phoned; a company never can.
    """
    if ctx.principal.role is Role.COMPANY:
        raise NotAllowed("the resident, not the company, confirms or disputes")
    if complaint.stage != Stage.ANSWERED:
        raise IllegalStep(f"the complaint is {complaint.stage}, not waiting for a verdict")
    complaint.verdict = verdict
    complaint.verdict_at = ctx.now
    if verdict is Verdict.CONFIRMED:
        move(
            db_session,
            ticket,
            complaint,
            Stage.RESOLVED,
            actor=ctx.actor,
            reason="confirmed",
            automatic=automatic,
        )
        if not tell:
            return
        await tell_resident(
            db_session=db_session,
            ticket=ticket,
            notice="complaint_resolved",
            outbox_ids=outbox_ids,
            number=ticket.public_number,
        )
        return
    text = (why or "").strip()[:MAX_TEXT]
    if text:
        tickets_service.add_message(
            db_session=db_session,
            ticket=ticket,
            direction=Direction.NOTE,
            channel="api",
            text=text,
            touch=False,
        )
    await escalate(
        db_session=db_session,
        ctx=ctx,
        outbox_ids=outbox_ids,
        ticket=ticket,
        complaint=complaint,
        why=Escalation.DISPUTED,
        tell=tell,
    )


async def escalate(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    ticket: Ticket,
    complaint: Complaint,
    why: Escalation,
    tell: bool = True,
) -> None:
    """Hands a disputed or overdue complaint to the authority with an inspection to do."""
    complaint.escalation = why
    inspection_due = working_days_after(ctx.routing, ctx.now, ctx.settings.complaints_response_days)
    ticket.due_at = inspection_due
    ticket.overdue = False
    assert complaint.company_id is not None and complaint.estate_id is not None
    db_session.add(
        Inspection(
            ticket_id=ticket.id,
            company_id=complaint.company_id,
            estate_id=complaint.estate_id,
            status=InspectionStatus.PLANNED,
            due_on=local_day(ctx.settings, inspection_due),
        )
    )
    move(db_session, ticket, complaint, Stage.AUTHORITY, actor=ctx.actor, reason=str(why))
    if not tell:
        return
    await tell_resident(
        db_session=db_session,
        ticket=ticket,
        notice="complaint_escalated",
        outbox_ids=outbox_ids,
        number=ticket.public_number,
    )


async def record_finding(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    ticket: Ticket,
    complaint: Complaint,
    upheld: bool,
    note: str,
    order_text: str | None = None,
    order_due_days: int | None = None,
) -> RectificationOrder | None:
    """The authority's finding after inspecting: upheld (a deduction, and an order to put
    it right if one is needed) or not upheld (dismissed)."""
    _require_authority(ctx)
    if complaint.stage not in (Stage.AUTHORITY, Stage.TRIAGE):
        raise IllegalStep(f"the complaint is {complaint.stage}: the authority has not stepped in")
    note = _text(note, "the finding")
    if upheld and complaint.company_id is None:
        raise IllegalStep("route the complaint to the company responsible before upholding it")
    inspection = await _close_inspection(db_session, ctx, ticket, upheld=upheld, note=note)
    complaint.upheld = upheld
    tickets_service.add_message(
        db_session=db_session,
        ticket=ticket,
        direction=Direction.NOTE,
        channel="api",
        text=note,
        touch=False,
    )
    if not upheld:
        await _dismiss(db_session, ctx, outbox_ids, ticket, complaint, finding=note)
        return None
    company = await db_session.get(PropertyCompany, complaint.company_id)
    assert company is not None
    # An upheld complaint costs the company points whether or not anything is left to fix.
    await integrity.record(
        db_session=db_session,
        ctx=ctx,
        outbox_ids=outbox_ids,
        company=company,
        kind=ScoreKind.UPHELD_COMPLAINT,
        source=f"complaint:{ticket.id}",
        estate_id=complaint.estate_id,
        ticket_id=ticket.id,
        note=note[:1000],
    )
    if not (order_text or "").strip():
        move(db_session, ticket, complaint, Stage.RESOLVED, actor=ctx.actor, reason="upheld")
        await tell_resident(
            db_session=db_session,
            ticket=ticket,
            notice="complaint_resolved",
            outbox_ids=outbox_ids,
            number=ticket.public_number,
        )
        return None
    return await _order_rectification(
        db_session,
        ctx,
        outbox_ids,
        ticket,
        complaint,
        company,
        text=_text(order_text, "the order"),
        days=order_due_days,
        inspection=inspection,
    )


async def _dismiss(
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    ticket: Ticket,
    complaint: Complaint,
    *,
    finding: str,
) -> None:
    """Closes a complaint the authority did not uphold and tells the resident why."""
    move(db_session, ticket, complaint, Stage.DISMISSED, actor=ctx.actor, reason="not upheld")
    await tell_resident(
        db_session=db_session,
        ticket=ticket,
        notice="complaint_dismissed",
        outbox_ids=outbox_ids,
        number=ticket.public_number,
        finding=finding,
    )


async def _close_inspection(
    db_session: AsyncSession, ctx: Context, ticket: Ticket, *, upheld: bool, note: str
) -> Inspection | None:
    """Marks the complaint's planned inspection done with the finding; None if none was
    planned (the authority may find on a complaint it took straight from triage)."""
    inspection = await db_session.scalar(
        select(Inspection)
        .where(Inspection.ticket_id == ticket.id, Inspection.status == InspectionStatus.PLANNED)
        .order_by(Inspection.id.desc())
        .limit(1)
    )
    if inspection is not None:
        inspection.status = InspectionStatus.DONE
        inspection.done_at = ctx.now
        inspection.inspector = ctx.actor
        inspection.passed = not upheld
        inspection.note = note
    return inspection


async def _order_rectification(
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    ticket: Ticket,
    complaint: Complaint,
    company: PropertyCompany,
    *,
    text: str,
    days: int | None,
    inspection: Inspection | None,
) -> RectificationOrder:
    """Issues the order an upheld finding calls for; the complaint waits on it."""
    assert complaint.estate_id is not None
    order = await issue_order(
        db_session=db_session,
        ctx=ctx,
        outbox_ids=outbox_ids,
        company=company,
        estate_id=complaint.estate_id,
        text=text,
        days=days,
        ticket_id=ticket.id,
        inspection_id=inspection.id if inspection is not None else None,
    )
    # The ticket's clock is now the order's: the company has until then to put it right.
    ticket.due_at = order.due_at
    ticket.overdue = False
    move(db_session, ticket, complaint, Stage.RECTIFYING, actor=ctx.actor, order=order.id)
    await tell_resident(
        db_session=db_session,
        ticket=ticket,
        notice="complaint_upheld",
        outbox_ids=outbox_ids,
        number=ticket.public_number,
        due=f"{local_day(ctx.settings, order.due_at)}",
    )
    return order


async def issue_order(
    *,
    db_session: AsyncSession,
    ctx: Context,
    outbox_ids: list[int],
    company: PropertyCompany,
    estate_id: int,
    text: str,
    days: int | None = None,
    ticket_id: int | None = None,
    inspection_id: int | None = None,
) -> RectificationOrder:
    """Issues a rectification order due in ``days`` working days (the default if None)."""
    _require_authority(ctx)
    days = days if days is not None else ctx.settings.complaints_rectification_days
    if not 1 <= days <= 365:
        raise IllegalStep("an order is due in 1 to 365 working days")
    order = RectificationOrder(
        company_id=company.id,
        estate_id=estate_id,
        ticket_id=ticket_id,
        inspection_id=inspection_id,
        text=text,
        status="open",
        due_at=working_days_after(ctx.routing, ctx.now, days),
        overdue=False,
        issued_by=ctx.actor,
        issued_at=ctx.now,
    )
    db_session.add(order)
    await db_session.flush()
    await tell_company(
        db_session=db_session,
        company=company,
        notice="order_for_company",
        outbox_ids=outbox_ids,
        order=str(order.id),
        due=f"{local_day(ctx.settings, order.due_at)}",
    )
    return order


# The resident's reply to "is it solved?": a yes or a no first, then anything they add.
_YES = frozenset(
    {"yes", "y", "ok", "solved", "да", "ага", "решено", "是", "是的", "好", "已解决", "同意", "1"}
)
_NO = frozenset({"no", "n", "not", "нет", "не", "неа", "否", "不", "没有", "未解决", "2"})
_NO_ZH = ("未解决", "没有解决", "不同意", "没有", "不", "否")
_YES_ZH = ("已解决", "解决了", "是的", "好的", "同意", "是")
_FIRST_WORD = re.compile(r"^\s*([^\s,.!;:]+)[\s,.!;:]*(.*)$", re.DOTALL)


def read_verdict(text: str) -> tuple[Verdict, str] | None:
    """Reads a yes / no reply in any of the three languages; None if it is neither."""
    normal = unicodedata.normalize("NFKC", text).strip()
    match = _FIRST_WORD.match(normal)
    if match is None:
        return None
    word, rest = match.group(1).casefold(), match.group(2).strip()
    if word in _YES:
        return Verdict.CONFIRMED, rest
    if word in _NO:
        return Verdict.DISPUTED, rest
    # Chinese needs no space: "不行，电梯还是坏的".
    for prefixes, verdict in ((_NO_ZH, Verdict.DISPUTED), (_YES_ZH, Verdict.CONFIRMED)):
        for prefix in prefixes:
            if normal.startswith(prefix):
                return verdict, normal[len(prefix) :].lstrip(" ，,。！!")
    return None


def confirm_deadline(ctx: Context, complaint: Complaint) -> bool:
    """Whether an answered complaint has waited long enough to count as confirmed."""
    if complaint.answered_at is None:
        return False
    return ctx.now >= complaint.answered_at + timedelta(days=ctx.settings.complaints_confirm_days)
