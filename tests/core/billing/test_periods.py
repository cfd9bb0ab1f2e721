"""A billing period outside the calendar the hub can count in is refused with a reason."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from core.auth.enums import Role
from core.cli import main
from core.config import get_settings
from core.runtime import Hub
from tests.core.billing.factories import setup_billing
from tests.factories import api_key

# Year 0000 is not a date at all; 0001-01 and 9999-12 are, but a report or a charge run
# counts months before and after them, which leaves the calendar.
IMPOSSIBLE = ("0000-01", "0001-01", "9999-12")


@pytest.mark.parametrize("period", IMPOSSIBLE)
async def test_the_api_refuses_a_period_outside_the_calendar(
    client: httpx.AsyncClient, hub: Hub, period: str
) -> None:
    await setup_billing(hub)
    admin = await api_key(hub, Role.ADMIN)
    answers = [
        await client.get(f"/api/v1/billing/reports/losses?period={period}", headers=admin),
        await client.get(f"/api/v1/billing/reports/suppliers?period={period}", headers=admin),
        await client.post("/api/v1/billing/charge-runs", json={"period": period}, headers=admin),
        await client.post(
            "/api/v1/billing/building-readings",
            json={"serial": "B-1", "service": "cold_water", "period": period, "value": "1"},
            headers=admin,
        ),
        await client.post(
            "/api/v1/billing/accounts/7700001/absences",
            json={"service": "cold_water", "period": period, "days": 6},
            headers=admin,
        ),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert "year" in answer.text and "between" in answer.text


async def test_an_import_refuses_a_period_outside_the_calendar(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    await setup_billing(hub)
    headers = {**await api_key(hub, Role.ADMIN), "Content-Type": "text/csv"}
    answer = await client.post(
        "/api/v1/billing/imports/balances",
        content="account,service,amount,as_of\n7700001,cold_water,10,2026-01\n"
        "7700001,cold_water,10,0001-01\n",
        headers=headers,
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"line": 3, "reason": "as_of '0001-01': the year must be between 1900 and 2999"}
    ]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("HUB_DATABASE_URL", "HUB_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.mark.parametrize("period", IMPOSSIBLE)
def test_the_shell_refuses_a_period_outside_the_calendar(runner: CliRunner, period: str) -> None:
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    for args in (
        ["billing", "charge-run", period],
        ["billing", "report", "losses", "--period", period],
        ["billing", "report", "suppliers", "--period", period],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "year" in result.output and "between" in result.output
