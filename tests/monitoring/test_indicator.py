"""The indicator: recipients' in-policy self-pay ratio before and after assistance from the high-cost
export, by month, category and town (figures checked by hand), scoped by town; and the leadership
dashboard's monitoring sections: open warnings and applications per town, totals only, no person."""

from datetime import date

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
