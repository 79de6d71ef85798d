"""Funds by area (docs/areas.md): own accounts belong to a pool (a district's during a transition, the
city's after it), a transfer between pools is one ledger entry, fund requests carry the district
they serve, and balances are reported by pool."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from claims.services import decision_approve
from funding.models import Account, EntryKind, JournalEntry
from funding.selectors import balances_by_pool
from funding.services import FundingError
from funding.services.ledger import money_in, pool_transfer
from funding.services.requests import fund_request_create
from yfbz.areas.models import Area

pytestmark = pytest.mark.django_db

ON = date(2026, 2, 2)


@pytest.fixture
def lj_pool(db):
    return Account.objects.create(code="LJ_SPECIAL", name="两江新区 医疗救助资金 财政专户", kind=Account.Kind.OWN,
                                  fund="ASSISTANCE", area=Area.objects.get(code="LJ"))


def test_two_district_pools_kept_apart_and_a_transfer_between_them(lj_pool, staff):
    money_in(account="SPECIAL", kind=EntryKind.INCOME_CITY, amount=Decimal("10000.00"), on=ON, counterpart="CITY",
             source_document="渝财社〔2026〕1号", description="市级下拨", entered_by=staff["finance"],
             approved_by=staff["reviewer"])
    pools = {p["area"].code: p for p in balances_by_pool()}
    assert pools["YB"]["by_fund"]["医疗救助资金"] == Decimal("10000.00")
    assert pools["LJ"]["by_fund"]["医疗救助资金"] == Decimal("0.00")

    entry = pool_transfer(from_account="SPECIAL", to_account="LJ_SPECIAL", amount=Decimal("4000.00"), on=ON,
                          source_document="两江新区过渡期资金划转通知", description="划出镇街的资金",
                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    assert entry.kind == EntryKind.POOL_TRANSFER and entry.lines.count() == 2
    pools = {p["area"].code: p for p in balances_by_pool()}
    assert pools["YB"]["by_fund"]["医疗救助资金"] == Decimal("6000.00")
    assert pools["LJ"]["by_fund"]["医疗救助资金"] == Decimal("4000.00")

    n = JournalEntry.objects.count()
    with pytest.raises(FundingError, match="同一资金池"):
        pool_transfer(from_account="SPECIAL", to_account="EXPENDITURE", amount=Decimal("1.00"), on=ON,
                      source_document="x", description="x", entered_by=staff["finance"], approved_by=staff["reviewer"])
    with pytest.raises(FundingError, match="余额不足"):
        pool_transfer(from_account="LJ_SPECIAL", to_account="SPECIAL", amount=Decimal("4000.01"), on=ON,
                      source_document="x", description="x", entered_by=staff["finance"], approved_by=staff["reviewer"])
    with pytest.raises(FundingError, match="录入人与审核人不能是同一人"):
        pool_transfer(from_account="LJ_SPECIAL", to_account="SPECIAL", amount=Decimal("1.00"), on=ON,
                      source_document="x", description="x", entered_by=staff["finance"], approved_by=staff["finance"])
    assert JournalEntry.objects.count() == n  # nothing half-applied


def test_a_fund_request_carries_the_district_it_serves(make_person, decided_bill, staff, make_user):
    from yfbz.core.roles import Role

    p = make_person("申请人", town="SLH")
    bill = decided_bill(p, settled_on=date(2026, 1, 10), in_policy="5000.00", basic="0.00")
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)
    at = timezone.localtime(d.reviewed_at)
    req = fund_request_create(year=at.year, month=at.month, user=staff["district_clerk"])
    assert req.district.code == "YB"
    lj_clerk = make_user("lj_clerk", Role.DISTRICT_CLERK, district=Area.objects.get(code="LJ"))
    from funding.services.requests import _district_served

    assert _district_served(lj_clerk, date(2026, 2, 1)) == Area.objects.get(code="LJ").pk
