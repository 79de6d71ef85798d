"""§10: employees' ordinary outpatient pooling (渝医保发〔2023〕32号) and personal accounts (第九条)."""

from datetime import date

import pytest

from yfbz.rules import Reason, outpatient_pooling, personal_account_monthly

from .helpers import D, policy

POL = policy(date(2025, 6, 1))


def pool(**kw):
    args = {
        "employment": "IN_SERVICE",
        "tier": "EMPLOYER",
        "institution_level": 2,
        "in_policy_cost": D("1200.00"),
    }
    args.update(kw)
    return outpatient_pooling(POL, **args)


@pytest.mark.parametrize("employment,deductible", [("IN_SERVICE", "200.00"), ("RETIRED", "100.00")])
def test_deductible_per_calendar_year_is_200_in_service_100_retired(employment, deductible):
    d = pool(employment=employment, in_policy_cost=D("1000.00"))
    assert d.deductible_applied == D(deductible)
    d = pool(employment=employment, in_policy_cost=D("50.00"))
    assert d.amount == D("0.00") and d.reasons[0] == Reason.POOLING_DEDUCTIBLE_NOT_REACHED


def test_deductible_already_used_this_year_is_not_taken_again():
    d = pool(in_policy_cost=D("1000.00"), deductible_used=D("150.00"))
    assert d.deductible_applied == D("50.00") and d.amount == D("570.00")


@pytest.mark.parametrize(
    "employment,level,ratio",
    [
        ("IN_SERVICE", 0, "0.60"),
        ("IN_SERVICE", 1, "0.60"),
        ("IN_SERVICE", 2, "0.60"),
        ("IN_SERVICE", 3, "0.50"),
        ("RETIRED", 1, "0.70"),
        ("RETIRED", 2, "0.70"),
        ("RETIRED", 3, "0.60"),
    ],
)
def test_ratio_by_level_is_60_50_in_service_and_10_points_more_retired(employment, level, ratio):
    d = pool(employment=employment, institution_level=level, in_policy_cost=D("1200.00"))
    ded = D("200.00") if employment == "IN_SERVICE" else D("100.00")
    assert d.ratio == D(ratio) and d.amount == ((D("1200.00") - ded) * D(ratio)).quantize(D("0.01"))


@pytest.mark.parametrize(
    "employment,tier,limit",
    [
        ("IN_SERVICE", "EMPLOYER", "3000.00"),
        ("IN_SERVICE", "INDIVIDUAL_T2", "3000.00"),
        ("IN_SERVICE", "INDIVIDUAL_T1", "800.00"),
        ("RETIRED", "EMPLOYER", "4000.00"),
        ("RETIRED", "INDIVIDUAL_T2", "4000.00"),
        ("RETIRED", "INDIVIDUAL_T1", "1200.00"),
    ],
)
def test_annual_limit_by_status_and_tier(employment, tier, limit):
    d = pool(employment=employment, tier=tier, in_policy_cost=D("20000.00"))
    assert d.limit == D(limit) and d.amount == D(limit) and Reason.POOLING_LIMIT_REACHED in d.reasons
    d = pool(employment=employment, tier=tier, in_policy_cost=D("20000.00"), paid_this_year=D(limit))
    assert d.amount == D("0.00") and d.reasons[0] == Reason.POOLING_LIMIT_USED_UP


def test_fixed_amount_items_do_not_count():
    d = pool(in_policy_cost=D("1200.00"), fixed_items_paid=D("300.00"))
    assert d.eligible_cost == D("900.00") and d.amount == D("420.00")
    assert Reason.POOLING_FIXED_ITEMS_EXCLUDED in d.reasons


def test_pharmacy_on_outside_prescription_uses_the_prescribing_institution_level():
    d = pool(institution_level=1, pharmacy=True, prescribing_level=3, in_policy_cost=D("1200.00"))
    assert d.ratio == D("0.50") and Reason.POOLING_PRESCRIBER_LEVEL in d.reasons


def test_personal_account_in_service_is_2_percent_of_the_base():
    assert personal_account_monthly(
        POL, employment="IN_SERVICE", tier="EMPLOYER", contribution_base=D("6000.00")
    ) == D("120.00")


def test_personal_account_retired_is_105_under_70_and_115_from_70():
    assert personal_account_monthly(POL, employment="RETIRED", tier="EMPLOYER", age=69) == D("105.00")
    assert personal_account_monthly(POL, employment="RETIRED", tier="INDIVIDUAL_T2", age=70) == D("115.00")


def test_personal_account_lump_sum_is_2_percent_while_paying_then_retiree_amounts():
    assert personal_account_monthly(
        POL, employment="RETIRED", tier="INDIVIDUAL_T2", lump_sum_paying=True, contribution_base=D("5000.00")
    ) == D("100.00")
    assert personal_account_monthly(POL, employment="RETIRED", tier="INDIVIDUAL_T2", age=72) == D("115.00")


def test_personal_account_individual_tier_1_gets_nothing_credited():
    assert personal_account_monthly(
        POL, employment="IN_SERVICE", tier="INDIVIDUAL_T1", contribution_base=D("5000")
    ) == D("0.00")
