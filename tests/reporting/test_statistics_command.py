"""``manage.py statistics`` on the hand-worked year of conftest.py, by every key, for the year, a
quarter, a month and a town; and the figures following the decisions (a late approval, a
re-decision waiting for approval)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reporting.cuts import Period
from reporting.models import RefreshQueue

from .conftest import run_json

pytestmark = pytest.mark.django_db


def stats(*args) -> dict:
    return run_json("statistics", *args)


def rows(out) -> dict:
    return {r["key"]: (r["people"], r["person_times"], r["amount"], r["youfu_amount"]) for r in out["rows"]}


YEAR_TOTAL = {"people": 2, "person_times": 5, "amount": "10380.00", "youfu_amount": "80.00"}


def test_the_decisions_of_the_year_are_the_hand_worked_ones(year_2025):
    from claims.models import Decision

    got = sorted((d.bill.note[:7], str(d.assistance), str(d.youfu_subsidy)) for d in Decision.objects.select_related("bill"))
    assert got == sorted([
        ("原系统票据H1", "100.00", "20.00"), ("原系统票据E1", "4000.00", "0.00"), ("原系统票据E2", "2000.00", "0.00"),
        ("原系统票据E3", "280.00", "60.00"), ("原系统票据E4", "0.00", "0.00"), ("原系统票据E5", "0.00", "0.00"),
    ])


@pytest.mark.parametrize(
    "by, expected",
    [
        ("scheme", {"OUTPATIENT": (1, 2, "380.00", "80.00"), "INPATIENT": (1, 3, "10000.00", "0.00")}),
        ("category", {"TEKUN": (1, 3, "10000.00", "0.00"), "BINGGU_YISHU": (1, 2, "380.00", "80.00")}),
        ("town", {"SLH": (1, 3, "10000.00", "0.00"), "HX": (1, 2, "380.00", "80.00")}),
        # level 2: L1 4,000 + E1 4,000 (王建国) + E3 280 (李秀英); level 3: E2 2,000 (王建国) + H1 100 (李秀英)
        ("level", {2: (2, 3, "8280.00", "60.00"), 3: (2, 2, "2100.00", "20.00")}),
        ("kind", {"INPATIENT": (1, 3, "10000.00", "0.00"), "OUTPATIENT": (1, 2, "380.00", "80.00")}),
        ("route", {"HAND": (2, 4, "6380.00", "80.00"), "ONE_STOP": (1, 1, "4000.00", "0.00")}),
    ],
)
def test_the_year_by_each_key(year_2025, by, expected):
    out = stats("--year", "2025", "--by", by)
    assert (out["year"], out["period"], out["by"]) == (2025, "2025", by)
    assert rows(out) == expected
    assert out["total"] == YEAR_TOTAL  # people are counted once however many rows they appear in


def test_rows_come_in_order_with_chinese_labels(year_2025):
    out = stats("--year", "2025", "--by", "scheme")
    assert [(r["key"], r["label"]) for r in out["rows"]] == [
        ("OUTPATIENT", "普通疾病门诊医疗救助"), ("INPATIENT", "普通疾病住院医疗救助")]
    out = stats("--year", "2025", "--by", "route")
    assert [r["label"] for r in out["rows"]] == ["手工报销", "一站式结算"]


def test_a_quarter_a_month_and_a_town(year_2025):
    q2 = stats("--year", "2025", "--quarter", "2", "--by", "scheme")  # E1 (April), E3 (May)
    assert q2["period"] == "2025-Q2"
    assert rows(q2) == {"INPATIENT": (1, 1, "4000.00", "0.00"), "OUTPATIENT": (1, 1, "280.00", "60.00")}
    assert q2["total"] == {"people": 2, "person_times": 2, "amount": "4280.00", "youfu_amount": "60.00"}
    march = stats("--year", "2025", "--month", "3", "--by", "route")  # L1; E5 paid nothing: left out
    assert march["period"] == "2025-03"
    assert rows(march) == {"ONE_STOP": (1, 1, "4000.00", "0.00")}
    slh = stats("--year", "2025", "--by", "scheme", "--town", "SLH")
    assert slh["town"] == "SLH"
    assert rows(slh) == {"INPATIENT": (1, 3, "10000.00", "0.00")}
    assert slh["total"] == {"people": 1, "person_times": 3, "amount": "10000.00", "youfu_amount": "0.00"}
    hx = stats("--year", "2025", "--by", "level", "--town", "双龙湖街道".replace("双龙湖街道", "HX"))
    assert rows(hx) == {2: (1, 1, "280.00", "60.00"), 3: (1, 1, "100.00", "20.00")}
    empty = stats("--year", "2025", "--month", "12", "--by", "town")
    assert empty["rows"] == [] and empty["total"] == {"people": 0, "person_times": 0, "amount": "0.00", "youfu_amount": "0.00"}


@pytest.mark.parametrize(
    "args",
    [["--year", "2025", "--by", "colour"], ["--year", "2025", "--month", "13", "--by", "scheme"],
     ["--year", "2025", "--by", "scheme", "--town", "ZZZ"]],
)
def test_bad_arguments_are_refused(year_2025, args):
    with pytest.raises((CommandError, SystemExit)):
        stats(*args)


def test_a_late_approval_and_a_pending_re_decision(year_2025, staff):
    from beneficiaries.models import Person
    from claims.models import Bill, Institution
    from claims.services import bill_decide, bill_enter, decision_approve
    from reporting.build import refresh

    li = Person.objects.get(name="李秀英")
    bill = bill_enter(user=staff["district_clerk"], person=li, institution=Institution.objects.get(code="YB01"),
                      kind="OUTPATIENT", disease="", admitted_on=None, settled_on=date(2025, 6, 3),
                      total_cost=Decimal("100.00"), in_policy_cost=Decimal("100.00"), basic_paid=Decimal("50.00"),
                      critical_paid=Decimal("0.00"))
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    assert RefreshQueue.objects.exists()  # every change is queued in its own transaction
    refresh()
    assert stats("--year", "2025", "--by", "kind")["total"] == YEAR_TOTAL  # decided, not approved: not counted
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)
    assert d.assistance == Decimal("20.00")  # the outpatient cap of 400 less 100 + 280 used
    total = stats("--year", "2025", "--by", "kind")["total"]
    assert total == {"people": 2, "person_times": 6, "amount": "10400.00", "youfu_amount": "95.00"}  # youfu (50−20)×50 %
    # a re-decision waiting for approval: the approved decision still counts until the new one is approved
    e2 = Bill.objects.get(note__startswith="原系统票据E2")
    bill_decide(bill_id=e2.pk, user=staff["district_clerk"], reason="录入错误更正")
    assert stats("--year", "2025", "--by", "kind")["total"] == total


def test_pages_and_the_command_read_aggregates_only(year_2025):
    from reporting.selectors import table

    with CaptureQueriesContext(connection) as ctx:
        t = table(Period(2025), "category")
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "claims_decision" not in sql and "reporting_fact" not in sql
    assert len(ctx.captured_queries) <= 6
    assert t.total.person_times == 5 and t.total.amount_per_time == Decimal("2076.00")
