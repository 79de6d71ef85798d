"""The projection to year-end and the fund risk warning on a constructed history (worked by hand).

Last year (2024) the assistance decided was 100 a month in January–June and 200 a month in
July–December: 1,800 in all, 300 (one sixth) by the end of March. This year (2025) 150 a month
was decided in January–March: 450 by the end of March, so the year is projected at
450 ÷ (1/6) = 2,700, reached month by month in last year's proportions.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from reporting.funds import position
from reporting.models import Aggregate, FundBudget, WarningRule

pytestmark = pytest.mark.django_db
MARCH_15 = date(2025, 3, 15)


@pytest.fixture
def history(db, staff):
    now = timezone.now()
    rows = [Aggregate(year=2024, period=f"M{m:02d}", grouping="", amount=(10000 if m <= 6 else 20000), built_at=now, cases=1)
            for m in range(1, 13)]
    rows += [Aggregate(year=2025, period=f"M{m:02d}", grouping="", amount=15000, built_at=now, cases=1) for m in (1, 2, 3)]
    Aggregate.objects.bulk_create(rows)

    def budget(amount):
        FundBudget.objects.update_or_create(year=2025, line="UPPER", defaults={"amount": Decimal(amount),
                                                                              "updated_by": staff["finance"]})

    return budget


def test_the_projection_follows_last_years_seasonality(history):
    history("2400.00")
    p = position("ASSISTANCE", 2025, MARCH_15)
    assert p.months_done == 3 and p.committed == Decimal("450.00") and p.burn == Decimal("150.00")
    assert p.projected == Decimal("2700.00")
    assert [str(v) for v in p.projected_by_month] == [
        "150.00", "300.00", "450.00", "600.00", "750.00", "900.00", "1200.00", "1500.00", "1800.00", "2100.00",
        "2400.00", "2700.00"]
    assert p.seasonality == "按上年各月支出进度（季节性）测算"
    # 2,400 budgeted: the money lasts into December, but the year runs 300 over
    assert p.run_out_month == 12
    assert any("超出预算300.00元" in w for w in p.warnings)


def test_a_fund_projected_to_run_out_before_december_warns(history):
    history("2000.00")
    p = position("ASSISTANCE", 2025, MARCH_15)
    assert p.run_out_month == 10  # 2,100 by the end of October passes 2,000
    assert any("预计10月资金用尽" in w for w in p.warnings)
    # and spending runs ahead of the plan: 450 decided against 2,000 × 1/6 = 333.33 planned (+35 %)
    assert p.plan_to_date == Decimal("333.33") and p.deviation == Decimal("0.3500")
    assert any("快于预算序时进度35.0%" in w for w in p.warnings)


def test_the_thresholds_are_dated_data(history):
    history("3000.00")  # plan to date 500, decided 450: 10 % behind, exactly at the shipped line
    p = position("ASSISTANCE", 2025, MARCH_15)
    assert p.deviation == Decimal("-0.1000") and p.warnings == []
    WarningRule.objects.create(key="DEVIATION", value=Decimal("0.05"), effective_from=date(2025, 3, 1), source="测试")
    p = position("ASSISTANCE", 2025, MARCH_15)
    assert any("慢于预算序时进度10.0%（预警线5%）" in w for w in p.warnings)
    assert position("ASSISTANCE", 2025, date(2025, 2, 28)).deviation_limit == Decimal("0.10")  # before the new row


def test_without_last_year_an_even_twelfth_a_month_and_no_budget_says_so(db):
    Aggregate.objects.create(year=2025, period="M01", grouping="", amount=12000, built_at=timezone.now(), cases=1)
    p = position("ASSISTANCE", 2025, date(2025, 1, 20))
    assert p.seasonality == "上年无数据，按各月平均测算" and p.projected == Decimal("1440.00")
    assert p.warnings == ["尚未录入年度预算"]


def test_without_a_threshold_in_force_the_position_says_so_instead_of_assuming_one(history):
    # the thresholds are policy data: none in force on the day is said, never replaced by a figure in code
    history("2400.00")
    WarningRule.objects.all().delete()
    p = position("ASSISTANCE", 2025, MARCH_15)
    assert p.deviation_limit is None and p.run_out_limit is None
    assert any("没有生效的资金风险预警阈值" in w for w in p.warnings), p.warnings
    assert not any("预警线" in w for w in p.warnings)
