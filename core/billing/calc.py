"""The money rules of housing and utility billing (DOMAIN §4), as pure Decimal arithmetic.

No database and no settings objects here: every rule takes its numbers as arguments, so the
same functions serve the monthly charge run, an inquiry ("why did my charge change?") and
the tests that reproduce a year of an account to the kopeck.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum

KOPECK = Decimal("0.01")
ZERO = Decimal("0")


# The rounding of a computed amount to kopecks, by setting name (HUB_BILLING_ROUNDING).
ROUNDINGS = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def money(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Returns ``value`` rounded to kopecks (half up, as on Russian bills, by default)."""
    return value.quantize(KOPECK, rounding=rounding)


def plain(value: Decimal) -> str:
    """Returns a quantity without trailing zeros or an exponent: 520, not 5.2E+2."""
    text = format(value.normalize(), "f")
    return text


class Basis(StrEnum):
    METERED = "metered"  # the meter's volume for the period
    AVERAGE = "average"  # no reading: the average of earlier metered months
    NORMATIVE = "normative"  # no meter, or the average may no longer be used
    AREA = "area"  # heating and maintenance: by the premises' area
    INITIAL = "initial"  # a meter's first reading: its baseline; the norm is charged


@dataclass(frozen=True)
class Volume:
    basis: Basis
    quantity: Decimal


def normative_volume(*, normative: Decimal, residents: int) -> Decimal:
    """Returns the normative volume: the per-person norm times registered residents."""
    if residents < 0 or normative < 0:
        raise ValueError("the norm and the number of residents cannot be negative")
    return normative * residents


def volume_without_reading(
    *,
    metered_history: Sequence[Decimal],
    periods_without_reading: int,
    average_window: int,
    min_months: int,
    average_cap: int,
    normative: Decimal,
) -> Volume:
    """Returns the volume to charge for a period with no reading submitted.

    The average of the last ``average_window`` metered months is used, if there are at
    least ``min_months`` of them, for up to ``average_cap`` periods in a row; after that
    (or without enough history) the normative volume.
    """
    if periods_without_reading < 1:
        raise ValueError("this is for periods without a reading")
    recent = list(metered_history)[-average_window:]
    if len(recent) >= min_months and periods_without_reading <= average_cap:
        return Volume(Basis.AVERAGE, sum(recent, ZERO) / len(recent))
    return Volume(Basis.NORMATIVE, normative)


def charge(*, quantity: Decimal, tariff: Decimal) -> Decimal:
    """Returns the charge for a quantity at a tariff, in kopecks."""
    if quantity < 0 or tariff < 0:
        raise ValueError("quantities and tariffs cannot be negative")
    return money(quantity * tariff)


class ReadingVerdict(StrEnum):
    ACCEPTED = "accepted"
    REVIEW = "review"  # accepted for review: far above the usual (unauthorised use?)
    REJECTED = "rejected"


@dataclass(frozen=True)
class ReadingCheck:
    verdict: ReadingVerdict
    reason: str | None = None
    volume: Decimal | None = None


def check_reading(
    *,
    value: Decimal,
    previous: Decimal | None,
    usual_monthly: Decimal | None,
    band: Decimal = Decimal(3),
    max_digits: int = 8,
) -> ReadingCheck:
    """Returns whether a meter reading is taken, taken for review, or refused (and why).

    The reason is a message id the caller translates: ``reading:negative`` and so on.
    """
    if value < 0:
        return ReadingCheck(ReadingVerdict.REJECTED, "reading:negative")
    if value >= Decimal(10) ** max_digits:
        return ReadingCheck(ReadingVerdict.REJECTED, "reading:too_many_digits")
    if previous is None:
        return ReadingCheck(ReadingVerdict.ACCEPTED, volume=None)
    if value < previous:
        return ReadingCheck(ReadingVerdict.REJECTED, "reading:lower_than_previous")
    volume = value - previous
    if usual_monthly is not None and usual_monthly > 0 and volume > usual_monthly * band:
        return ReadingCheck(ReadingVerdict.REVIEW, "reading:far_above_usual", volume)
    return ReadingCheck(ReadingVerdict.ACCEPTED, volume=volume)


QUALITY_RATE_PER_HOUR = Decimal("0.0015")  # 0.15 % of the month's fee per excess hour


def quality_reduction(
    *,
    fee: Decimal,
    hours_interrupted: Decimal,
    hours_allowed: Decimal,
    rate_per_hour: Decimal = QUALITY_RATE_PER_HOUR,
    rounding: str = ROUND_HALF_UP,
) -> Decimal:
    """Returns how much a month's fee is reduced for interruptions beyond the allowed hours.

    DOMAIN §4 example: fee 1,000, 20 h without hot water, 8 h allowed → 12 h × 0.15 % = 18.
    The reduction never exceeds the fee.
    """
    excess = max(ZERO, hours_interrupted - hours_allowed)
    return money(min(fee, fee * rate_per_hour * excess), rounding)


ABSENCE_MIN_DAYS = 5


def absence_reduction(
    *,
    fee: Decimal,
    days_absent: int,
    days_in_period: int,
    min_days: int = ABSENCE_MIN_DAYS,
    rounding: str = ROUND_HALF_UP,
) -> Decimal:
    """Returns the recalculation for a temporary absence: proportional to the days away,
    only when the absence is longer than ``min_days`` full days."""
    if not 0 <= days_absent <= days_in_period or days_in_period <= 0:
        raise ValueError("days absent must lie within the period")
    if days_absent <= min_days:
        return ZERO
    return money(fee * days_absent / days_in_period, rounding)


@dataclass(frozen=True)
class Allocation:
    by_service: dict[str, Decimal]
    advance: Decimal  # paid beyond the bill, kept for the next one


def allocate_payment(
    *,
    amount: Decimal,
    billed: Mapping[str, Decimal],
    chosen: Mapping[str, Decimal] | None = None,
) -> Allocation:
    """Splits a payment on one account across its services.

    As the payer chose, if they did; otherwise pro rata to the amounts billed, in kopecks,
    with the rounding remainder going to the largest fractions so the parts add up to the
    payment exactly. Whatever exceeds the bill is an advance. DOMAIN §4: bill 3,000
    (1,000 / 1,500 / 500), paid 1,500 → 500 / 750 / 250.
    """
    if amount <= 0:
        raise ValueError("a payment must be positive")
    if any(value < 0 for value in billed.values()):
        raise ValueError("billed amounts cannot be negative")
    if chosen:
        unknown = set(chosen) - set(billed)
        if unknown:
            raise ValueError(f"payment allocated to services not billed: {sorted(unknown)}")
        if any(value < 0 for value in chosen.values()) or sum(chosen.values(), ZERO) > amount:
            raise ValueError("the chosen allocation must be positive and within the payment")
        parts = {service: money(value) for service, value in chosen.items()}
        return Allocation(parts, money(amount - sum(parts.values(), ZERO)))

    total = sum(billed.values(), ZERO)
    if total == 0:
        return Allocation({service: ZERO for service in billed}, money(amount))
    covered = min(amount, total)
    exact = {service: covered * value / total for service, value in billed.items()}
    parts = {
        service: value.quantize(KOPECK, rounding=ROUND_DOWN) for service, value in exact.items()
    }
    remainder = int((money(covered) - sum(parts.values(), ZERO)) / KOPECK)
    by_fraction = sorted(exact, key=lambda s: (exact[s] - parts[s], billed[s]), reverse=True)
    for service in by_fraction[:remainder]:
        parts[service] += KOPECK
    return Allocation(parts, money(amount - covered))
