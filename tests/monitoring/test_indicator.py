"""The indicator: recipients' in-policy self-pay ratio before and after assistance from the high-cost
export, by month, category and town (figures checked by hand), scoped by town; and the leadership
dashboard's monitoring sections: open warnings and applications per town, totals only, no person."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from tests.conftest import valid_id
from yfbz.core.roles import Role

from .conftest import csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(make_person, institutions, run_import):
    slh = make_person("甲双龙", town="SLH", categories=("DIBAO",))
    hx = make_person("乙回兴", town="HX", categories=("DIBAO",))
    # in-policy 25,000 − basic 15,000 − critical 2,000 = 8,000 self-pay before assistance each;
    # 回兴's row got 3,000 of assistance: 5,000 after
    data = csv_bytes([row("I001", slh, town="双龙湖", settled="2025-06-10"),
                      row("I002", hx, town="回兴", settled="2025-07-03", assistance="3000.00"),
                      row("I003", valid_id(date(1990, 3, 7), 777), "丙居民", town="回兴", settled="2025-07-04")])  # not a recipient
    code, out = run_import(data, apply=True)
    assert code == 0 and out["valid"] == 3, out
    return {"slh": slh, "hx": hx}


def test_the_ratio_by_month_category_and_town_checked_by_hand(month, staff):
    c = Client()
    c.force_login(staff["district_clerk"])
    page = c.get("/monitoring/indicator/?year=2025").content.decode()
    # total: before 16,000 / 50,000 = 32%, after 13,000 / 50,000 = 26%
    assert "2025年6月" in page and "2025年7月" in page
    assert "32%" in page and "26%" in page and "20%" in page  # July: 5,000 / 25,000
    assert "城乡低保" in page or "低保" in page  # the category by its name, never its code
    assert ">DIBAO<" not in page

    c.force_login(staff["slh_clerk"])  # their own town only: 8,000 / 25,000 both
    page = c.get("/monitoring/indicator/?year=2025").content.decode()
    assert "2025年7月" not in page and "26%" not in page and "32%" in page


def test_the_dashboard_shows_open_warnings_applications_and_the_ratio_without_a_person(month, make_user):
    boss = make_user("boss", Role.LEADERSHIP)
    c = Client()
    c.force_login(boss)
    page = c.get("/reporting/dashboard/?year=2025").content.decode()
    assert "高额费用监测预警与依申请救助" in page and "救助对象政策范围内自付比例" in page
    assert "32%" in page and "26%" in page
    assert "双龙湖" in page and "回兴" in page and "合计" in page
    assert "甲双龙" not in page and "乙回兴" not in page and "丙居民" not in page
    assert month["slh"].id_number not in page
    assert 'data-testid="no-sections"' not in page


def _cells():
    from monitoring.models import SelfPayMonth

    return sorted(SelfPayMonth.objects.values_list("year", "month", "category", "town__code", "settlements", "in_policy_cost",
                                                   "self_pay_before", "self_pay_after"))


def test_pages_read_the_month_totals_never_a_year_of_rows(month, staff, make_user):
    """A page reads the month totals each import added to, not the year's high-cost rows (at a million
    settlements a month the indicator and the dashboard summed every row per view)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    boss = make_user("boss2", Role.LEADERSHIP)
    for user, url in ((staff["district_clerk"], "/monitoring/indicator/?year=2025"),
                      (staff["slh_clerk"], "/monitoring/indicator/?year=2025"),
                      (boss, "/reporting/dashboard/?year=2025")):
        c = Client()
        c.force_login(user)
        with CaptureQueriesContext(connection) as q:
            page = c.get(url).content.decode()
        assert "32%" in page, user
        rows_read = [x["sql"] for x in q.captured_queries if "monitoring_highcostrow" in x["sql"]]
        assert not rows_read, (user, rows_read[:1])


def test_each_import_adds_to_the_month_totals_and_they_equal_a_rebuild_from_the_rows(month, make_person, run_import):
    from monitoring.indicator import rebuild_months

    # 6,000 self-pay, 4,000 of it assisted: 2,000 after
    third = make_person("丁双龙", town="SLH", categories=("DIBAO",))
    data = csv_bytes([row("I101", third, town="双龙湖", settled="2025-06-20", assistance="4000.00"),
                      row("I102", third, town="双龙湖", settled="2025-08-02")])
    code, out = run_import(data, month="2025-08", apply=True)
    assert code == 0 and out["valid"] == 2, out
    added = _cells()
    june_slh = [c for c in added if c[1] == 6 and c[3] == "SLH"]
    assert len(june_slh) == 1 and june_slh[0][4] == 2  # two settlements of June in 双龙湖: one cell, added to
    assert june_slh[0][5] == Decimal("50000.00") and june_slh[0][6] == Decimal("16000.00") and june_slh[0][7] == Decimal("12000.00")
    assert rebuild_months() == len(added)
    assert _cells() == added
    # the same file again: every row a duplicate, nothing added twice
    code, out = run_import(data, month="2025-08", apply=True)
    assert _cells() == added


def test_a_department_officer_reads_only_their_peoples_figures(make_person, institutions, run_import, staff):
    civil = make_person("甲民政", town="SLH", categories=("DIBAO",))
    veteran = make_person("乙退役", town="SLH", categories=("BINGGU_YISHU",))
    data = csv_bytes([row("I201", civil, town="双龙湖", settled="2025-06-10"),
                      row("I202", veteran, town="双龙湖", settled="2025-06-11", assistance="8000.00")])
    code, out = run_import(data, apply=True)
    assert code == 0 and out["valid"] == 2, out
    c = Client()
    c.force_login(staff["civil_officer"])
    page = c.get("/monitoring/indicator/?year=2025").content.decode()
    # the civil-affairs officer: their 低保 person's 8,000 / 25,000 = 32% before and after; not the veteran's 0%
    assert "32%" in page and "25,000.00" in page and "50,000.00" not in page
    c.force_login(staff["slh_clerk"])  # the town sees both: 16,000 / 50,000 before, 8,000 after
    page = c.get("/monitoring/indicator/?year=2025").content.decode()
    assert "50,000.00" in page and "32%" in page and "16%" in page
