"""One case for every row of every table of POLICY.md (§2, §4–§8.1), named after the rule."""

from datetime import date

import pytest

from yfbz.rules import Enrolment, Reason, Scheme, contribution_subsidy

from .helpers import D, bill, decide, person, policy

# ---------------------------------------------------------------- §2 categories -> groups
POLICY_TABLE_2 = {
    "TEKUN": {"SUB_T1", "OUT_700", "IN_80_75", "MAJ_37", "LRG_37"},
    "DIBAO": {"SUB_90", "OUT_700", "OUT_400", "IN_80_75", "MAJ_37", "LRG_37"},
    "SANJU_GUER": {"SUB_T1", "OUT_400", "IN_80_75", "MAJ_75", "LRG_75"},
    "WUREN_FUYANG": {"SUB_T1", "OUT_400", "IN_80_75", "MAJ_75", "LRG_75"},
    "HIV_CHILD": {"SUB_T1", "OUT_400", "IN_80_75", "MAJ_75", "LRG_75"},
    "DIBAO_BIANYUAN": {"SUB_70", "MAJ_37", "LRG_37"},
    "YINBING_ZHIPIN": {"SUB_T1", "IN_70", "MAJ_37", "LRG_37"},
    "JINGJIAN_60": {"SUB_T1", "IN_70", "MAJ_70", "LRG_70"},
    "XIANGYU_MINGONG": {"SUB_T1", "IN_70", "MAJ_70", "LRG_70"},
    "LIESHI_YISHU": {"YOUFU", "SUB_T2", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "YINGONG_YISHU": {"YOUFU", "SUB_T2", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "BINGGU_YISHU": {"YOUFU", "SUB_T2", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "ZAIXIANG_FUYUAN": {"YOUFU", "SUB_T2", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "CANZHAN": {"YOUFU", "SUB_T1", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "CANSHI": {"YOUFU", "SUB_T1", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "DAIBING_HUIXIANG": {"YOUFU", "SUB_T1", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "NONGCUN_60": {"YOUFU", "SUB_T1", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "CANJI_7_10": {"SUB_T1", "OUT_400", "IN_75", "MAJ_75", "LRG_75"},
    "CANJI_1_6": set(),
    "LIESHI_97": {"SUB_T1", "IN_70", "MAJ_70", "LRG_70"},
    "BUDUI_8023_ZINV": {"SUB_T1", "MAJ_70", "LRG_70"},
    "ZHONGDU_CANJI": {"SUB_T1", "IN_70", "MAJ_70", "LRG_70"},
    "FANPIN_ZHIPIN": {"SUB_70", "MAJ_37", "LRG_37"},
    "TUOPIN_BUWENDING": {"SUB_70", "MAJ_37", "LRG_37"},
    "BIANYUAN_YIZHIPIN": {"SUB_70", "MAJ_37", "LRG_37"},
    "TUFA_KUNNAN": {"SUB_70", "MAJ_37", "LRG_37"},
    "KUNNAN_DAXUESHENG": {"SUB_T1"},
}


@pytest.mark.parametrize("category", sorted(POLICY_TABLE_2))
def test_category_groups_match_the_table_of_section_2(category):
    pol = policy()
    groups = {m.group for m in pol.memberships if m.category == category}
    assert groups == POLICY_TABLE_2[category]


def test_every_category_of_the_reference_list_is_in_the_policy():
    from pathlib import Path

    csv = Path(__file__).resolve().parents[2] / "yfbz" / "reference" / "categories.csv"
    rows = [line.split(",") for line in csv.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    pol = policy()
    assert {r[0]: r[1] for r in rows} == dict(pol.categories)


def test_DIBAO_OUT_700_condition_is_any_of_age_80_ZHONGDU_CANJI_or_maintenance_treatment():
    m = next(m for m in policy().memberships if m.category == "DIBAO" and m.group == "OUT_700")
    assert (m.min_age, m.also_holds, m.attribute) == (80, "ZHONGDU_CANJI", "needs_maintenance_treatment")
    other = next(m for m in policy().memberships if m.category == "DIBAO" and m.group == "OUT_400")
    assert other.otherwise


# ---------------------------------------------------------------- §4 contribution subsidies
SUB_TABLE = [
    # group, a category of it, enrolment, expected amount with T1=400, T2=775
    ("SUB_T2", "LIESHI_YISHU", "RESIDENT_T1", "400.00"),
    ("SUB_T2", "LIESHI_YISHU", "RESIDENT_T2", "775.00"),
    ("SUB_T2", "LIESHI_YISHU", "EMPLOYEE_INDIVIDUAL", "775.00"),
    ("SUB_T1", "TEKUN", "RESIDENT_T1", "400.00"),
    ("SUB_T1", "TEKUN", "RESIDENT_T2", "400.00"),
    ("SUB_T1", "TEKUN", "EMPLOYEE_INDIVIDUAL", "400.00"),
    ("SUB_90", "DIBAO", "RESIDENT_T1", "360.00"),
    ("SUB_90", "DIBAO", "RESIDENT_T2", "400.00"),
    ("SUB_90", "DIBAO", "EMPLOYEE_INDIVIDUAL", "400.00"),
    ("SUB_70", "DIBAO_BIANYUAN", "RESIDENT_T1", "280.00"),
    ("SUB_70", "DIBAO_BIANYUAN", "RESIDENT_T2", "400.00"),
    ("SUB_70", "DIBAO_BIANYUAN", "EMPLOYEE_INDIVIDUAL", "400.00"),
]


@pytest.mark.parametrize(
    "group,category,enrolment,amount", SUB_TABLE, ids=[f"{g}-{e}" for g, _, e, _ in SUB_TABLE]
)
def test_contribution_subsidy_table_of_section_4(group, category, enrolment, amount):
    s = contribution_subsidy(policy(date(2025, 12, 31)), person(category), 2025, enrolment)
    assert s.group == group
    assert s.amount == D(amount)
    assert Reason.SUBSIDY_PROVISIONAL_STANDARD in s.reasons  # T1/T2 2025 are shipped provisional


def test_employees_insured_with_an_employer_get_no_subsidy():
    s = contribution_subsidy(policy(date(2025, 12, 31)), person("TEKUN"), 2025, Enrolment.EMPLOYEE_EMPLOYER)
    assert s.amount == D("0.00") and s.reasons == (Reason.SUBSIDY_EMPLOYER_INSURED,)


def test_several_subsidy_groups_give_the_largest_amount():
    s = contribution_subsidy(policy(date(2025, 12, 31)), person("DIBAO", "LIESHI_YISHU"), 2025, "RESIDENT_T2")
    assert (s.category, s.amount) == ("LIESHI_YISHU", D("775.00"))


def test_a_standard_can_be_set_per_category_for_students():
    pol = policy(
        date(2025, 12, 31),
        {
            "contribution_standards": [
                {"year": 2025, "category": "KUNNAN_DAXUESHENG", "t1": "380.00", "t2": "700.00"}
            ]
        },
    )
    s = contribution_subsidy(pol, person("KUNNAN_DAXUESHENG"), 2025, "RESIDENT_T1")
    assert s.amount == D("380.00")
    assert contribution_subsidy(pol, person("TEKUN"), 2025, "RESIDENT_T1").amount == D("400.00")


def test_not_enrolled_is_listed_with_a_reason_not_silently_skipped():
    s = contribution_subsidy(policy(date(2025, 12, 31)), person("TEKUN"), 2025, None)
    assert s.reasons == (Reason.SUBSIDY_NOT_ENROLLED,)


def test_no_standard_for_the_year_gives_no_subsidy_and_says_so():
    s = contribution_subsidy(policy(date(2026, 12, 31)), person("TEKUN"), 2026, "RESIDENT_T1")
    assert s.amount == D("0.00") and s.reasons == (Reason.SUBSIDY_NO_STANDARD,)


def test_KUNNAN_DAXUESHENG_gets_only_the_contribution_subsidy():
    p = person("KUNNAN_DAXUESHENG")
    for b in (
        bill("OUTPATIENT"),
        bill("INPATIENT"),
        bill("INPATIENT", disease="肺癌"),
        bill("INPATIENT", in_policy="50000.00", basic="20000.00"),
    ):
        assert decide(p, b).scheme is None


# ---------------------------------------------------------------- §5 ordinary outpatient
def out_bill(base="1000.00", **kw):
    return bill("OUTPATIENT", in_policy=str(D(base) + D("100.00")), basic="100.00", **kw)


def test_OUT_700_TEKUN_is_100_percent_up_to_700():
    d = decide(person("TEKUN"), out_bill("500.00"))
    assert (d.scheme, d.group, d.ratio, d.amount, d.cap_left_after) == (
        Scheme.OUTPATIENT,
        "OUT_700",
        D("1.00"),
        D("500.00"),
        D("200.00"),
    )
    assert decide(person("TEKUN"), out_bill("900.00")).amount == D("700.00")


def test_OUT_700_DIBAO_aged_80_on_the_bill_date():
    p = person("DIBAO", birth=date(1945, 6, 15))
    assert decide(p, out_bill("500.00", on=date(2025, 6, 15))).group == "OUT_700"
    assert decide(p, out_bill("500.00", on=date(2025, 6, 14))).group == "OUT_400"  # 79 the day before


def test_OUT_700_DIBAO_who_also_holds_ZHONGDU_CANJI():
    d = decide(person("DIBAO", "ZHONGDU_CANJI"), out_bill("500.00"))
    assert (d.group, d.amount) == ("OUT_700", D("500.00"))


def test_OUT_700_DIBAO_needing_maintenance_treatment():
    d = decide(person("DIBAO", attributes=("needs_maintenance_treatment",)), out_bill("500.00"))
    assert (d.group, d.amount) == ("OUT_700", D("500.00"))


def test_OUT_400_other_DIBAO_is_70_percent_up_to_400():
    d = decide(person("DIBAO"), out_bill("500.00"))
    assert (d.group, d.ratio, d.amount, d.cap_left_after) == ("OUT_400", D("0.70"), D("350.00"), D("50.00"))
    assert decide(person("DIBAO"), out_bill("1000.00")).amount == D("400.00")


@pytest.mark.parametrize(
    "category",
    [
        "SANJU_GUER",
        "WUREN_FUYANG",
        "HIV_CHILD",
        "LIESHI_YISHU",
        "YINGONG_YISHU",
        "BINGGU_YISHU",
        "ZAIXIANG_FUYUAN",
        "CANZHAN",
        "CANSHI",
        "DAIBING_HUIXIANG",
        "NONGCUN_60",
        "CANJI_7_10",
    ],
)
def test_OUT_400_categories_are_70_percent_up_to_400(category):
    d = decide(person(category), out_bill("200.00"))
    assert (d.scheme, d.group, d.amount) == (Scheme.OUTPATIENT, "OUT_400", D("140.00"))


@pytest.mark.parametrize(
    "category",
    [
        "DIBAO_BIANYUAN",
        "FANPIN_ZHIPIN",
        "TUOPIN_BUWENDING",
        "BIANYUAN_YIZHIPIN",
        "TUFA_KUNNAN",
        "BUDUI_8023_ZINV",
        "CANJI_1_6",
        "YINBING_ZHIPIN",
        "ZHONGDU_CANJI",
    ],
)
def test_no_ordinary_outpatient_assistance_for_categories_the_notice_leaves_out(category):
    d = decide(person(category), out_bill("200.00"))
    assert d.scheme is None and Reason.NO_SCHEME_FOR_IDENTITY in d.reasons


def test_outpatient_limit_is_per_calendar_year_and_does_not_carry_over():
    p = person("DIBAO")
    from .helpers import run

    d1, d2, d3 = run(
        p,
        out_bill("400.00", on=date(2025, 3, 1)),
        out_bill("400.00", on=date(2025, 9, 1)),
        out_bill("400.00", on=date(2026, 1, 2)),
    )
    assert (d1.amount, d2.amount) == (D("280.00"), D("120.00"))
    assert d3.amount == D("280.00") and d3.cap_left_before == D("400.00")


# ---------------------------------------------------------------- §6 ordinary inpatient
IN_TABLE = [
    ("IN_80_75", "TEKUN", 1, "0.80"),
    ("IN_80_75", "TEKUN", 2, "0.80"),
    ("IN_80_75", "TEKUN", 3, "0.75"),
    ("IN_75", "CANZHAN", 1, "0.75"),
    ("IN_75", "CANZHAN", 2, "0.75"),
    ("IN_75", "CANZHAN", 3, "0.75"),
    ("IN_70", "ZHONGDU_CANJI", 1, "0.70"),
    ("IN_70", "ZHONGDU_CANJI", 2, "0.70"),
    ("IN_70", "ZHONGDU_CANJI", 3, "0.70"),
]


@pytest.mark.parametrize(
    "group,category,level,ratio", IN_TABLE, ids=[f"{g}_level{lv}_is_{r}" for g, _, lv, r in IN_TABLE]
)
def test_inpatient_ratio_by_group_and_level(group, category, level, ratio):
    d = decide(person(category), bill(level=level, in_policy="10000.00", basic="6000.00"))
    assert (d.scheme, d.group, d.ratio) == (Scheme.INPATIENT, group, D(ratio))
    assert d.amount == (D("4000.00") * D(ratio)).quantize(D("0.01"))


def test_IN_80_75_level3_is_75_percent():
    d = decide(person("SANJU_GUER"), bill(level=3, in_policy="10000.00", basic="6000.00"))
    assert (d.ratio, d.amount) == (D("0.75"), D("3000.00"))


def test_inpatient_annual_cap_is_10000_per_person():
    d = decide(person("TEKUN"), bill(in_policy="40000.00", basic="20000.00", level=1))
    # 20000 x 80% = 16000, held to 10000 (large-expense does not apply at level 1)
    assert (d.scheme, d.amount, d.cap, d.cap_left_after) == (
        Scheme.INPATIENT,
        D("10000.00"),
        D("10000.00"),
        D("0.00"),
    )
    assert Reason.CAP_LIMITED in d.reasons


@pytest.mark.parametrize(
    "category",
    [
        "DIBAO_BIANYUAN",
        "FANPIN_ZHIPIN",
        "TUOPIN_BUWENDING",
        "BIANYUAN_YIZHIPIN",
        "TUFA_KUNNAN",
        "BUDUI_8023_ZINV",
        "KUNNAN_DAXUESHENG",
        "CANJI_1_6",
    ],
)
def test_no_ordinary_inpatient_assistance_for_categories_the_notice_leaves_out(category):
    d = decide(person(category), bill(level=2, in_policy="10000.00", basic="6000.00"))
    assert d.scheme is None


# ---------------------------------------------------------------- §7 major disease
MAJ_TABLE = [
    ("MAJ_75", "SANJU_GUER", "0.75"),
    ("MAJ_75", "CANZHAN", "0.75"),
    ("MAJ_75", "CANJI_7_10", "0.75"),
    ("MAJ_70", "ZHONGDU_CANJI", "0.70"),
    ("MAJ_70", "JINGJIAN_60", "0.70"),
    ("MAJ_70", "BUDUI_8023_ZINV", "0.70"),
    ("MAJ_37", "TEKUN", "0.75"),
    ("MAJ_37", "DIBAO", "0.75"),
    ("MAJ_37", "FANPIN_ZHIPIN", "0.75"),
    ("MAJ_37", "DIBAO_BIANYUAN", "0.70"),
    ("MAJ_37", "TUOPIN_BUWENDING", "0.70"),
    ("MAJ_37", "BIANYUAN_YIZHIPIN", "0.70"),
    ("MAJ_37", "TUFA_KUNNAN", "0.70"),
    ("MAJ_37", "YINBING_ZHIPIN", "0.70"),
]


@pytest.mark.parametrize("group,category,ratio", MAJ_TABLE, ids=[f"{g}-{c}-{r}" for g, c, r in MAJ_TABLE])
def test_major_disease_ratio_by_group(group, category, ratio):
    # level 3 so that IN_80_75 (75%) does not beat the major-disease ratio for TEKUN/DIBAO
    d = decide(person(category), bill(level=3, in_policy="20000.00", basic="10000.00", disease="肺癌"))
    assert (d.scheme, d.group, d.ratio, d.cap) == (Scheme.MAJOR_DISEASE, group, D(ratio), D("120000.00"))


def test_major_disease_applies_to_outpatient_treatment_too():
    d = decide(
        person("BUDUI_8023_ZINV"), bill("OUTPATIENT", in_policy="3000.00", basic="1000.00", disease="白血病")
    )
    assert (d.scheme, d.amount) == (Scheme.MAJOR_DISEASE, D("1400.00"))


def test_major_disease_cap_of_120000_covers_inpatient_and_outpatient_together():
    d = decide(
        person("CANZHAN"),
        bill("OUTPATIENT", in_policy="3000.00", basic="1000.00", disease="白血病"),
        {"MAJOR_DISEASE": D("119500.00")},
    )
    assert (d.amount, d.cap_left_after) == (D("500.00"), D("0.00"))


def test_the_catalogue_has_the_26_diseases_of_2_hao():
    cat = policy().catalogue
    assert len(cat) == 26
    assert {
        "肺癌",
        "严重多器官衰竭（心、肝、肺、脑、肾）",
        "终末期肾病（尿毒症）",
        "重症甲型H1N1",
        "焦虑症",
    } <= cat


def test_MAJ_37_is_provisional_and_the_decision_says_so_with_its_source():
    d = decide(
        person("DIBAO_BIANYUAN"), bill(level=3, in_policy="20000.00", basic="10000.00", disease="肺癌")
    )
    assert d.scheme == Scheme.MAJOR_DISEASE and d.uses_provisional_rule
    assert "37号" in d.provisional[0].source and Reason.PROVISIONAL_RULE in d.reasons
    assert "暂行规则" in d.explain_zh() and d.explain_zh().count("37号") == 1


# ---------------------------------------------------------------- §7a large expense
LRG_TABLE = [
    ("LRG_75", "WUREN_FUYANG", "0.75"),
    ("LRG_75", "NONGCUN_60", "0.75"),
    ("LRG_70", "XIANGYU_MINGONG", "0.70"),
    ("LRG_70", "LIESHI_97", "0.70"),
    ("LRG_37", "TEKUN", "0.75"),
    ("LRG_37", "FANPIN_ZHIPIN", "0.75"),
    ("LRG_37", "DIBAO_BIANYUAN", "0.70"),
    ("LRG_37", "TUFA_KUNNAN", "0.70"),
    ("LRG_37", "YINBING_ZHIPIN", "0.70"),
]


@pytest.mark.parametrize("group,category,ratio", LRG_TABLE, ids=[f"{g}-{c}-{r}" for g, c, r in LRG_TABLE])
def test_large_expense_ratio_by_group_on_the_whole_self_pay(group, category, ratio):
    # in-policy 50000, basic 30000: base is the whole 20000 self-pay, not only the part above 30000
    d = decide(person(category), bill(level=3, in_policy="50000.00", basic="30000.00", disease=None))
    assert d.group == group or d.scheme == Scheme.INPATIENT  # an inpatient group may pay more (D2)
    lrg = next(c for c in d.considered if c.scheme == Scheme.LARGE_EXPENSE)
    assert (lrg.group, lrg.ratio, lrg.base, lrg.cap) == (group, D(ratio), D("20000.00"), D("60000.00"))
    assert lrg.amount == (D("20000.00") * D(ratio)).quantize(D("0.01"))


def test_large_expense_needs_more_than_30000_in_policy_cost():
    d = decide(person("DIBAO_BIANYUAN"), bill(level=2, in_policy="30000.00", basic="10000.00"))
    assert d.scheme is None
    lrg = next(c for c in d.considered if c.scheme == Scheme.LARGE_EXPENSE)
    assert Reason.LARGE_BELOW_THRESHOLD in lrg.reasons
    d = decide(person("DIBAO_BIANYUAN"), bill(level=2, in_policy="30000.01", basic="10000.01"))
    assert (d.scheme, d.amount) == (Scheme.LARGE_EXPENSE, D("14000.00"))


def test_large_expense_needs_a_level_2_or_3_institution():
    for level in (0, 1):
        d = decide(person("DIBAO_BIANYUAN"), bill(level=level, in_policy="40000.00", basic="20000.00"))
        assert d.scheme is None
        assert (
            Reason.LARGE_LEVEL_TOO_LOW
            in next(c for c in d.considered if c.scheme == Scheme.LARGE_EXPENSE).reasons
        )


def test_large_expense_is_for_diseases_not_in_the_catalogue():
    d = decide(person("FANPIN_ZHIPIN"), bill(level=3, in_policy="40000.00", basic="20000.00", disease="肺癌"))
    assert d.scheme == Scheme.MAJOR_DISEASE
    lrg = next(c for c in d.considered if c.scheme == Scheme.LARGE_EXPENSE)
    assert not lrg.applicable and Reason.LARGE_DISEASE_IN_CATALOGUE in lrg.reasons


def test_large_expense_is_for_a_single_inpatient_stay_only():
    d = decide(person("FANPIN_ZHIPIN"), bill("OUTPATIENT", level=3, in_policy="40000.00", basic="20000.00"))
    assert d.scheme is None and all(c.scheme != Scheme.LARGE_EXPENSE for c in d.considered)


# ---------------------------------------------------------------- §8.1 shipped 37号 defaults
def test_LRG_37_is_confirmed_by_the_2023_10_30_answer():
    rules = [r for r in policy().scheme_rules if r.group == "LRG_37"]
    assert len(rules) == 8 and all(not r.ref.provisional for r in rules)
    assert all("2023-10-30" in r.ref.source for r in rules)
    assert {r.category: r.ratios[0] for r in rules}["TEKUN"] == D("0.75")


def test_MAJ_37_shipped_provisional_with_LRG_37_ratios_and_the_120000_cap():
    rules = {r.category: r for r in policy().scheme_rules if r.group == "MAJ_37"}
    assert len(rules) == 8 and all(r.ref.provisional for r in rules.values())
    assert rules["DIBAO"].ratios == (D("0.75"),) * 3 and rules["TUFA_KUNNAN"].ratios == (D("0.70"),) * 3
    assert all(r.annual_cap == D("120000.00") for r in rules.values())


# ---------------------------------------------------------------- §9 youfu
def test_youfu_subsidy_is_inactive_until_a_cap_is_entered_and_says_so():
    d = decide(person("BINGGU_YISHU"), bill(level=2, in_policy="10000.00", basic="6000.00"))
    assert d.youfu.eligible and d.youfu.amount == D("0.00") and Reason.YOUFU_NO_CAP in d.reasons
    assert "尚未设定年度补助限额" in d.explain_zh()


def test_youfu_subsidy_is_50_percent_of_what_remains_after_every_earlier_layer():
    from .helpers import YOUFU_CAP_2000

    pol = policy(overrides=YOUFU_CAP_2000)
    d = decide(person("BINGGU_YISHU"), bill(level=2, in_policy="10000.00", basic="6000.00"), pol=pol)
    # 4000 x 75% = 3000 assistance, 1000 remains, 50% = 500
    assert (d.amount, d.youfu.base, d.youfu.amount, d.youfu.cap_left_after) == (
        D("3000.00"),
        D("1000.00"),
        D("500.00"),
        D("1500.00"),
    )
    assert d.remaining_self_pay == D("500.00")


def test_youfu_threshold_and_cap_are_data():
    pol = policy(
        overrides={
            "youfu_rules": [
                {"category": None, "ratio": "0.50", "threshold": "200.00", "annual_cap": "300.00"}
            ]
        }
    )
    d = decide(
        person("CANSHI"),
        bill(level=2, in_policy="10000.00", basic="6000.00"),
        {"YOUFU": D("100.00")},
        pol=pol,
    )
    # (1000 - 200) x 50% = 400, held to 300 - 100 = 200
    assert (d.youfu.amount, d.youfu.cap_left_after) == (D("200.00"), D("0.00"))
    assert Reason.YOUFU_CAP_LIMITED in d.reasons


def test_youfu_is_only_for_the_youfu_categories_of_52_hao():
    from .helpers import YOUFU_CAP_2000

    pol = policy(overrides=YOUFU_CAP_2000)
    for cat in ("CANJI_7_10", "LIESHI_97", "TEKUN"):
        assert not decide(person(cat), bill(), pol=pol).youfu.eligible
    youfu = {m.category for m in pol.memberships if m.group == "YOUFU"}
    assert youfu == {
        "LIESHI_YISHU",
        "YINGONG_YISHU",
        "BINGGU_YISHU",
        "ZAIXIANG_FUYUAN",
        "CANZHAN",
        "CANSHI",
        "DAIBING_HUIXIANG",
        "NONGCUN_60",
    }


# ---------------------------------------------------------------- §11 order of payment
def test_layers_are_basic_critical_assistance_youfu_each_on_what_the_earlier_left():
    from .helpers import YOUFU_CAP_2000

    pol = policy(overrides=YOUFU_CAP_2000)
    d = decide(
        person("ZAIXIANG_FUYUAN"),
        bill(level=2, in_policy="20000.00", basic="12000.00", critical="2000.00"),
        pol=pol,
    )
    layers = d.layers()
    assert [lay.code for lay in layers] == ["BASIC", "CRITICAL", "ASSISTANCE", "YOUFU"]
    assert [lay.amount for lay in layers] == [D("12000.00"), D("2000.00"), D("4500.00"), D("750.00")]
    assert layers[2].base == D("6000.00") and layers[3].base == D("1500.00")
    assert d.remaining_self_pay == D("750.00")
