"""DOMAIN §4 rules with the worked examples from the domain notes and our own."""

from decimal import Decimal as D

import pytest

from core.billing.calc import (
    Basis,
    ReadingVerdict,
    absence_reduction,
    allocate_payment,
    charge,
    check_reading,
    money,
    normative_volume,
    quality_reduction,
    volume_without_reading,
)
from core.billing.service import ChargeRules
from core.config import Settings


def test_partial_payment_is_split_pro_rata_to_the_bill() -> None:
    # DOMAIN §4: bill 3,000 (water 1,000 / heating 1,500 / maintenance 500), paid 1,500.
    split = allocate_payment(
        amount=D("1500"), billed={"water": D("1000"), "heating": D("1500"), "maintenance": D("500")}
    )
    assert split.by_service == {
        "water": D("500.00"),
        "heating": D("750.00"),
        "maintenance": D("250.00"),
    }
    assert split.advance == D("0.00")


def test_rounding_kopecks_still_add_up_to_the_payment() -> None:
    billed = {"a": D("100"), "b": D("100"), "c": D("100")}
    split = allocate_payment(amount=D("100"), billed=billed)
    assert sum(split.by_service.values()) == D("100.00")
    assert sorted(split.by_service.values()) == [D("33.33"), D("33.33"), D("33.34")]


def test_overpayment_becomes_an_advance_and_a_chosen_allocation_is_respected() -> None:
    over = allocate_payment(amount=D("3200"), billed={"water": D("1000"), "heating": D("2000")})
    assert over.by_service == {"water": D("1000.00"), "heating": D("2000.00")}
    assert over.advance == D("200.00")
    chosen = allocate_payment(
        amount=D("700"),
        billed={"water": D("1000"), "heating": D("2000")},
        chosen={"water": D("700")},
    )
    assert chosen.by_service == {"water": D("700.00")} and chosen.advance == D("0.00")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": D("0"), "billed": {"a": D("1")}}, "positive"),
        ({"amount": D("10"), "billed": {"a": D("1")}, "chosen": {"b": D("5")}}, "not billed"),
        ({"amount": D("10"), "billed": {"a": D("1")}, "chosen": {"a": D("11")}}, "within"),
    ],
)
def test_bad_payments_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        allocate_payment(**kwargs)


def test_hot_water_interruptions_reduce_the_fee() -> None:
    # DOMAIN §4: fee 1,000, 20 h without hot water, 8 h allowed → (20 − 8) × 0.15 % = −18.
    assert quality_reduction(fee=D("1000"), hours_interrupted=D("20"), hours_allowed=D("8")) == D(
        "18.00"
    )
    assert quality_reduction(fee=D("1000"), hours_interrupted=D("8"), hours_allowed=D("8")) == D(
        "0.00"
    )
    # Heating: 24 h allowed a month; a whole month off can never cost more than the fee.
    assert quality_reduction(
        fee=D("2345.67"), hours_interrupted=D("744"), hours_allowed=D("24")
    ) == D("2345.67")


def test_temporary_absence_over_five_full_days_is_recalculated() -> None:
    assert absence_reduction(fee=D("930"), days_absent=5, days_in_period=31) == D("0")
    assert absence_reduction(fee=D("930"), days_absent=6, days_in_period=31) == D("180.00")
    with pytest.raises(ValueError):
        absence_reduction(fee=D("930"), days_absent=40, days_in_period=31)


def test_missing_readings_use_the_average_then_the_normative() -> None:
    history = [D("5.0"), D("6.0"), D("7.0"), D("4.0")]
    first = volume_without_reading(
        metered_history=history,
        periods_without_reading=1,
        average_window=3,
        min_months=3,
        average_cap=3,
        normative=D("9.1"),
    )
    assert first.basis is Basis.AVERAGE and first.quantity == D("17.0") / 3
    fourth = volume_without_reading(
        metered_history=history,
        periods_without_reading=4,
        average_window=3,
        min_months=3,
        average_cap=3,
        normative=D("9.1"),
    )
    assert fourth.basis is Basis.NORMATIVE and fourth.quantity == D("9.1")
    young = volume_without_reading(
        metered_history=[D("5")],
        periods_without_reading=1,
        average_window=6,
        min_months=3,
        average_cap=3,
        normative=D("9.1"),
    )
    assert young.basis is Basis.NORMATIVE


def test_no_meter_means_norm_times_registered_residents() -> None:
    # Cold water norm 4.745 m³ a person, 3 residents, tariff 42.30 → 602.14.
    volume = normative_volume(normative=D("4.745"), residents=3)
    assert volume == D("14.235") and charge(quantity=volume, tariff=D("42.30")) == D("602.14")


@pytest.mark.parametrize(
    ("value", "previous", "usual", "verdict", "reason"),
    [
        (D("120.5"), D("115.2"), D("5.0"), ReadingVerdict.ACCEPTED, None),
        (D("110.0"), D("115.2"), D("5.0"), ReadingVerdict.REJECTED, "reading:lower_than_previous"),
        (D("-1"), None, None, ReadingVerdict.REJECTED, "reading:negative"),
        (D("160.0"), D("115.2"), D("5.0"), ReadingVerdict.REVIEW, "reading:far_above_usual"),
        (D("123456789"), D("1"), None, ReadingVerdict.REJECTED, "reading:too_many_digits"),
        (D("50"), None, None, ReadingVerdict.ACCEPTED, None),
    ],
)
def test_readings_are_checked_against_the_last_one_and_the_usual(
    value: D, previous: D | None, usual: D | None, verdict: ReadingVerdict, reason: str | None
) -> None:
    result = check_reading(value=value, previous=previous, usual_monthly=usual)
    assert (result.verdict, result.reason) == (verdict, reason)


def test_a_quarter_of_one_account_to_the_kopeck() -> None:
    """Hot water with a meter, tariff 205.15 ₽/m³, 8 h of interruptions allowed a month.

    January: reading 100.000 → 104.250 (4.25 m³). February: reading 111.000 (6.75 m³),
    and 14 h without hot water. March: no reading, and only two metered months (three
    are needed for an average), so the normative: 3.5 m³ × 2 residents. Payments: 600 in
    February, 3,000 in March.
    """
    tariff = D("205.15")
    january = charge(quantity=D("104.250") - D("100.000"), tariff=tariff)
    assert january == D("871.89")
    february_gross = charge(quantity=D("111.000") - D("104.250"), tariff=tariff)
    february = february_gross - quality_reduction(
        fee=february_gross, hours_interrupted=D("14"), hours_allowed=D("8")
    )
    assert (february_gross, february) == (D("1384.76"), D("1372.30"))
    march_volume = volume_without_reading(
        metered_history=[D("4.25"), D("6.75")],
        periods_without_reading=1,
        average_window=6,
        min_months=3,
        average_cap=3,
        normative=normative_volume(normative=D("3.5"), residents=2),
    )
    assert march_volume.basis is Basis.NORMATIVE
    march = charge(quantity=march_volume.quantity, tariff=tariff)
    assert march == D("1436.05")
    assert january + february + march - D("600") - D("3000") == D("80.24")


def test_rounding_follows_the_setting() -> None:
    half_up = ChargeRules.from_settings(Settings()).rounding
    half_even = ChargeRules.from_settings(Settings(billing_rounding="half_even")).rounding
    assert money(D("0.365"), half_up) == D("0.37") and money(D("0.365"), half_even) == D("0.36")
    # 243.33 × 0.15 % × 1 h = 0.364995 → 0.36 either way; 0.365 only at the tie.
    reduction = {"fee": D("243.33"), "hours_interrupted": D("9"), "hours_allowed": D("8")}
    assert quality_reduction(**reduction, rounding=half_even) == D("0.36")
