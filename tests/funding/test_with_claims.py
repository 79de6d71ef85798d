"""A month end to end with the claims app: a bill approved → in the fund request → transfer → paid
through a batch → the claim becomes paid; then a re-decision finds an overpayment → receivable →
recovered; the month is closed. Balances equal the sum of their entries throughout."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from beneficiaries.models import Identity
from funding import services
from funding.models import Account, JournalLine, PayableLine, Receivable

claims_services = pytest.importorskip("claims.services")
pytestmark = pytest.mark.django_db


def balance(code):
    return services.account_balance(Account.objects.get(code=code))


@pytest.fixture
def approved_bill(people, staff):
    from claims.models import Institution

    inst = Institution.objects.create(code="YB01", name="渝北区人民医院", level=2, bank_name="渝北农商行", bank_account="6200001")
    bill = claims_services.bill_enter(
        user=staff["district_clerk"], person=people["slh"], institution=inst, kind="INPATIENT", disease="",
        admitted_on=None, settled_on=date(2025, 4, 9), total_cost=Decimal("14000.00"), in_policy_cost=Decimal("14000.00"),
        basic_paid=Decimal("9000.00"), critical_paid=Decimal("0.00"), account_holder=people["slh"].name,
        bank_name="重庆农村商业银行", bank_account="6228480000000001",
    )
    claims_services.bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    decision = claims_services.decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    return bill, decision


def test_a_month_with_an_approved_claim_end_to_end(approved_bill, people, staff, fund):
    from claims.models import Adjustment, Bill

    bill, decision = approved_bill
    fin, rev, clerk = staff["finance"], staff["reviewer"], staff["district_clerk"]
    at = timezone.localtime(decision.reviewed_at)
    today = at.date()
    fund("SPECIAL", "50000.00", on=today)

    req = services.fund_request_create(year=at.year, month=at.month, user=clerk)
    line = PayableLine.objects.get(request=req)
    assert (line.provider, line.source_key, line.amount, line.scheme) == (
        "claims", f"decision:{decision.pk}:ASSISTANCE", decision.assistance, decision.scheme)
    assert req.total_assistance == decision.assistance
    services.fund_request_submit(request_id=req.pk, user=rev)
    services.fund_request_record_transfer(request_id=req.pk, on=today, source_document="渝北财社〔2025〕20号",
                                          entered_by=fin, approved_by=rev)
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=today, failures={}, user=rev)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID
    assert balance("EXPENDITURE") == Decimal("0.00")

    # a roster correction ends the identity retroactively: the re-decision opens a receivable here
    Identity.objects.filter(person=people["slh"]).update(valid_to=date(2025, 3, 31))
    claims_services.bill_decide(bill_id=bill.pk, user=clerk, reason="低保身份追溯终止")
    claims_services.decision_approve(bill_id=bill.pk, user=rev)
    adj = Adjustment.objects.get(kind="RECOVERY")
    rec = Receivable.objects.get(source_key=adj.source_key)
    assert (rec.fund, rec.amount, rec.status) == ("ASSISTANCE", decision.assistance, "open")
    services.receivable_recover(receivable_id=rec.pk, amount=rec.amount, on=today, source_document="缴款书0009",
                                entered_by=fin, approved_by=rev)
    assert balance("EXPENDITURE") == decision.assistance

    with pytest.raises(services.FundingError, match="尚未结束"):  # a month is closed only after it ended
        services.period_close(year=today.year, month=today.month, user=fin)
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    services.period_close(year=today.year, month=today.month, user=fin, today=next_month)
    for acc in Account.objects.all():
        assert balance(acc.code) == (JournalLine.objects.filter(account=acc).aggregate(s=Sum("amount"))["s"] or 0)
    assert balance("SPECIAL") == Decimal("50000.00") - decision.assistance


def test_a_claim_decided_again_before_payment_is_withdrawn_not_paid(approved_bill, people, staff, fund):
    from claims.models import Bill

    bill, decision = approved_bill
    at = timezone.localtime(decision.reviewed_at)
    fund("SPECIAL", "50000.00", on=at.date())
    req = services.fund_request_create(year=at.year, month=at.month, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=at.date(), source_document="x", entered_by=staff["finance"],
                                          approved_by=staff["reviewer"])
    # before the bank file is made, the identity is found ended: the bill is decided again (nothing payable)
    Identity.objects.filter(person=people["slh"]).update(valid_to=date(2025, 3, 31))
    claims_services.bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="身份追溯终止")
    claims_services.decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    with pytest.raises(services.FundingError, match="没有待支付"):
        services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    assert PayableLine.objects.get(request=req).status == "withdrawn"
    assert balance("EXPENDITURE") == decision.assistance  # the money stays for next month
    bill.refresh_from_db()
    assert bill.status != Bill.Status.PAID
