"""The build writes facts with INSERT … SELECT statements (no row through Python: bench/statistics.py
at 2,000,000 decisions); they are exactly the rows the row-by-row reference gives (``facts_for_bills`` /
``facts_for_settlement_months``), on the hand-worked year of conftest.py and after a town changes
district mid-year."""

from datetime import date

import pytest

from reporting.build import rebuild_year
from reporting.models import Fact
from reporting.sources import FACT_COLUMNS, facts_for_bills, facts_for_settlement_months

pytestmark = pytest.mark.django_db


def _fact_rows(facts) -> list[tuple]:
    return sorted(tuple(getattr(f, c) for c in FACT_COLUMNS) for f in facts)


def _reference_facts() -> list:
    bills = set(Fact.objects.exclude(bill_id=None).values_list("bill_id", flat=True))
    months = set(Fact.objects.exclude(settlement_month_id=None).values_list("settlement_month_id", flat=True))
    return facts_for_bills(bills) + facts_for_settlement_months(months)


def test_facts_written_by_sql_are_the_reference_facts(year_2025):
    rebuild_year(2025)
    written = list(Fact.objects.all())
    assert len(written) == 7  # H1, L1, E1–E5
    assert _fact_rows(written) == _fact_rows(_reference_facts())


def test_a_town_that_changes_district_mid_year_counts_under_each_on_its_dates(year_2025):
    from beneficiaries.models import Town
    from yfbz.areas.models import Area, TownDistrict

    slh = Town.objects.get(code="SLH")
    span = TownDistrict.objects.filter(town=slh).order_by("-valid_from").first()
    other = Area.objects.create(code="TESTD", name="测试区", kind=span.district.kind, parent=span.district.parent)
    span.valid_to = date(2025, 3, 31)
    span.save()
    TownDistrict.objects.create(town=slh, district=other, valid_from=date(2025, 4, 1), source="测试：4月划入测试区")
    from yfbz.areas.tree import invalidate

    invalidate()
    rebuild_year(2025)
    written = list(Fact.objects.all())
    assert _fact_rows(written) == _fact_rows(_reference_facts())
    by_district = {f.source_key[:4] + str(f.settled_on): f.district_id for f in written if f.town_id == slh.pk}
    assert other.pk in by_district.values() and span.district_id in by_district.values()


def test_every_cut_at_once_gives_what_each_cut_alone_gives(year_2025):
    from reporting.build import MEASURES, aggregate_period, aggregate_period_at_once
    from reporting.cuts import Period

    def cells(rows):
        return {(a.period, a.grouping, a.key1, a.key2): tuple(getattr(a, m) for m in MEASURES) for a in rows}

    rebuild_year(2025)
    for period in (Period(2025), Period(2025, quarter=1), Period(2025, quarter=2), Period(2025, month=3),
                   Period(2025, month=8), Period(2025, month=12)):
        assert cells(aggregate_period_at_once(period)) == cells(aggregate_period(period)), period
