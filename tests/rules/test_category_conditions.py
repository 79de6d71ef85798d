"""Category age conditions are dated policy data checked on the date the rule is applied
(issue 10, defect 6; POLICY.md §3, D1, D8; 渝退役军人局〔2022〕52号 第二条 "60周岁以上农村籍退役人员").

Before the fix the engine trusted the roster: a NONGCUN_60 veteran aged 59 on the settlement date got
140.00 of outpatient assistance, and a 400.00 contribution subsidy for a year in which they turn 60
only later.
"""

from datetime import date

from yfbz.rules import Enrolment, Identity, Reason, contribution_subsidy

from .helpers import YOUFU_CAP_2000, D, bill, decide, person, policy

BIRTH = date(1965, 9, 10)  # 60 on 2025-09-10


def outpatient(on):
    # in-policy 400, basic 200: self-pay 200 x 70 % (OUT_400) = 140.00
    return bill("OUTPATIENT", in_policy="400.00", basic="200.00", on=on)


def test_a_nongcun_60_veteran_aged_59_on_the_settlement_date_gets_no_outpatient_assistance():
    d = decide(person("NONGCUN_60", birth=BIRTH), outpatient(date(2025, 9, 9)))
    assert d.amount == D("0.00") and d.scheme is None
    assert Reason.CATEGORY_AGE_NOT_MET in d.reasons
    assert "年满60周岁" in d.explain_zh()


def test_from_the_60th_birthday_the_same_veteran_is_paid():
    d = decide(person("NONGCUN_60", birth=BIRTH), outpatient(date(2025, 9, 10)))
    assert (d.scheme, d.amount) == ("OUTPATIENT", D("140.00"))


def test_under_age_the_veterans_subsidy_is_not_given_either():
    p = person("NONGCUN_60", birth=BIRTH)
    b = bill(in_policy="10000.00", basic="5000.00", on=date(2025, 6, 1))
    d = decide(p, b, pol=policy(b.settled_on, YOUFU_CAP_2000))
    assert d.youfu.amount == D("0.00") and not d.youfu.eligible


def test_another_identity_still_counts_when_the_age_rule_drops_one():
    d = decide(person("NONGCUN_60", "DIBAO", birth=BIRTH), outpatient(date(2025, 6, 1)))
    assert (d.category, d.amount) == ("DIBAO", D("140.00"))


def test_no_subsidy_for_a_year_in_which_the_veteran_turns_60_only_later():
    p = person("NONGCUN_60", birth=date(1966, 3, 1))  # 60 only in 2026
    s = contribution_subsidy(policy(date(2025, 12, 31)), p, 2025, Enrolment.RESIDENT_T1)
    assert s.amount == D("0.00")
    assert Reason.SUBSIDY_AGE_NOT_MET in s.reasons


def test_the_subsidy_counts_only_days_from_the_60th_birthday():
    pol = policy(date(2025, 12, 31))
    ended_before = person("NONGCUN_60", birth=BIRTH, since=date(2025, 1, 1), until=date(2025, 9, 9))
    assert contribution_subsidy(pol, ended_before, 2025, Enrolment.RESIDENT_T1).amount == D("0.00")
    one_day = person("NONGCUN_60", birth=BIRTH, since=date(2025, 1, 1), until=date(2025, 9, 10))
    assert contribution_subsidy(pol, one_day, 2025, Enrolment.RESIDENT_T1).amount == D("400.00")
    # two identities giving the same amount all year: the tie goes to the one held longer in the
    # year, and NONGCUN_60 is held (as a qualifying identity) only from the birthday
    both = person("NONGCUN_60", "CANJI_7_10", birth=BIRTH, since=date(2025, 1, 1))
    assert contribution_subsidy(pol, both, 2025, Enrolment.RESIDENT_T1).category == "CANJI_7_10"


def test_the_age_condition_is_dated_data_a_new_row_changes_it_from_its_date():
    over = {"category_conditions": [{"category": "NONGCUN_60", "min_age": 55, "effective_from": "2025-07-01"}]}
    p = person("NONGCUN_60", birth=date(1968, 1, 1))  # 57 in 2025
    assert decide(p, outpatient(date(2025, 6, 30)), pol=policy(date(2025, 6, 30), over)).amount == D("0.00")
    assert decide(p, outpatient(date(2025, 7, 1)), pol=policy(date(2025, 7, 1), over)).amount == D("140.00")


def test_the_age_rule_is_not_read_from_the_category_name():
    # a category named "…60周岁以上…" has no age rule unless the policy data gives it one
    over = {
        "categories": [{"code": "LAONIAN_60", "name": "60周岁以上测试类别", "department": "VETERANS"}],
        "memberships": [{"category": "LAONIAN_60", "group": "OUT_400"}],
    }
    p = person(birth=BIRTH, identities=(Identity("LAONIAN_60", date(2020, 1, 1)),))
    d = decide(p, outpatient(date(2025, 6, 1)), pol=policy(date(2025, 6, 1), over))
    assert d.amount == D("140.00")


# --- dated person attributes (issue 10 item 7) ---------------------------------------------------
def test_a_mid_year_out_400_to_out_700_is_recorded_by_a_dated_attribute():
    from yfbz.rules import AttributeSpan, Person

    base = person("DIBAO")
    p = Person(base.id_number, base.birth_date, base.identities,
               attribute_spans=(AttributeSpan("needs_maintenance_treatment", date(2025, 7, 1)),))
    before = decide(p, bill("OUTPATIENT", in_policy="1000.00", basic="500.00", on=date(2025, 6, 30)))
    after = decide(p, bill("OUTPATIENT", in_policy="1000.00", basic="500.00", on=date(2025, 7, 1)))
    assert (before.group, before.amount) == ("OUT_400", D("350.00"))  # 500 x 70 %
    assert (after.group, after.amount) == ("OUT_700", D("500.00"))  # 100 %, limit 700


def test_a_scenario_gives_dated_attributes_as_spans():
    from yfbz.rules import default_book
    from yfbz.rules.scenario import parse_scenario, run_scenario

    idn = person("DIBAO").id_number
    data = {
        "persons": [{"id_number": idn, "identities": [{"category": "DIBAO", "valid_from": "2024-01-01"}],
                     "attributes": {"needs_maintenance_treatment": [{"valid_from": "2025-07-01", "valid_to": None}]}}],
        "institutions": [{"code": "H1", "level": 2}],
        "bills": [
            {"ref": f"B{m}", "id_number": idn, "institution": "H1", "kind": "OUTPATIENT", "settled_on": f"2025-0{m}-10",
             "total_cost": "1000.00", "in_policy_cost": "1000.00", "basic_paid": "500.00"}
            for m in (6, 7)
        ],
    }
    book = default_book()
    out = run_scenario(parse_scenario(data, categories=book.in_force(date(2025, 1, 1)).categories), book)
    assert [(b["ref"], b["assistance"]) for b in out["bills"]] == [("B6", "350.00"), ("B7", "350.00")]
    # B7: OUT_700 from July, but its limit (700) less the 350 OUTPATIENT already paid this year (D4)


# --- designated institutions (2号 二(五)) ----------------------------------------------------------
def test_major_disease_assistance_needs_a_designated_institution():
    from yfbz.rules import Bill, BillKind

    p = person("SANJU_GUER")  # MAJ_75, IN_80_75
    def stay(designated):
        # self-pay 20,000: major disease 75 % = 15,000; ordinary inpatient 80 % capped at 10,000
        return Bill(BillKind.INPATIENT, date(2025, 6, 1), 2, D("30000.00"), D("10000.00"), D("0.00"), "肺癌",
                    designated=designated)
    at_designated = decide(p, stay(True))
    elsewhere = decide(p, stay(False))
    assert (at_designated.scheme, at_designated.amount) == ("MAJOR_DISEASE", D("15000.00"))
    # not designated: major disease refused with its reason; ordinary inpatient (80 %) is still paid
    maj = next(c for c in elsewhere.considered if c.scheme == "MAJOR_DISEASE")
    assert not maj.applicable and Reason.NOT_DESIGNATED_INSTITUTION in maj.reasons
    assert (elsewhere.scheme, elsewhere.amount) == ("INPATIENT", D("10000.00"))
    assert "定点" in Reason.NOT_DESIGNATED_INSTITUTION.zh


# --- veterans' subsidy: inpatient only, annual threshold (晋退役军人规〔2024〕2号 第八条) ----------------
def shanxi_youfu(**fields):
    rule = {"category": None, "ratio": "0.50", "threshold": "0.00", "annual_cap": "5000.00",
            "source": "晋退役军人规〔2024〕2号 第八条（示例）", "status": "confirmed", **fields}
    return {"youfu_rules": [rule]}


def test_the_shipped_youfu_rule_keeps_todays_behaviour():
    from yfbz.rules import default_book

    rule = default_book().in_force(date(2025, 6, 1)).youfu_rules[0]
    assert (rule.inpatient_only, rule.annual_threshold) == (False, D("0.00"))


def test_an_inpatient_only_youfu_rule_gives_nothing_on_outpatient_bills():
    p = person("BINGGU_YISHU")  # YOUFU, OUT_400, IN_75
    pol = policy(date(2025, 6, 1), shanxi_youfu(inpatient_only=True))
    out = decide(p, bill("OUTPATIENT", in_policy="1000.00", basic="500.00", on=date(2025, 6, 1)), pol=pol)
    stay = decide(p, bill(in_policy="10000.00", basic="5000.00", on=date(2025, 6, 1)), pol=pol)
    assert out.youfu.amount == D("0.00") and Reason.YOUFU_INPATIENT_ONLY in out.youfu.reasons
    assert stay.youfu.amount == D("625.00")  # (5,000 − 75 % assistance 3,750) x 50 %


def test_an_annual_threshold_subsidises_only_the_years_burden_above_it():
    from .helpers import run

    p = person("BINGGU_YISHU")
    pol = policy(date(2025, 6, 1), shanxi_youfu(annual_threshold="2000.00"))
    # each stay leaves 1,250 after 75 % assistance: the first 2,000 of the year is the person's own
    d1, d2, d3 = run(p, *(bill(in_policy="10000.00", basic="5000.00", on=date(2025, m, 1), ref=f"B{m}")
                          for m in (3, 4, 5)), pol=pol)
    assert d1.youfu.amount == D("0.00") and Reason.YOUFU_BELOW_ANNUAL_THRESHOLD in d1.youfu.reasons
    assert d2.youfu.amount == D("250.00")  # (1,250 − the 750 still below the threshold) x 50 %
    # the third stay reaches the 10,000 inpatient cap (2,500 left): 2,500 remains, all above the threshold
    assert (d3.amount, d3.youfu.amount) == (D("2500.00"), D("1250.00"))
    assert "年度起付额" in d2.explain_zh()
