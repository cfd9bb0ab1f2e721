"""Billing operator screens: an account at a glance (balance, the bill and why it changed,
payments, readings), readings held for review, and the cashier's payment with a receipt.

An account number is typed into a form and posted (never put in a URL), and the account is
reached only inside the operator's territory (``core.billing.access``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from channels.templates import render
from core.billing import access, inquiries, payments, readings
from core.billing.views import BILLING_ROLES
from core.db import utcnow
from core.i18n import format_money, gettext
from core.runtime import Hub
from core.web.deps import HubDep, SessionDep
from portal.console.auth import NotFound, Staff, allow
from portal.console.pages import page

router = APIRouter(prefix="/console/billing", include_in_schema=False)
OperatorDep = Annotated[Staff, Depends(allow(*BILLING_ROLES))]
Number = Annotated[str, Form(max_length=16)]
NOTICES = (
    "billing_balance",
    "billing_details",
    "billing_why",
    "billing_payments",
    "billing_readings",
)


async def _home(
    request: Request,
    db_session: AsyncSession,
    staff: Staff,
    *,
    error: str | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    held = await access.readings_for_review(
        db_session=db_session, principal=staff.principal, limit=50
    )
    return page(
        request,
        staff,
        "console/billing/home.html",
        held=held,
        error=error,
        status_code=status_code,
        **extra,
    )


@router.get("", response_class=HTMLResponse)
async def home(request: Request, db_session: SessionDep, staff: OperatorDep) -> Response:
    """Find an account, readings waiting for review, the cashier's form."""
    return await _home(request, db_session, staff)


async def _answers(db_session: AsyncSession, hub: Hub, account: Any, language: str) -> list[str]:
    """Returns the account as the resident reads it: balance, bill, why, payments, readings."""
    found = {
        "billing_balance": await inquiries.balance(db_session=db_session, account=account),
        "billing_details": await inquiries.breakdown(db_session=db_session, account=account),
        "billing_why": await inquiries.why_changed(db_session=db_session, account=account),
        "billing_payments": await inquiries.last_payments(
            db_session=db_session, account=account, limit=12
        ),
        "billing_readings": await inquiries.last_readings(db_session=db_session, account=account),
    }
    currency = hub.settings.billing_currency
    return [render("web", name, language, currency=currency, **found[name]) for name in NOTICES]


@router.post("/account", response_class=HTMLResponse)
async def account(
    request: Request, hub: HubDep, db_session: SessionDep, staff: OperatorDep, number: Number = ""
) -> Response:
    """The account, in the operator's territory."""
    try:
        found = await access.account_in_scope(
            db_session=db_session, principal=staff.principal, number=number.strip()
        )
    except access.AccountNotFound:
        error = gettext(staff.language, "No account with this number in your area.")
        return await _home(
            request, db_session, staff, error=error, status_code=404, account_number=number
        )
    answers = await _answers(db_session, hub, found, staff.language)
    return page(request, staff, "console/billing/account.html", account=found, answers=answers)


@router.post("/payment", response_class=HTMLResponse)
async def payment(
    request: Request,
    hub: HubDep,
    db_session: SessionDep,
    staff: OperatorDep,
    number: Number = "",
    amount: Annotated[str, Form(max_length=16)] = "",
    reference: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Takes a payment at the counter; the receipt page prints."""
    try:
        found = await access.account_in_scope(
            db_session=db_session, principal=staff.principal, number=number.strip()
        )
        money = Decimal(amount.replace(",", ".").replace(" ", ""))
        if not money.is_finite() or money <= 0 or money > Decimal("10000000"):
            raise payments.PaymentRejected("the amount must be positive")
        paid = await payments.record_payment(
            db_session=db_session,
            account_number=found.number,
            paid_on=utcnow().date(),
            amount=money.quantize(Decimal("0.01")),
            source="manual",
            external_id=f"till:{staff.id}:{reference.strip()}" if reference.strip() else None,
        )
    except (access.AccountNotFound, InvalidOperation, payments.PaymentRejected):
        error = gettext(staff.language, "Check the account number and the amount.")
        return await _home(
            request, db_session, staff, error=error, status_code=422, account_number=number
        )
    if paid is None:
        error = gettext(staff.language, "This payment is already recorded.")
        return await _home(
            request, db_session, staff, error=error, status_code=409, account_number=number
        )
    await db_session.commit()
    return page(
        request,
        staff,
        "console/billing/receipt.html",
        account=found,
        payment=paid,
        amount=format_money(staff.language, paid.amount, hub.settings.billing_currency),
        day=date.today(),
    )


@router.post("/readings/{reading_id}", response_class=HTMLResponse)
async def review(
    request: Request,
    reading_id: int,
    db_session: SessionDep,
    staff: OperatorDep,
    accept: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Lets a held reading stand, or strikes it out (the next charge run follows)."""
    try:
        await access.reading_in_scope(
            db_session=db_session, principal=staff.principal, reading_id=reading_id
        )
        await readings.review_reading(
            db_session=db_session,
            reading_id=reading_id,
            accept=accept == "yes",
            reviewer=staff.principal.actor,
            now=utcnow(),
        )
    except access.AccountNotFound as exc:
        raise NotFound(staff.language) from exc
    except readings.ReviewRejected as exc:
        await db_session.rollback()
        return await _home(request, db_session, staff, error=str(exc), status_code=409)
    await db_session.commit()
    notice = gettext(staff.language, "Reading reviewed.")
    return await _home(request, db_session, staff, notice=notice)
