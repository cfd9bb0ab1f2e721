"""Billing CSV imports: the sample files in, twice; bad rows reported, nothing half-written."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.billing.models import AccountService, Meter, MeterReading, Recalculation
from core.db import transaction
from core.importing.service import ImportOptions, ImportRejected, ImportReport
from core.imports import import_csv
from core.intake.service import receive
from core.runtime import Hub
from core.territory.models import Account
from tests.factories import inbound

SAMPLES = Path(__file__).parents[3] / "core" / "billing" / "demo_data"
ORDER = ("suppliers", "services", "tariffs", "accounts", "meters", "building_meters", "balances")


async def load(hub: Hub, what: str, text: str) -> ImportReport:
    options = ImportOptions(secret=hub.settings.secret_key.get_secret_value())
    async with transaction(hub.session_factory) as session:
        return await import_csv(db_session=session, what=what, text=text, options=options)


async def count(hub: Hub, model: type) -> int:
    async with hub.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_sample_files_import_and_a_second_import_changes_nothing(hub: Hub) -> None:
    first = {what: await load(hub, what, (SAMPLES / f"{what}.csv").read_text()) for what in ORDER}
    assert first["accounts"].created == 3 and first["meters"].created == 5
    assert first["tariffs"].created == 8 and first["balances"].created == 3
    rows = {m: await count(hub, m) for m in (AccountService, MeterReading, Recalculation)}
    assert rows == {AccountService: 15, MeterReading: 5, Recalculation: 3}

    again = {what: await load(hub, what, (SAMPLES / f"{what}.csv").read_text()) for what in ORDER}
    assert all(r.created == 0 and r.updated == 0 for r in again.values()), again
    assert {m: await count(hub, m) for m in rows} == rows


async def test_an_imported_holder_asks_by_sms_and_hears_the_opening_balance(hub: Hub) -> None:
    for what in ORDER:
        await load(hub, what, (SAMPLES / f"{what}.csv").read_text())
    result = await receive(hub=hub, message=inbound("баланс", sender="+79002000001"))
    # Opening debt 1382.10 for maintenance, a credit of 250.00 for heating.
    assert result.replies[0].text == "ЛС 7800001: к оплате 1\xa0132,10\xa0₽."
    # The Chinese holder proves another account with its PIN from the file.
    result = await receive(hub=hub, message=inbound("余额", sender="+79002000002"))
    assert result.replies[0].text == "账户7800002：应缴310.55卢布。"


async def test_every_bad_row_is_reported_and_nothing_is_written(hub: Hub) -> None:
    for what in ORDER[:3]:
        await load(hub, what, (SAMPLES / f"{what}.csv").read_text())
    before = await count(hub, Account)
    text = (
        "account,building,premises,area,residents,holder_phone,services,pin\n"
        "7900001,b001,201,40.5,1,+79002000101,cold_water,1234\n"  # good, but not alone
        "7900002,b001,202,abc,1,,cold_water,\n"
        "7900003,zz9,203,40,1,,cold_water,\n"
        "7900004,b001,204,40,1,not a phone,cold_water,\n"
        "7900005,b001,205,40,1,,cold_water|sauna,\n"
        "7900006,b001,206,40,1,,cold_water,12\n"
        "79,b001,207,40,1,,cold_water,\n"
        "7900008,b001,208,-3,1,,cold_water,\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        await load(hub, "accounts", text)
    assert rejected.value.report.rejected == [
        (3, "area is not a number: 'abc'"),
        (4, "unknown building 'zz9'"),
        (5, "not a phone number"),
        (6, "unknown service 'sauna'"),
        (7, "a PIN is 4 to 8 digits"),
        (8, "account must be 5 to 12 digits"),
        (9, "area must be positive"),
    ]
    assert await count(hub, Account) == before


async def test_bad_meter_and_balance_rows_name_the_problem(hub: Hub) -> None:
    for what in ORDER[:4]:
        await load(hub, what, (SAMPLES / f"{what}.csv").read_text())
    with pytest.raises(ImportRejected) as rejected:
        await load(
            hub,
            "meters",
            "account,service,serial,reading,period\n"
            "7800001,cold_water,CW-X,-1,2026-09\n"
            "9999999,cold_water,CW-Y,,\n"
            "7800001,cold_water,CW-Z,5,September\n",
        )
    assert [reason for _line, reason in rejected.value.report.rejected] == [
        "reading cannot be negative",
        "unknown account '9999999'",
        "period must be YYYY-MM or YYYY-MM-DD: 'September'",
    ]
    assert await count(hub, Meter) == 0
    with pytest.raises(ImportRejected) as rejected:
        await load(hub, "balances", "account,service,amount,as_of\n7800001,waste,1e400,2026-09\n")
    assert rejected.value.report.rejected == [(2, "amount is not a plausible number: '1e400'")]


async def test_a_changed_service_list_is_applied_exactly(hub: Hub) -> None:
    for what in ORDER[:4]:
        await load(hub, what, (SAMPLES / f"{what}.csv").read_text())
    report = await load(
        hub,
        "accounts",
        "account,building,premises,area,residents,services\n7800003,b002,K1,120,0,electricity\n",
    )
    assert report.updated == 0 and report.unchanged == 1
    async with hub.session_factory() as session:
        account_id = await session.scalar(select(Account.id).where(Account.number == "7800003"))
        services = await session.scalar(
            select(func.count()).where(AccountService.account_id == account_id)
        )
    assert services == 1


async def test_short_long_and_oversized_rows_are_reported_not_crashed(hub: Hub) -> None:
    with pytest.raises(ImportRejected) as rejected:
        await load(hub, "suppliers", "code,name_en\nwater\n" + "x" * 40 + ",X\n")
    assert rejected.value.report.rejected == [
        (2, "name_en is required"),
        (3, "code is longer than 32 characters"),
    ]
    for what in ORDER[:3]:
        await load(hub, what, (SAMPLES / f"{what}.csv").read_text())
    with pytest.raises(ImportRejected) as rejected:
        await load(
            hub,
            "accounts",
            "account,building,premises,area,residents\n"
            "7900001,b001,1,40,99999999999999999999\n"
            "7900002,b001,2,300000000,1\n",
        )
    assert [reason for _line, reason in rejected.value.report.rejected] == [
        "residents must be between 0 and 1000",
        "area is not a plausible number: '300000000'",
    ]


async def test_a_meter_reading_goes_to_the_meter_of_its_own_service(hub: Hub) -> None:
    for what in ORDER[:4]:
        await load(hub, what, (SAMPLES / f"{what}.csv").read_text())
    await load(
        hub,
        "meters",
        "account,service,serial,reading,period\n"
        "7800002,cold_water,M1,10,2026-09\n"
        "7800001,hot_water,M1,20,2026-09\n",
    )
    async with hub.session_factory() as session:
        rows = (
            await session.execute(
                select(Meter.service_id, MeterReading.value)
                .join(MeterReading, MeterReading.meter_id == Meter.id)
                .where(Meter.serial == "M1")
                .order_by(MeterReading.value)
            )
        ).all()
    assert len(rows) == 2 and rows[0][0] != rows[1][0]
