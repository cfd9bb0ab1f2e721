"""``hub billing``: the monthly charge run, bank statements and reports from the shell (cron)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession


def _period(value: str) -> date:
    from core.billing.service import parse_period

    if not re.fullmatch(r"\d{4}-\d{2}", value):
        raise click.BadParameter("use YYYY-MM, e.g. 2026-11")
    try:
        return parse_period(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group()
def billing() -> None:
    """Settlement centre jobs: charge runs, statements, reports."""


@billing.command("charge-run")
@click.argument("period")
def charge_run(period: str) -> None:
    """Charges every account for PERIOD (YYYY-MM); running it again replaces the period."""
    from core.billing.service import ChargeRules, run_charges
    from core.config import get_settings
    from core.db import run_in_transaction

    start = _period(period)
    settings = get_settings()
    rules = ChargeRules.from_settings(settings)
    report = run_in_transaction(
        lambda session: run_charges(db_session=session, period=start, rules=rules)
    )
    click.echo(f"{report.charges} charges, total {report.total} for {period}")
    for basis, count in sorted(report.by_basis.items()):
        click.echo(f"  {basis}: {count}")
    if report.missing_tariffs:
        click.echo(f"no tariff, not charged: {', '.join(report.missing_tariffs)}", err=True)


@billing.command("statement")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def statement(path: Path) -> None:
    """Imports a bank statement CSV; payments already recorded are skipped."""
    from core.billing.payments import StatementRejected, import_statement
    from core.db import run_in_transaction

    text = path.read_text(encoding="utf-8-sig")
    try:
        report = run_in_transaction(lambda session: import_statement(db_session=session, text=text))
    except StatementRejected as exc:
        for line, reason in exc.report.rejected:
            click.echo(f"line {line}: {reason}", err=True)
        raise click.ClickException("nothing imported: fix the rows above") from exc
    click.echo(f"recorded {report.recorded}, already recorded {report.already_recorded}")


@billing.command("report")
@click.argument("kind", type=click.Choice(["suppliers", "debtors", "losses"]))
@click.option("--period", help="YYYY-MM (suppliers, losses)")
@click.option("--min-owed", type=Decimal, default=Decimal(0), show_default=True)
def report(kind: str, period: str | None, min_owed: Decimal) -> None:
    """Prints a report as CSV."""
    from core.billing import reports
    from core.db import run_in_transaction

    if kind != "debtors" and period is None:
        raise click.UsageError("--period is required for this report")
    start = _period(period) if period else None

    async def build(session: AsyncSession) -> str:
        if kind == "debtors":
            lines = await reports.debtors(db_session=session, min_owed=min_owed)
            return reports.to_csv(lines, reports.DebtorLine)
        assert start is not None
        if kind == "suppliers":
            suppliers = await reports.supplier_report(db_session=session, period=start)
            return reports.to_csv(suppliers, reports.SupplierLine)
        losses = await reports.building_losses(db_session=session, period=start)
        return reports.to_csv(losses, reports.LossLine)

    click.echo(run_in_transaction(build), nl=False)
