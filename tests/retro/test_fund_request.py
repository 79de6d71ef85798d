"""Issue 16, defect 4 (money): a fund request shows the lines withdrawn after a re-decision, and the
money already transferred for a withdrawn line is accounted for — held for the next request (its
transfer is that much smaller) or returned to 财政专户 by an entry."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from funding import services
from funding.models import Account, JournalEntry, JournalLine, PayableLine, WithdrawnFunds

from .conftest import money

pytestmark = pytest.mark.django_db


def balance(code):
    return services.account_balance(Account.objects.get(code=code))


@pytest.fixture
def funded_request(make_person, decided_bill, approve, staff, fund):
    """Two approved bills (4,000.00 each) on a fund request the finance bureau has funded."""

    def do():
        a = make_person("甲撤回", categories=("DIBAO",))
        b = make_person("乙照付", categories=("DIBAO",))
        bills = [decided_bill(p, settled_on=date(2025, 11, 3)) for p in (a, b)]
        ds = [approve(bill) for bill in bills]
        at = timezone.localtime(ds[0].reviewed_at)
        fund("SPECIAL", "50000.00", on=at.date())
        req = services.fund_request_create(year=at.year, month=at.month, user=staff["district_clerk"])
        services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
        services.fund_request_record_transfer(request_id=req.pk, on=at.date(), source_document="渝北财社〔2025〕88号",
                                              entered_by=staff["finance"], approved_by=staff["reviewer"])
        return a, bills, ds, req, at

    return do


def test_a_line_withdrawn_after_the_transfer_is_shown_and_its_money_held_for_the_next_request(
        funded_request, apply_roster, staff, login, decided_bill, approve, make_person):
    from beneficiaries.models import RetroactiveChange
    from claims.services import retroactive_change_redecide

    a, bills, ds, req, at = funded_request()
    assert balance("EXPENDITURE") == money("8000.00")
    apply_roster([(a.id_number, a.name, "低保", "双龙湖", "", "", "2025-10-31")])
    retroactive_change_redecide(change_id=RetroactiveChange.objects.get(person=a).pk, user=staff["district_clerk"])
    line = PayableLine.objects.get(source_key=f"decision:{ds[0].pk}:ASSISTANCE")
    assert line.status == "withdrawn" and "重新核定" in line.withdrawn_reason
    held = WithdrawnFunds.objects.get(line=line)
    assert (held.status, held.amount, held.request) == ("held", money("4000.00"), req)
    page = login(staff["finance"]).get(reverse("funding:request-detail", args=[req.pk])).content.decode()
    withdrawn = page[page.index('data-testid="withdrawn"'):]
    assert "甲撤回" in withdrawn and "4,000.00" in withdrawn and "留存支出户，抵减下次申请" in withdrawn
    assert "已撤回 1 笔 4,000.00 元，不支付" in page
    summary = page[page.index("<h3>汇总</h3>"):page.index("<h3>办理</h3>")]
    assert "8,000.00" not in summary and "4,000.00" in summary  # only the line still to be paid
    # the bank pays 乙 only
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    assert batch.total == money("4000.00")
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=at.date(), failures={}, user=staff["reviewer"])
    assert balance("EXPENDITURE") == money("4000.00")  # 甲's money, held and explained
    # next request: a new bill of 4,000.00; the held 4,000.00 is taken off the transfer
    c = make_person("丙新", categories=("DIBAO",))
    approve(decided_bill(c, settled_on=date(2025, 11, 20)))
    nxt = services.fund_request_create(year=at.year, month=at.month, user=staff["district_clerk"])
    held.refresh_from_db()
    assert (nxt.carried_in, held.status, held.applied_to) == (money("4000.00"), "applied", nxt)
    assert services.transfer_due(nxt) == money("0.00")
    services.fund_request_submit(request_id=nxt.pk, user=staff["reviewer"])
    transfers = JournalEntry.objects.filter(kind="TRANSFER").count()
    services.fund_request_record_transfer(request_id=nxt.pk, on=at.date(), source_document="渝北财社〔2025〕89号",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    assert JournalEntry.objects.filter(kind="TRANSFER").count() == transfers  # nothing to transfer
    batch = services.payment_batch_create(request_id=nxt.pk, fund="ASSISTANCE", user=staff["finance"])
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=at.date(), failures={}, user=staff["reviewer"])
    assert balance("EXPENDITURE") == money("0.00")
    assert balance("SPECIAL") == money("50000.00") - money("8000.00")


def test_held_money_may_be_returned_to_the_special_account_by_an_entry(funded_request, staff, login):
    from claims.services import bill_decide

    a, bills, ds, req, at = funded_request()
    bill_decide(bill_id=bills[0].pk, user=staff["district_clerk"], reason="票据重复录入")
    held = WithdrawnFunds.objects.get(line__source_key=f"decision:{ds[0].pk}:ASSISTANCE")
    client = login(staff["finance"])
    client.post(reverse("funding:request-action", args=[req.pk, "return"]),
                {"funds": held.pk, "on": at.date().isoformat(), "source_document": "退库单0001"})
    held.refresh_from_db()
    assert held.status == "returned" and held.entry.kind == "RETURN_TO_SPECIAL"
    assert {(ln.account.code, ln.amount) for ln in held.entry.lines.all()} == {
        ("EXPENDITURE", money("-4000.00")), ("SPECIAL", money("4000.00"))}
    assert balance("EXPENDITURE") == money("4000.00") and balance("SPECIAL") == money("46000.00")
    page = client.get(reverse("funding:request-detail", args=[req.pk])).content.decode()
    assert f"已退回财政专户：凭证 {held.entry.number}" in page
    for acc in Account.objects.all():
        assert balance(acc.code) == (JournalLine.objects.filter(account=acc).aggregate(s=Sum("amount"))["s"] or Decimal("0"))


def test_a_line_withdrawn_before_the_transfer_is_not_transferred(make_person, decided_bill, approve, staff, fund):
    from claims.services import bill_decide

    a = make_person("丁未拨", categories=("DIBAO",))
    bill = decided_bill(a, settled_on=date(2025, 11, 3))
    d = approve(bill)
    at = timezone.localtime(d.reviewed_at)
    fund("SPECIAL", "50000.00", on=at.date())
    req = services.fund_request_create(year=at.year, month=at.month, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="住院日期录错")
    assert services.transfer_due(req) == money("0.00")
    services.fund_request_record_transfer(request_id=req.pk, on=at.date(), source_document="x",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    req.refresh_from_db()
    assert req.transferred_assistance == money("0.00") and balance("SPECIAL") == money("50000.00")
    assert not WithdrawnFunds.objects.exists()
