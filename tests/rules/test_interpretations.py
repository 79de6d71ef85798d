"""The interpretations D1–D9 of POLICY.md §14."""

from datetime import date

from yfbz.rules import Identity, Reason, Scheme, contribution_subsidy
from yfbz.rules.money import quantize

from .helpers import D, bill, decide, person, policy, run


def test_D1_the_settlement_date_decides_eligibility():
    p = person("TEKUN", since=date(2025, 3, 10))
    stay = bill(on=date(2025, 3, 10))  # admitted before the identity started, discharged on its first day
    assert decide(p, stay).scheme == Scheme.INPATIENT
    assert decide(p, bill(on=date(2025, 3, 9))).scheme is None


def test_D1_the_settlement_year_decides_the_cap_year():
    p = person("TEKUN")
    big = {"in_policy": "20000.00", "basic": "5000.00", "level": 1}
    d1, d2, d3 = run(
        p,
        bill(on=date(2025, 12, 31), **big),
        bill(on=date(2025, 12, 31), **big),
        bill(on=date(2026, 1, 1), **big),
    )
    assert (d1.amount, d2.amount, d3.amount) == (D("10000.00"), D("0.00"), D("10000.00"))
    assert d3.year == 2026


def test_D2_the_scheme_that_pays_most_is_chosen():
    # TEKUN at level 1: IN_80_75 pays 80%, MAJ_37 75% -> inpatient is chosen for a catalogue disease
    d = decide(person("TEKUN"), bill(level=1, in_policy="10000.00", basic="6000.00", disease="肺癌"))
    assert (d.scheme, d.amount) == (Scheme.INPATIENT, D("3200.00"))
    maj = next(c for c in d.considered if c.scheme == Scheme.MAJOR_DISEASE)
    assert maj.amount == D("3000.00") and Reason.OTHER_SCHEME_PAYS_MORE in maj.reasons and not maj.chosen


def test_D2_given_what_is_left_of_each_cap():
    # inpatient cap almost used: the major-disease scheme now pays more
    d = decide(
        person("TEKUN"),
        bill(level=1, in_policy="10000.00", basic="6000.00", disease="肺癌"),
        {"INPATIENT": D("9500.00")},
    )
    assert (d.scheme, d.amount) == (Scheme.MAJOR_DISEASE, D("3000.00"))


def test_D2_ties_go_to_the_more_specific_scheme():
    # level 3: IN_80_75 and MAJ_37 both 75%
    d = decide(person("TEKUN"), bill(level=3, in_policy="10000.00", basic="6000.00", disease="肺癌"))
    assert d.scheme == Scheme.MAJOR_DISEASE and Reason.TIE_MORE_SPECIFIC in d.reasons
    d = decide(person("CANZHAN"), bill(level=3, in_policy="50000.00", basic="30000.00"))
    assert (
        d.scheme == Scheme.LARGE_EXPENSE
    )  # IN_75 and LRG_75 both 75% of 20000 but IN cap 10000 -> large pays more


def test_D2_large_beats_ordinary_on_a_tie():
    d = decide(person("CANZHAN"), bill(level=3, in_policy="40000.00", basic="30000.00"))
    assert (d.scheme, d.amount) == (Scheme.LARGE_EXPENSE, D("7500.00"))
    inp = next(c for c in d.considered if c.scheme == Scheme.INPATIENT)
    assert inp.amount == D("7500.00") and Reason.TIE_MORE_SPECIFIC in inp.reasons


def test_D2_one_bill_is_never_paid_under_two_schemes():
    d = decide(person("TEKUN"), bill(level=3, in_policy="60000.00", basic="20000.00", disease="肺癌"))
    assert sum(1 for c in d.considered if c.chosen) == 1
    assert d.amount == max(c.amount for c in d.considered)
    assert d.caps_used_delta() == {"MAJOR_DISEASE": d.amount}


def test_D3_caps_of_different_schemes_are_not_shared():
    d = decide(
        person("TEKUN"),
        bill(level=3, in_policy="10000.00", basic="6000.00", disease="肺癌"),
        {"INPATIENT": D("10000.00"), "LARGE_EXPENSE": D("60000.00")},
    )
    assert (d.scheme, d.amount, d.cap_left_after) == (Scheme.MAJOR_DISEASE, D("3000.00"), D("117000.00"))


def test_D4_group_change_uses_current_limit_less_paid():
    # OUT_400 until 80th birthday, then OUT_700: the limit becomes 700 less everything outpatient paid
    p = person("DIBAO", birth=date(1945, 7, 1))
    d1, d2, d3 = run(
        p,
        bill("OUTPATIENT", in_policy="600.00", basic="0.00", on=date(2025, 3, 1)),
        bill("OUTPATIENT", in_policy="600.00", basic="0.00", on=date(2025, 8, 1)),
        bill("OUTPATIENT", in_policy="600.00", basic="0.00", on=date(2025, 9, 1)),
    )
    assert (d1.group, d1.amount, d1.cap_left_after) == ("OUT_400", D("400.00"), D("0.00"))
    assert (d2.group, d2.amount, d2.cap_left_before, d2.cap_left_after) == (
        "OUT_700",
        D("300.00"),
        D("300.00"),
        D("0.00"),
    )
    assert d3.scheme is None and Reason.CAP_USED_UP in d3.reasons


def test_D5_an_ungraded_institution_is_level_1():
    d = decide(person("TEKUN"), bill(level=0, in_policy="10000.00", basic="6000.00"))
    assert (d.level_used, d.ratio, d.amount) == (1, D("0.80"), D("3200.00"))
    assert Reason.UNGRADED_AS_LEVEL_1 in d.reasons and "按一级计" in d.explain_zh()


def test_D6_identities_are_taken_as_given_with_valid_from_and_valid_to():
    # D6 (roster gaps) is applied by the roster import; the engine honours the resulting dates exactly
    p = person(identities=(Identity("TEKUN", date(2025, 1, 1), date(2025, 2, 28)),))
    assert decide(p, bill(on=date(2025, 2, 28))).scheme == Scheme.INPATIENT
    assert decide(p, bill(on=date(2025, 3, 1))).scheme is None


def test_D7_amounts_are_decimal_rounded_half_up_once_per_layer():
    d = decide(person("CANZHAN"), bill(level=2, in_policy="1000.01", basic="999.99"))  # 0.02 x 75% = 0.015
    assert d.amount == D("0.02") and str(d.amount) == "0.02"
    assert quantize(D("0.005")) == D("0.01") and quantize(D("2.675")) == D("2.68")
    pol = policy(
        overrides={"youfu_rules": [{"category": None, "ratio": "0.5", "threshold": "0", "annual_cap": "100"}]}
    )
    d = decide(person("CANZHAN"), bill(level=2, in_policy="1000.03", basic="1000.00"), pol=pol)
    # 0.03 x 75% = 0.0225 -> 0.02; remains 0.01 x 50% = 0.005 -> 0.01 (rounded again in its own layer)
    assert (d.amount, d.youfu.amount) == (D("0.02"), D("0.01"))


def test_D8_any_identity_valid_on_any_day_of_the_year_counts_for_the_subsidy():
    p = person(
        identities=(
            Identity("DIBAO", date(2025, 11, 1), None),
            Identity("TEKUN", date(2024, 1, 1), date(2025, 1, 31)),
        )
    )
    s = contribution_subsidy(policy(date(2025, 12, 31)), p, 2025, "RESIDENT_T1")
    assert (s.category, s.amount) == ("TEKUN", D("400.00"))  # SUB_T1 100% beats SUB_90 90%
    s = contribution_subsidy(policy(date(2025, 12, 31)), p, 2024, "RESIDENT_T1")
    assert s.reasons == (Reason.SUBSIDY_NO_STANDARD,)  # no 2024 standard shipped: said, not guessed
    assert contribution_subsidy(
        policy(), person("TEKUN", since=date(2026, 1, 1)), 2025, "RESIDENT_T1"
    ).amount == D("0.00")


def test_D9_cap_used_up_says_so_and_names_the_closest_scheme():
    d = decide(person("TEKUN"), bill(level=2), {"INPATIENT": D("10000.00")})
    assert d.scheme is None and d.amount == D("0.00")
    assert Reason.CAP_USED_UP in d.reasons and d.closest_scheme == Scheme.INPATIENT
    assert "限额已用完" in d.explain_zh() and "最接近的是普通疾病住院医疗救助" in d.explain_zh()


def test_D9_no_qualifying_identity_says_which():
    d = decide(person("DIBAO_BIANYUAN"), bill(level=2))
    assert (
        d.scheme is None
        and Reason.NO_SCHEME_FOR_IDENTITY in d.reasons
        and d.closest_scheme == Scheme.INPATIENT
    )
    assert "低保边缘家庭成员" in d.explain_zh()
    d = decide(person(), bill(level=2))
    assert Reason.NO_IDENTITY_ON_DATE in d.reasons


def test_D9_not_in_catalogue_is_a_reason_when_a_disease_is_named():
    d = decide(person("BUDUI_8023_ZINV"), bill("OUTPATIENT", disease="感冒"))
    assert (
        d.scheme is None
        and Reason.NOT_IN_CATALOGUE
        in next(c for c in d.considered if c.scheme == Scheme.MAJOR_DISEASE).reasons
    )


def test_D9_nothing_left_after_insurance():
    d = decide(person("TEKUN"), bill(level=2, in_policy="5000.00", basic="5000.00"))
    assert d.scheme is None and Reason.NOTHING_LEFT_TO_PAY in d.reasons


def test_best_identity_is_recorded_in_the_decision():
    # ZHONGDU_CANJI (IN_70) and CANZHAN (IN_75): the 75% identity applies
    d = decide(person("ZHONGDU_CANJI", "CANZHAN"), bill(level=2))
    assert (d.category, d.ratio) == ("CANZHAN", D("0.75")) and Reason.BEST_OF_SEVERAL_IDENTITIES in d.reasons


def test_a_policy_change_takes_effect_from_its_date_and_keeps_earlier_versions():
    from yfbz.rules import default_book

    book = default_book().with_overrides(
        {
            "scheme_rules": [
                {
                    "scheme": "INPATIENT",
                    "group": "IN_75",
                    "category": None,
                    "ratio_level1": "0.85",
                    "ratio_level2": "0.85",
                    "ratio_level3": "0.85",
                    "annual_cap": "12000.00",
                    "effective_from": "2025-07-01",
                }
            ]
        }
    )
    before, after = book.in_force(date(2025, 6, 30)), book.in_force(date(2025, 7, 1))
    assert before.version != after.version
    p, b = person("CANZHAN"), bill(level=2)
    assert decide(p, b, pol=before).ratio == D("0.75") and decide(p, b, pol=after).ratio == D("0.85")


def test_a_bill_settled_before_any_rule_is_in_force_says_so():
    d = decide(person("TEKUN", since=date(2020, 1, 1)), bill(on=date(2024, 6, 1)))
    assert d.scheme is None and Reason.NO_RULE_IN_FORCE in d.reasons
