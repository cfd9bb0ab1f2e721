"""Deciding a question from its counts, by the rule set's threshold (DOMAIN §3).

Pure arithmetic on whole numbers: area is counted in 1e-8 m² (a 6-decimal share times a
2-decimal area is exact at 8 decimals), heads as integers, and every comparison is done on
fractions, so "exactly two thirds" is decided exactly, never by a float that happens to
round the right way. The same functions decide a live ballot from the database and a
closed one from its published audit list.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from core.votes.enums import OptionKind, Threshold

WEIGHT_SCALE = 10**8
CENT = Decimal("0.01")


def weight_of(area: Decimal) -> int:
    """Returns an area in m² as whole 1e-8 m² units (exact for 8 decimal places)."""
    scaled = area * WEIGHT_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"area {area} has more than 8 decimal places")
    return int(scaled)


def area_of(weight: int | Fraction) -> Decimal:
    """Returns weight units as m² (exact for whole units)."""
    if isinstance(weight, Fraction):
        return Decimal(weight.numerator) / Decimal(weight.denominator) / WEIGHT_SCALE
    return Decimal(weight) / WEIGHT_SCALE


def area_text(weight: int | Fraction, rounding: str = ROUND_HALF_UP) -> str:
    """Returns an area for people: two decimals, rounded as asked."""
    return str(area_of(weight).quantize(CENT, rounding=rounding))


def exact_area_text(weight: int) -> str:
    """Returns an area with every decimal it has (at least two): for audit lists."""
    value = area_of(weight).normalize()
    if value == value.to_integral_value() or -value.as_tuple().exponent < 2:  # type: ignore[operator]
        return str(value.quantize(CENT))
    return format(value, "f")


@dataclass(frozen=True)
class Totals:
    """All the votes there are: every unit's area, and every owner (China's head count)."""

    weight: int
    heads: int


@dataclass(frozen=True)
class Counted:
    """The counted votes for one option of a question."""

    code: str
    kind: OptionKind
    weight: int
    heads: int


@dataclass(frozen=True)
class Condition:
    """One test a question must pass: ``value`` against ``fraction`` of ``base``."""

    name: str
    measure: str  # "area" or "heads"
    value: int
    base: int
    fraction: Fraction
    strict: bool

    @property
    def required(self) -> Fraction:
        return self.base * self.fraction

    @property
    def met(self) -> bool:
        return self.value > self.required if self.strict else self.value >= self.required

    @property
    def margin(self) -> Fraction:
        """How far past (positive) or short of (negative) the bar the value is."""
        return self.value - self.required

    def as_dict(self) -> dict[str, Any]:
        # The bar is shown rounded the safe way: "≥ 3333.34" (up), "> 2500.00" (down).
        bar_rounding = ROUND_FLOOR if self.strict else ROUND_CEILING
        if self.measure == "area":
            # Every decimal the value has: a rounded value could read as under a bar it met.
            value, base = exact_area_text(self.value), exact_area_text(self.base)
            required = area_text(self.required, bar_rounding)
            margin = area_text(self.margin)
        else:
            value, base = str(self.value), str(self.base)
            required = str(_decimal(self.required).quantize(CENT, rounding=bar_rounding))
            margin = str(_decimal(self.margin).quantize(CENT, rounding=ROUND_HALF_UP))
        share = (
            _decimal(Fraction(self.value * 100, self.base)).quantize(CENT, ROUND_HALF_UP)
            if self.base
            else Decimal(0)
        )
        return {
            "name": self.name,
            "measure": self.measure,
            "value": value,
            "base": base,
            "share_percent": str(share),
            "rule": f"{'>' if self.strict else '≥'} {self.fraction}",
            "required": required,
            "met": self.met,
            "margin": margin,
        }


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


@dataclass(frozen=True)
class QuestionResult:
    threshold: Threshold
    participation: list[Condition]
    options: list[Counted]
    # For each option that can be adopted: the conditions it had to pass.
    support: dict[str, list[Condition]]
    adopted: str | None

    @property
    def quorum_met(self) -> bool:
        return all(condition.met for condition in self.participation)

    @property
    def outcome(self) -> str:
        if not self.quorum_met:
            return "no_quorum"
        return "adopted" if self.adopted is not None else "not_adopted"

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": str(self.threshold),
            "outcome": self.outcome,
            "adopted": self.adopted,
            "quorum_met": self.quorum_met,
            "participation": [c.as_dict() for c in self.participation],
            "options": [
                {
                    "code": o.code,
                    "kind": str(o.kind),
                    "area": area_text(o.weight),
                    "weight": o.weight,
                    "heads": o.heads,
                }
                for o in self.options
            ],
            "support": {code: [c.as_dict() for c in cs] for code, cs in self.support.items()},
        }


HALF = Fraction(1, 2)
TWO_THIRDS = Fraction(2, 3)
THREE_QUARTERS = Fraction(3, 4)


def _participation(
    threshold: Threshold, totals: Totals, weight: int, heads: int
) -> list[Condition]:
    if threshold.startswith("cn_"):
        # Art. 278: owners with ≥ 2/3 of the exclusive area AND ≥ 2/3 of the owners take part.
        return [
            Condition("participation", "area", weight, totals.weight, TWO_THIRDS, False),
            Condition("participation", "heads", heads, totals.heads, TWO_THIRDS, False),
        ]
    # Art. 45 p. 3: a meeting has a quorum when its participants hold over half the votes.
    return [Condition("quorum", "area", weight, totals.weight, HALF, True)]


def _support(
    threshold: Threshold, totals: Totals, option: Counted, weight: int, heads: int
) -> list[Condition]:
    if threshold is Threshold.CN_ORDINARY:
        return [
            Condition("support", "area", option.weight, weight, HALF, True),
            Condition("support", "heads", option.heads, heads, HALF, True),
        ]
    if threshold is Threshold.CN_SPECIAL:
        return [
            Condition("support", "area", option.weight, weight, THREE_QUARTERS, False),
            Condition("support", "heads", option.heads, heads, THREE_QUARTERS, False),
        ]
    if threshold is Threshold.RU_MAJORITY:
        return [Condition("support", "area", option.weight, weight, HALF, True)]
    if threshold is Threshold.RU_HALF_OF_ALL:
        return [Condition("support_of_all", "area", option.weight, totals.weight, HALF, True)]
    return [Condition("support_of_all", "area", option.weight, totals.weight, TWO_THIRDS, False)]


def decide(
    threshold: Threshold,
    totals: Totals,
    options: list[Counted],
    meeting: tuple[int, int] | None = None,
) -> QuestionResult:
    """Returns the result of one question from the counted votes of each of its options.

    Who took part: in Russia, the meeting's participants (``meeting``: the weight and heads
    of every owner who answered any question — arts. 45 p. 3 and 46 p. 1 count the votes
    of the owners taking part in the meeting, and a question left blank is not a vote for
    anything); in China, those who voted on the matter (art. 278 "参与表决"). Abstaining is
    taking part. An option that can be adopted is adopted when the quorum is met and it
    passes every one of its conditions; the thresholds are all over half, so at most one
    option can pass.
    """
    weight = sum(o.weight for o in options)
    heads = sum(o.heads for o in options)
    if meeting is not None and threshold.startswith("ru_"):
        weight, heads = meeting
    participation = _participation(threshold, totals, weight, heads)
    support = {
        o.code: _support(threshold, totals, o, weight, heads)
        for o in options
        if o.kind is OptionKind.FOR
    }
    adopted = None
    if all(c.met for c in participation):
        passing = [code for code, conditions in support.items() if all(c.met for c in conditions)]
        if passing:
            adopted = passing[0]
    return QuestionResult(threshold, participation, options, support, adopted)
