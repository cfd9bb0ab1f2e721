"""Deciding a question (DOMAIN §3) and the rule sets behind it: pure arithmetic, no database.

Areas are written as m² strings and turned into 1e-8 m² weights; every expected number is
worked by hand in the comment beside it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest

from core.votes import rules
from core.votes.enums import Jurisdiction, OptionKind, Threshold
from core.votes.rules import UnknownRuleSet, get_rule_set, rule_sets
from core.votes.tally import (
    Counted,
    QuestionResult,
    Totals,
    area_text,
    decide,
    exact_area_text,
    weight_of,
)

FOR, AGAINST, ABSTAIN = OptionKind.FOR, OptionKind.AGAINST, OptionKind.ABSTAIN


def m2(text: str) -> int:
    return weight_of(Decimal(text))


def ru(
    threshold: Threshold, total: str, yes: str, no: str = "0", abstain: str = "0"
) -> QuestionResult:
    """Decides a Russian question (heads do not matter there: one head per option)."""
    options = [
        Counted("1", FOR, m2(yes), 1),
        Counted("2", AGAINST, m2(no), 1),
        Counted("3", ABSTAIN, m2(abstain), 1),
    ]
    return decide(threshold, Totals(m2(total), 100), options)


def cn(
    threshold: Threshold,
    total: tuple[str, int],
    yes: tuple[str, int],
    no: tuple[str, int] = ("0", 0),
    abstain: tuple[str, int] = ("0", 0),
) -> QuestionResult:
    options = [
        Counted("1", FOR, m2(yes[0]), yes[1]),
        Counted("2", AGAINST, m2(no[0]), no[1]),
        Counted("3", ABSTAIN, m2(abstain[0]), abstain[1]),
    ]
    return decide(threshold, Totals(m2(total[0]), total[1]), options)


# --- Russia: the DOMAIN §3 example -----------------------------------------------------------


def test_russia_example_quorum_is_52_percent() -> None:
    # 2,600 of 5,000 m² took part: 2600 / 5000 = 52.00 %, over the bar of > 2500.00.
    result = ru(Threshold.RU_MAJORITY, "5000.00", yes="1300.01", no="1299.99")
    (quorum,) = result.participation
    assert quorum.as_dict() == {
        "name": "quorum",
        "measure": "area",
        "value": "2600.00",
        "base": "5000.00",
        "share_percent": "52.00",
        "rule": "> 1/2",
        "required": "2500.00",
        "met": True,
        "margin": "100.00",  # 2600 − 2500
    }
    assert result.quorum_met


def test_russia_example_ordinary_item_needs_over_1300() -> None:
    # ru_majority: > 1/2 of the 2,600 m² taking part = > 1,300.00 m².
    passed = ru(Threshold.RU_MAJORITY, "5000.00", yes="1300.01", no="1299.99")
    assert (passed.outcome, passed.adopted) == ("adopted", "1")
    support = passed.support["1"][0].as_dict()
    assert (support["required"], support["margin"], support["met"]) == ("1300.00", "0.01", True)
    # Exactly half (1,300.00 of 2,600.00) is not a majority: margin 0, not met.
    tied = ru(Threshold.RU_MAJORITY, "5000.00", yes="1300.00", no="1300.00")
    assert (tied.outcome, tied.adopted) == ("not_adopted", None)
    assert tied.support["1"][0].as_dict()["margin"] == "0.00"
    assert tied.support["1"][0].met is False


def test_russia_example_two_thirds_of_all_cannot_pass_with_this_turnout() -> None:
    # ru_two_thirds_of_all: ≥ 2/3 × 5000 = 3333.333… m²; shown rounded up as "3333.34".
    everyone_yes = ru(Threshold.RU_TWO_THIRDS_OF_ALL, "5000.00", yes="2600.00")
    assert everyone_yes.quorum_met
    assert everyone_yes.outcome == "not_adopted"
    condition = everyone_yes.support["1"][0].as_dict()
    assert condition["name"] == "support_of_all"
    assert condition["base"] == "5000.00"  # of ALL votes, not of the 2,600 taking part
    assert condition["rule"] == "≥ 2/3"
    assert condition["required"] == "3333.34"
    # 2600 − 3333.333… = −733.333… → "-733.33"
    assert condition["margin"] == "-733.33"
    # With a bigger turnout: 3,333.34 passes (≥ 3333.333…), 3,333.33 falls 0.00333… short.
    assert ru(Threshold.RU_TWO_THIRDS_OF_ALL, "5000.00", yes="3333.34").adopted == "1"
    short = ru(Threshold.RU_TWO_THIRDS_OF_ALL, "5000.00", yes="3333.33")
    assert short.adopted is None
    assert short.support["1"][0].margin < 0


def test_russia_quorum_exactly_half_is_not_a_quorum() -> None:
    # > 50 %: 2,500.00 of 5,000.00 is exactly half → no quorum, even though all said yes.
    at_half = ru(Threshold.RU_MAJORITY, "5000.00", yes="2500.00")
    assert at_half.outcome == "no_quorum"
    assert at_half.adopted is None
    assert at_half.participation[0].as_dict()["share_percent"] == "50.00"
    # One cent more (2,500.01 > 2,500.00) is a quorum, and 2,500.01 yes of 2,500.01 passes.
    over = ru(Threshold.RU_MAJORITY, "5000.00", yes="2500.01")
    assert over.quorum_met
    assert over.outcome == "adopted"
    assert over.participation[0].as_dict()["margin"] == "0.01"


# --- Russia: the thresholds of all votes ------------------------------------------------------


def test_russia_half_of_all_exactly_half_fails() -> None:
    # ru_half_of_all: > 1/2 × 5000 = > 2500.00 of ALL (everyone took part: quorum met).
    tied = ru(Threshold.RU_HALF_OF_ALL, "5000.00", yes="2500.00", no="2500.00")
    assert tied.quorum_met and tied.outcome == "not_adopted"
    # 2,500.01 yes, 2,499.99 no: 2500.01 > 2500.00 → adopted, margin 0.01.
    passed = ru(Threshold.RU_HALF_OF_ALL, "5000.00", yes="2500.01", no="2499.99")
    assert passed.outcome == "adopted"
    assert passed.support["1"][0].as_dict()["margin"] == "0.01"
    # Half of ALL, not of those taking part: 2,000 yes of 3,000 taking part (a majority of
    # them) is 2000 ≤ 2500 of all → not adopted.
    majority_of_few = ru(Threshold.RU_HALF_OF_ALL, "5000.00", yes="2000.00", no="1000.00")
    assert majority_of_few.quorum_met and majority_of_few.adopted is None


def test_russia_two_thirds_of_all_exactly_two_thirds_passes() -> None:
    # 3,000 m² in all; 2/3 × 3000 = 2000.00 exactly; 2,000.00 yes ≥ 2,000.00 → adopted.
    exact = ru(Threshold.RU_TWO_THIRDS_OF_ALL, "3000.00", yes="2000.00")
    assert exact.outcome == "adopted"
    condition = exact.support["1"][0].as_dict()
    assert (condition["required"], condition["margin"], condition["met"]) == (
        "2000.00",
        "0.00",
        True,
    )
    # 1,999.99 is one cent short: margin −0.01.
    short = ru(Threshold.RU_TWO_THIRDS_OF_ALL, "3000.00", yes="1999.99", no="0.01")
    assert short.outcome == "not_adopted"
    assert short.support["1"][0].as_dict()["margin"] == "-0.01"


# --- China: Civil Code art. 278 ---------------------------------------------------------------


def test_china_participation_exactly_two_thirds_of_area_and_heads() -> None:
    # 900 m², 9 owners: 2/3 is 600.00 m² and 6 owners; exactly that takes part → met.
    result = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("600.00", 6))
    area, heads = result.participation
    assert (area.measure, area.met, area.as_dict()["required"]) == ("area", True, "600.00")
    assert (heads.measure, heads.met, heads.as_dict()["required"]) == ("heads", True, "6.00")
    assert heads.as_dict()["rule"] == "≥ 2/3"
    assert result.outcome == "adopted"
    # One cent of area short (599.99 < 600.00) → no quorum.
    assert cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("599.99", 6)).outcome == "no_quorum"
    # One owner short (5 < 6) → no quorum.
    assert cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("600.00", 5)).outcome == "no_quorum"
    # Area met (800 ≥ 600) but heads not (5 < 6): both are needed → no quorum.
    area_only = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("800.00", 5))
    assert [c.met for c in area_only.participation] == [True, False]
    assert area_only.outcome == "no_quorum" and area_only.adopted is None


def test_china_abstentions_count_as_participation() -> None:
    # 500 m²/5 yes + 100 m²/1 abstaining = 600/6 = exactly 2/3 of 900/9 → quorum met;
    # without the abstainer it would be 500/5 < 600/6.
    result = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("500.00", 5), abstain=("100.00", 1))
    assert result.quorum_met
    assert [c.as_dict()["value"] for c in result.participation] == ["600.00", "6"]
    # The abstainer also raises the support bar: > 1/2 of 600 = 300.00, > 1/2 of 6 = 3.
    support = [c.as_dict() for c in result.support["1"]]
    assert [(c["base"], c["required"]) for c in support] == [("600.00", "300.00"), ("6", "3.00")]
    assert result.outcome == "adopted"
    # Under cn_special the abstainers can sink it: 450/5 yes, 250/3 abstain → 700/8 taking
    # part, needs ≥ 3/4 × 700 = 525.00 and ≥ 3/4 × 8 = 6 → not adopted.
    sunk = cn(Threshold.CN_SPECIAL, ("900.00", 9), yes=("450.00", 5), abstain=("250.00", 3))
    assert sunk.quorum_met and sunk.outcome == "not_adopted"


def test_china_ordinary_needs_over_half_of_area_and_heads() -> None:
    # 600 m²/6 owners take part: > 300.00 m² AND > 3 owners.
    exactly_half = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("300.00", 3), no=("300.00", 3))
    assert exactly_half.outcome == "not_adopted"
    # Area over (300.01) but heads exactly half (3 of 6) → not adopted.
    heads_half = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("300.01", 3), no=("299.99", 3))
    assert [c.met for c in heads_half.support["1"]] == [True, False]
    assert heads_half.adopted is None
    # Heads over (4 > 3) but area exactly half → not adopted.
    area_half = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("300.00", 4), no=("300.00", 2))
    assert [c.met for c in area_half.support["1"]] == [False, True]
    # Both over: 300.01 > 300.00 and 4 > 3 → adopted; heads margin 4 − 3 = 1.
    both = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("300.01", 4), no=("299.99", 2))
    assert both.outcome == "adopted"
    assert [c.as_dict()["margin"] for c in both.support["1"]] == ["0.01", "1.00"]


def test_china_special_needs_three_quarters_of_both() -> None:
    # 800 m²/8 owners take part (≥ 600/6 of 900/9): ≥ 3/4 is 600.00 m² and 6 owners.
    exact = cn(Threshold.CN_SPECIAL, ("900.00", 9), yes=("600.00", 6), no=("200.00", 2))
    assert exact.outcome == "adopted"
    assert [c.as_dict()["rule"] for c in exact.support["1"]] == ["≥ 3/4", "≥ 3/4"]
    assert [c.as_dict()["margin"] for c in exact.support["1"]] == ["0.00", "0.00"]
    # One cent short on area (599.99 < 600.00).
    area_short = cn(Threshold.CN_SPECIAL, ("900.00", 9), yes=("599.99", 6), no=("200.01", 2))
    assert area_short.outcome == "not_adopted"
    # One owner short (5 < 6) with all the area in the world (790 ≥ 600).
    heads_short = cn(Threshold.CN_SPECIAL, ("900.00", 9), yes=("790.00", 5), no=("10.00", 3))
    assert heads_short.outcome == "not_adopted"
    # 3/4 of an odd count: 7 take part → ≥ 5.25 owners, shown rounded up as "5.25"; 5 fails.
    odd = cn(Threshold.CN_SPECIAL, ("700.00", 7), yes=("600.00", 5), no=("100.00", 2))
    heads = odd.support["1"][1].as_dict()
    assert (heads["required"], heads["met"], heads["margin"]) == ("5.25", False, "-0.25")


def test_candidate_question_adopts_at_most_one() -> None:
    # Two companies (both "for" options) and "against"; 1,000 m² in all, everyone votes.
    def candidates(a: str, b: str, no: str) -> QuestionResult:
        options = [
            Counted("1", FOR, m2(a), 1),
            Counted("2", FOR, m2(b), 1),
            Counted("3", AGAINST, m2(no), 1),
        ]
        return decide(Threshold.RU_MAJORITY, Totals(m2("1000.00"), 3), options)

    # 600 > 1/2 × 1000 = 500 → company 1; company 2 (300) is not.
    first = candidates("600.00", "300.00", "100.00")
    assert first.adopted == "1"
    assert set(first.support) == {"1", "2"}  # "against" is never adopted
    assert [c.met for c in first.support["2"]] == [False]
    # 500 each: exactly half each, neither adopted.
    split = candidates("500.00", "500.00", "0")
    assert (split.outcome, split.adopted) == ("not_adopted", None)
    # China: one company has the area (400 of 600), the other the heads (4 of 6) → neither.
    options = [
        Counted("1", FOR, m2("400.00"), 2),
        Counted("2", FOR, m2("200.00"), 4),
    ]
    china = decide(Threshold.CN_ORDINARY, Totals(m2("900.00"), 9), options)
    assert china.quorum_met and china.adopted is None
    assert [c.met for c in china.support["1"]] == [True, False]
    assert [c.met for c in china.support["2"]] == [False, True]


def test_question_result_as_dict_shape() -> None:
    result = cn(Threshold.CN_ORDINARY, ("900.00", 9), yes=("400.00", 4), no=("200.00", 2))
    shape = result.as_dict()
    assert set(shape) == {
        "threshold",
        "outcome",
        "adopted",
        "quorum_met",
        "participation",
        "options",
        "support",
    }
    assert (shape["threshold"], shape["outcome"], shape["adopted"]) == (
        "cn_ordinary",
        "adopted",
        "1",
    )
    assert shape["options"][0] == {
        "code": "1",
        "kind": "for",
        "area": "400.00",
        "weight": 40_000_000_000,
        "heads": 4,
    }
    assert list(shape["support"]) == ["1"]
    # Heads margin of participation: 6 − 2/3 × 9 = 6 − 6 = 0.
    assert shape["participation"][1]["margin"] == "0.00"
    # 2/3 of 10 owners = 6.666…: the bar rounds up ("6.67"), 7 owners clear it by 0.33.
    ten = cn(Threshold.CN_ORDINARY, ("1000.00", 10), yes=("700.00", 7))
    heads = ten.participation[1].as_dict()
    assert (heads["required"], heads["margin"], heads["share_percent"]) == ("6.67", "0.33", "70.00")


def test_margins_are_signed() -> None:
    # Quorum 2,000 of 5,000: 2000 − 2500 = −500; support 2000 − 1000 = +1000.
    result = ru(Threshold.RU_MAJORITY, "5000.00", yes="2000.00")
    assert result.participation[0].as_dict()["margin"] == "-500.00"
    assert result.participation[0].margin < 0
    assert result.support["1"][0].as_dict()["margin"] == "1000.00"
    assert result.outcome == "no_quorum"  # a winning margin does not help without a quorum


# --- weights --------------------------------------------------------------------------------


def test_weights_are_whole_hundred_millionths() -> None:
    assert weight_of(Decimal("60.00")) == 6_000_000_000
    assert weight_of(Decimal("0.00000001")) == 1
    with pytest.raises(ValueError, match="8 decimal"):
        weight_of(Decimal("0.000000001"))
    # A 6-decimal share of a 2-decimal area: 0.333333 × 60.00 = 19.99998 exactly.
    third = weight_of(Decimal("0.333333") * Decimal("60.00"))
    assert third == 1_999_998_000
    # Three such shares leave 60.00 − 59.99994 = 0.00006 m² = 6,000 units over.
    assert 6_000_000_000 - 3 * third == 6_000
    assert exact_area_text(third) == "19.99998"
    assert area_text(third) == "20.00"  # rounded half up for people
    assert area_text(third, ROUND_FLOOR) == "19.99"


def test_exact_area_text_keeps_every_decimal_and_at_least_two() -> None:
    assert exact_area_text(6_000_000_000) == "60.00"
    assert exact_area_text(10_000_000_000) == "100.00"  # not "1E+2"
    assert exact_area_text(1_050_000_000) == "10.50"
    assert exact_area_text(1) == "0.00000001"
    assert exact_area_text(0) == "0.00"
    # It reads back to the same weight: the audit list loses nothing.
    for weight in (1, 1_999_998_000, 4_000_002_000, 123_456_789_012):
        assert weight_of(Decimal(exact_area_text(weight))) == weight
    # Half a cent: half up for people.
    assert area_text(500_000) == "0.01"
    assert area_text(499_999) == "0.00"


# --- rule sets ------------------------------------------------------------------------------

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def window(code: str, notice_days: float, voting_days: float) -> list[str]:
    opens = T0 + timedelta(days=notice_days)
    return get_rule_set(code).window_problems(
        notice_at=T0, opens_at=opens, closes_at=opens + timedelta(days=voting_days)
    )


def test_both_rule_sets_load() -> None:
    assert set(rule_sets()) == {("cn-civil-code", "2021"), ("ru-housing-code", "2024")}
    russia, china = get_rule_set("ru-housing-code"), get_rule_set("cn-civil-code")
    assert (russia.jurisdiction, russia.edition) == (Jurisdiction.RU, "2024")
    assert (russia.notice_days_min, russia.voting_days_min, russia.voting_days_max) == (10, 7, 60)
    assert (china.jurisdiction, china.notice_days_min) == (Jurisdiction.CN, 15)
    assert russia.matter("default").threshold is Threshold.RU_MAJORITY
    assert russia.matter("hire_company").threshold is Threshold.RU_HALF_OF_ALL
    assert russia.matter("capital_repair").threshold is Threshold.RU_TWO_THIRDS_OF_ALL
    assert china.matter("hire_company").threshold is Threshold.CN_ORDINARY
    assert china.matter("raise_maintenance_fund").threshold is Threshold.CN_SPECIAL
    assert get_rule_set("ru-housing-code", "2024") is russia
    for rule_set in (russia, china):
        assert all(
            m.threshold.startswith(f"{rule_set.jurisdiction}_") for m in rule_set.matters.values()
        )


def test_russia_voting_window() -> None:
    assert window("ru-housing-code", 10, 7) == []
    assert window("ru-housing-code", 10, 60) == []
    # Notice 9 days 23 hours before opening: < 10 days.
    (problem,) = window("ru-housing-code", 10 - 1 / 24, 7)
    assert "at least 10 days" in problem
    (problem,) = window("ru-housing-code", 10, 6)
    assert "at least 7 days" in problem
    (problem,) = window("ru-housing-code", 10, 61)
    assert "at most 60 days" in problem
    # Both wrong at once: both reported.
    assert len(window("ru-housing-code", 3, 61)) == 2


def test_china_voting_window() -> None:
    assert window("cn-civil-code", 15, 14) == []
    (problem,) = window("cn-civil-code", 14, 14)
    assert "at least 15 days" in problem
    (problem,) = window("cn-civil-code", 15 - 1 / 1440, 14)  # one minute short
    assert "15 days" in problem


def test_window_order_is_checked_first() -> None:
    russia = get_rule_set("ru-housing-code")
    problems = russia.window_problems(
        notice_at=T0, opens_at=T0 + timedelta(days=20), closes_at=T0 + timedelta(days=20)
    )
    assert problems == ["the notice must come first, then the opening, then the closing"]


def test_unknown_rule_set_or_matter_raises() -> None:
    with pytest.raises(UnknownRuleSet, match="no matter 'rebuild'"):
        get_rule_set("ru-housing-code").matter("rebuild")  # a Chinese matter, not Russian
    with pytest.raises(UnknownRuleSet):
        get_rule_set("de-wohnungseigentumsgesetz")
    with pytest.raises(UnknownRuleSet):
        get_rule_set("ru-housing-code", "1999")


def test_rule_file_digest_is_sha256_of_its_text() -> None:
    for path in sorted(rules.RULES_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        loaded = rules._rule_set(text)
        assert loaded.digest == hashlib.sha256(text.encode()).hexdigest()
        assert get_rule_set(loaded.code, loaded.edition).digest == loaded.digest
        # Stable: the same text gives the same digest; any edit gives another.
        assert rules._rule_set(text).digest == loaded.digest
        assert rules._rule_set(text + "\n# edited\n").digest != loaded.digest


def test_rule_file_with_a_foreign_threshold_is_refused() -> None:
    text = (rules.RULES_DIR / "cn-civil-code.yaml").read_text(encoding="utf-8")
    foreign = text.replace("threshold: cn_ordinary", "threshold: ru_majority", 1)
    assert foreign != text
    with pytest.raises(ValueError, match="another country's threshold"):
        rules._rule_set(foreign)
