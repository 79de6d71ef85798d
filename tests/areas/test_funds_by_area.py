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


def test_fund_requests_are_compiled_per_district_and_each_district_sees_its_own(
    make_person, decided_bill, enter_bill, staff, make_user, towns, login
):
    """统景 moves to 北碚区 on 20 January 2026: its January bill is still 渝北's to pay, its February bill
    北碚's; each district compiles a request of its own payables, and sees only its own requests."""
    from django.urls import reverse

    from claims.services import bill_decide
    from funding.models import PayableLine
    from yfbz.areas import services as areas
    from yfbz.core.roles import Role

    tj, slh = make_person("统景人", town="TJ"), make_person("双龙湖人", town="SLH")
    january = decided_bill(tj, settled_on=date(2026, 1, 10), in_policy="5000.00", basic="0.00")
    areas.move_town(towns["TJ"], "BB", date(2026, 1, 20), source="划归北碚区")
    bb = Area.objects.get(code="BB")
    bb_clerk, bb_reviewer = make_user("bb_clerk", Role.DISTRICT_CLERK, district=bb), make_user("bb_rev", Role.DISTRICT_REVIEWER, district=bb)
    february = enter_bill(tj, settled_on=date(2026, 2, 5), in_policy="3000.00", basic="0.00", user=bb_clerk)
    bill_decide(bill_id=february.pk, user=bb_clerk)
    ours = decided_bill(slh, settled_on=date(2026, 2, 6), in_policy="2000.00", basic="0.00")
    for bill, reviewer in ((january, staff["reviewer"]), (february, bb_reviewer), (ours, staff["reviewer"])):
        d = decision_approve(bill_id=bill.pk, user=reviewer, confirm_provisional=True)
    at = timezone.localtime(d.reviewed_at)

    yb_req = fund_request_create(year=at.year, month=at.month, user=staff["district_clerk"])
    bb_req = fund_request_create(year=at.year, month=at.month, user=bb_clerk)
    assert (yb_req.district.code, bb_req.district.code) == ("YB", "BB")

    def payees(req):
        return sorted(PayableLine.objects.filter(request=req).values_list("source_key", flat=True))

    key = "decision:{}:ASSISTANCE".format
    assert payees(yb_req) == sorted([key(january.current_decision.pk), key(ours.current_decision.pk)])
    assert payees(bb_req) == [key(february.current_decision.pk)]
    with pytest.raises(FundingError, match="北碚区没有尚未申请"):
        fund_request_create(year=at.year, month=at.month, user=bb_clerk)  # nothing of 北碚's is left

    yb = login(staff["district_clerk"])
    assert yb.get(reverse("funding:request-detail", args=[bb_req.pk])).status_code == 404
    assert yb.get(reverse("funding:request-detail", args=[yb_req.pk])).status_code == 200
    bbc = login(bb_clerk)
    assert bbc.get(reverse("funding:request-detail", args=[yb_req.pk])).status_code == 404
    # the form's PDF: a job of the district's own request; the other district's request is 404, no job made
    assert bbc.post(reverse("funding:request-pdf", args=[yb_req.pk])).status_code == 404
    assert bbc.post(reverse("funding:request-pdf", args=[bb_req.pk])).status_code == 302
    home = bbc.get(reverse("funding:home")).content.decode()
    assert bb_req.number in home and yb_req.number not in home
    city = login(make_user("city", Role.CITY))
    assert all(city.get(reverse("funding:request-detail", args=[r.pk])).status_code == 200 for r in (yb_req, bb_req))
