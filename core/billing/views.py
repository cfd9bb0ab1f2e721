"""REST API of the settlement centre: charge runs, payments, acts, readings, reports, imports.

City-wide operations (charge runs, statements, imports, supplier reports) need a city-wide
supervisor. Work on one account or building is for staff whose territory contains it; the
settlement centre's own staff are scoped to the department with code ``billing``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.enums import Role
from core.auth.service import Principal
from core.billing import (
    access,
    calc,
    identity,
    inquiries,
    payments,
    readings,
    recalculations,
    reports,
)
from core.billing.imports import IMPORTERS
from core.billing.models import BillingService, Payment
from core.billing.schemas import (
    AbsenceIn,
    AccountSummary,
    BuildingReadingIn,
    ChargeRunIn,
    ChargeRunOut,
    PaymentIn,
    PaymentOut,
    Period,
    PinIn,
    QualityActIn,
    ReadingOut,
    ReviewIn,
    StatementOut,
    period_start,
)
from core.billing.service import ChargeRules, run_charges
from core.db import utcnow
from core.importing.schemas import ImportOut
from core.importing.service import ImportOptions, ImportRejected, run_import
from core.territory.models import Account, Building
from core.web.deps import (
    ADMIN_ROLES,
    INTAKE_ROLES,
    CityAdminDep,
    DbId,
    HubDep,
    SessionDep,
    require_roles,
)

router = APIRouter(prefix="/billing", tags=["billing"])
# The call centre, and the settlement centre's own operators (role department, scope the
# department with code ``billing``; another department's staff reach no account).
BILLING_ROLES = (*INTAKE_ROLES, Role.DEPARTMENT)
StaffDep = Annotated[Principal, Depends(require_roles(*BILLING_ROLES))]
SupervisorDep = Annotated[Principal, Depends(require_roles(*ADMIN_ROLES))]
AccountNumber = Annotated[str, Path(pattern=r"^\d{5,12}$")]
Format = Annotated[Literal["json", "csv"], Query()]
CSV_BODY = Annotated[str, Body(media_type="text/csv", max_length=20_000_000)]
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT


async def _account(db_session: AsyncSession, principal: Principal, number: str) -> Account:
    """Returns the account if it exists inside the caller's territory, else 404."""
    try:
        return await access.account_in_scope(
            db_session=db_session, principal=principal, number=number
        )
    except access.AccountNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such account") from exc


def _rows(lines: Sequence[Any]) -> list[dict[str, Any]]:
    """Returns report lines for JSON with money as strings: floats would lose kopecks."""
    return [
        {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(line).items()}
        for line in lines
    ]


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.post("/charge-runs", response_model=ChargeRunOut)
async def create_charge_run(
    body: ChargeRunIn, hub: HubDep, db_session: SessionDep, _principal: CityAdminDep
) -> ChargeRunOut:
    """Charges every account for a period; running it again replaces that period."""
    settings = hub.settings
    rules = ChargeRules.from_settings(settings)
    report = await run_charges(db_session=db_session, period=period_start(body.period), rules=rules)
    await db_session.commit()
    return ChargeRunOut(
        period=report.period,
        charges=report.charges,
        total=report.total,
        by_basis=report.by_basis,
        missing_tariffs=report.missing_tariffs,
    )


@router.get("/accounts/{number}", response_model=AccountSummary)
async def get_account(
    number: AccountNumber, db_session: SessionDep, principal: StaffDep
) -> AccountSummary:
    """Returns what an agent needs on the phone: balance, last bill, payments, readings."""
    account = await _account(db_session, principal, number)
    return AccountSummary(
        balance=await inquiries.balance(db_session=db_session, account=account),
        bill=await inquiries.breakdown(db_session=db_session, account=account),
        payments=await inquiries.last_payments(db_session=db_session, account=account, limit=12),
        readings=await inquiries.last_readings(db_session=db_session, account=account),
    )


@router.get("/accounts/{number}/why")
async def get_why(
    number: AccountNumber, db_session: SessionDep, principal: StaffDep
) -> dict[str, object]:
    """Returns how the last bill differs from the one before, service by service."""
    account = await _account(db_session, principal, number)
    return await inquiries.why_changed(db_session=db_session, account=account)


async def _chosen_split(
    db_session: AsyncSession, allocation: dict[str, Decimal] | None
) -> dict[int, Decimal] | None:
    """Returns the payer's split by service id, or None for pro rata; 422 on unknown codes."""
    if not allocation:
        return None
    ids = dict(
        (
            await db_session.execute(
                select(BillingService.code, BillingService.id).where(
                    BillingService.code.in_(allocation)
                )
            )
        ).all()
    )
    unknown = sorted(set(allocation) - set(ids))
    if unknown:
        raise HTTPException(UNPROCESSABLE, f"unknown services: {', '.join(unknown)}")
    return {ids[code]: amount for code, amount in allocation.items()}


async def _payment_out(db_session: AsyncSession, payment: Payment) -> PaymentOut:
    parts = await payments.allocations(db_session=db_session, payment_id=payment.id)
    return PaymentOut(
        id=payment.id,
        amount=payment.amount,
        allocated={code: amount for code, amount in parts.items() if code},
        advance=parts.get("", Decimal(0)),
    )


@router.post("/accounts/{number}/payments", response_model=PaymentOut, status_code=201)
async def create_payment(
    number: AccountNumber,
    body: PaymentIn,
    db_session: SessionDep,
    principal: StaffDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=100)] = None,
) -> PaymentOut:
    """Records a payment taken by a cashier; split pro rata unless the payer chose.

    With an ``Idempotency-Key`` a retry of the same request returns the first payment, and
    the key reused for a different request is refused (IETF Idempotency-Key draft).
    """
    account = await _account(db_session, principal, number)
    chosen = await _chosen_split(db_session, body.allocation)
    # Keys are the client's: two tills choosing "1" must not share one payment.
    key = f"{principal.actor}:{idempotency_key}" if idempotency_key is not None else None
    request_hash = hashlib.sha256(f"{number}:{body.model_dump_json()}".encode()).hexdigest()
    try:
        payment = await payments.record_payment(
            db_session=db_session,
            account_number=account.number,
            paid_on=body.paid_on,
            amount=body.amount,
            source="manual",
            external_id=body.external_id,
            chosen=chosen,
            idempotency_key=key,
            request_hash=request_hash,
        )
    except payments.PaymentRejected as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc
    except IntegrityError as exc:  # the same external id or key recorded a moment ago
        await db_session.rollback()
        payment = await _recorded_meanwhile(db_session, key, request_hash)
        if payment is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "this payment is already recorded"
            ) from exc
    if payment is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "this payment is already recorded")
    out = await _payment_out(db_session, payment)
    await db_session.commit()
    return out


async def _recorded_meanwhile(
    db_session: AsyncSession, key: str | None, request_hash: str
) -> Payment | None:
    """Returns the payment a concurrent retry under the same key recorded first."""
    if key is None:
        return None
    try:
        return await payments.get_by_idempotency_key(
            db_session=db_session, idempotency_key=key, request_hash=request_hash
        )
    except payments.IdempotencyKeyReused as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc


@router.put("/accounts/{number}/pin", status_code=204)
async def set_pin(
    number: AccountNumber, body: PinIn, hub: HubDep, db_session: SessionDep, principal: StaffDep
) -> None:
    """Sets the account's PIN (printed on the next bill, or told to the holder in person)."""
    account = await _account(db_session, principal, number)
    await identity.set_pin(
        db_session=db_session,
        account=account,
        pin=body.pin,
        secret=hub.settings.secret_key.get_secret_value(),
    )
    await db_session.commit()


@router.post("/accounts/{number}/absences", status_code=201)
async def create_absence(
    number: AccountNumber,
    body: AbsenceIn,
    hub: HubDep,
    db_session: SessionDep,
    principal: StaffDep,
) -> dict[str, str]:
    """Recalculates a service for a temporary absence, on the resident's application."""
    account = await _account(db_session, principal, number)
    try:
        amount = await recalculations.record_absence(
            db_session=db_session,
            account_number=account.number,
            service_code=body.service,
            period=period_start(body.period),
            days_absent=body.days,
            rounding=calc.ROUNDINGS[hub.settings.billing_rounding],
        )
    except recalculations.RecalculationRejected as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc
    await db_session.commit()
    return {"amount": str(amount)}


@router.post("/quality-acts", status_code=201)
async def create_quality_act(
    body: QualityActIn, hub: HubDep, db_session: SessionDep, principal: SupervisorDep
) -> dict[str, int]:
    """Records an under-delivery act for a building: every account's fee is reduced."""
    building_id = await db_session.scalar(select(Building.id).where(Building.code == body.building))
    if building_id is None or not await access.in_scope(db_session, principal, building_id):
        raise HTTPException(UNPROCESSABLE, f"unknown building {body.building!r}")
    try:
        changed = await recalculations.record_quality_act(
            db_session=db_session,
            building_id=building_id,
            service_code=body.service,
            period=period_start(body.period),
            hours=body.hours,
            rounding=calc.ROUNDINGS[hub.settings.billing_rounding],
        )
    except recalculations.RecalculationRejected as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc
    await db_session.commit()
    return {"accounts": changed}


@router.get("/readings/review", response_model=list[ReadingOut])
async def list_readings_for_review(
    db_session: SessionDep, principal: StaffDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ReadingOut]:
    """Returns readings held for review (far above the usual) in the caller's territory."""
    held = await access.readings_for_review(db_session=db_session, principal=principal, limit=limit)
    return [ReadingOut.model_validate(item, from_attributes=True) for item in held]


@router.post("/readings/{reading_id}/review")
async def review_reading(
    reading_id: DbId, body: ReviewIn, db_session: SessionDep, principal: StaffDep
) -> dict[str, str]:
    """Lets a held reading stand, or strikes it out (the next charge run follows)."""
    try:
        await access.reading_in_scope(
            db_session=db_session, principal=principal, reading_id=reading_id
        )
    except access.AccountNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such reading") from exc
    try:
        reading = await readings.review_reading(
            db_session=db_session,
            reading_id=reading_id,
            accept=body.accept,
            reviewer=principal.actor,
            now=utcnow(),
        )
    except readings.ReviewRejected as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    await db_session.commit()
    return {"status": str(reading.status)}


@router.post("/building-readings", status_code=204)
async def create_building_reading(
    body: BuildingReadingIn, db_session: SessionDep, _principal: CityAdminDep
) -> None:
    """Records a building meter's reading for a period (again corrects it)."""
    try:
        await readings.record_building_reading(
            db_session=db_session,
            serial=body.serial,
            service_code=body.service,
            period=period_start(body.period),
            value=body.value,
        )
    except readings.ReadingRejected as exc:
        raise HTTPException(UNPROCESSABLE, f"no building meter {body.serial!r}") from exc
    await db_session.commit()


@router.post("/statements", response_model=StatementOut)
async def import_statement(
    text: CSV_BODY, db_session: SessionDep, _principal: CityAdminDep
) -> StatementOut:
    """Imports a bank statement (docs/import-formats.md); payments seen before are skipped."""
    try:
        report = await payments.import_statement(db_session=db_session, text=text)
    except IntegrityError as exc:  # the same statement being imported at the same time
        raise HTTPException(
            status.HTTP_409_CONFLICT, "these payments are being recorded now; try again"
        ) from exc
    except payments.StatementRejected as exc:
        raise HTTPException(
            UNPROCESSABLE,
            [{"line": line, "reason": reason} for line, reason in exc.report.rejected],
        ) from exc
    await db_session.commit()
    return StatementOut(recorded=report.recorded, duplicates=report.already_recorded)


@router.post("/imports/{what}", response_model=ImportOut)
async def import_file(
    what: str, text: CSV_BODY, hub: HubDep, db_session: SessionDep, _principal: CityAdminDep
) -> ImportOut:
    """Imports a billing CSV file: all rows or, if any is bad, none (with every reason)."""
    if what not in IMPORTERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no importer {what!r}")
    settings = hub.settings
    options = ImportOptions(
        secret=settings.secret_key.get_secret_value(),
        region=settings.phone_region,
        language=settings.default_language,
    )
    try:
        report = await run_import(
            db_session=db_session, importers=IMPORTERS, what=what, text=text, options=options
        )
    except ImportRejected as exc:
        await db_session.rollback()
        raise HTTPException(
            UNPROCESSABLE,
            [{"line": line, "reason": reason} for line, reason in exc.report.rejected],
        ) from exc
    await db_session.commit()
    return ImportOut(created=report.created, updated=report.updated, unchanged=report.unchanged)


@router.get("/reports/suppliers", response_model=None)
async def supplier_report(
    period: Annotated[Period, Query()],
    db_session: SessionDep,
    _principal: CityAdminDep,
    format: Format = "json",  # noqa: A002 (the query parameter's public name)
) -> Response | list[dict[str, Any]]:
    """Returns billed, recalculated, paid and debt per supplier for a period."""
    lines = await reports.supplier_report(db_session=db_session, period=period_start(period))
    if format == "csv":
        return _csv(reports.to_csv(lines, reports.SupplierLine), f"suppliers-{period}")
    return _rows(lines)


@router.get("/reports/debtors", response_model=None)
async def debtor_report(
    db_session: SessionDep,
    _principal: CityAdminDep,
    min_owed: Annotated[Decimal, Query(ge=0, lt=Decimal(10) ** 9)] = Decimal(0),
    format: Format = "json",  # noqa: A002
) -> Response | list[dict[str, Any]]:
    """Returns accounts owing at least ``min_owed``, largest debt first."""
    lines = await reports.debtors(db_session=db_session, min_owed=min_owed)
    if format == "csv":
        return _csv(reports.to_csv(lines, reports.DebtorLine), "debtors")
    return _rows(lines)


@router.get("/reports/losses", response_model=None)
async def losses_report(
    period: Annotated[Period, Query()],
    db_session: SessionDep,
    _principal: CityAdminDep,
    format: Format = "json",  # noqa: A002
) -> Response | list[dict[str, Any]]:
    """Returns supplied-against-billed volumes per building meter for a period."""
    lines = await reports.building_losses(db_session=db_session, period=period_start(period))
    if format == "csv":
        return _csv(reports.to_csv(lines, reports.LossLine), f"losses-{period}")
    return _rows(lines)
