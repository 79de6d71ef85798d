"""Work left waiting for each role at the end of ``manage.py demo_data`` (issue 11), so that every home page has
something to act on: the reviewer has bills to approve (the bills step leaves them) and a draft fund request to
check; finance has a payment batch sent to the bank waiting for its return; the town clerks have last month's
roster to review (the rosters step leaves it). Run last (claims.demo.demo_steps_last): money must be in the
ledger and the month's earlier requests made. Re-runnable: nothing is added when both are there."""

from __future__ import annotations

from django.utils import timezone

NOTE = "演示数据"


def _approve(n: int, reviewer) -> int:
    """Approve ``n`` of the demo bills waiting for review (those with money to pay and an account)."""
    from claims.services import decision_approve
    from yfbz.core.errors import YfbzError

    done = 0
    for bill in _waiting():
        if done == n:
            break
        try:
            decision_approve(bill_id=bill.pk, user=reviewer, confirm_provisional=True, note="演示审批")
            done += 1
        except YfbzError:  # a town that left the district, a rule to check first: the next bill
            continue
    return done


def _waiting():
    from claims.models import Bill

    return list(Bill.objects.filter(status=Bill.Status.DECIDED, note__startswith=NOTE, decisions__is_current=True,
                                    decisions__assistance__gt=0).exclude(bank_account="").order_by("settled_on", "pk")[:20])


def waiting_work(stdout, rng):
    from funding import services
    from funding.models import FundRequest, PaymentBatch
    from yfbz.core.models import User

    if (FundRequest.objects.filter(status=FundRequest.Status.DRAFT).exists()
            and PaymentBatch.objects.filter(status=PaymentBatch.Status.EXPORTED).exists()):
        return
    u = {x.username: x for x in User.objects.filter(username__in=["district_clerk", "reviewer", "finance"])}
    today = timezone.localdate()
    try:
        # a batch sent to the bank, waiting for its return: two bills approved, requested, funded, exported
        _approve(2, u["reviewer"])
        req = services.fund_request_create(year=today.year, month=today.month, user=u["district_clerk"])
        services.fund_request_submit(request_id=req.pk, user=u["reviewer"])
        services.fund_request_record_transfer(request_id=req.pk, on=today, source_document=f"渝北财社〔{today.year}〕演示15号",
                                              entered_by=u["finance"], approved_by=u["reviewer"])
        batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=u["finance"])
        # a draft request for the reviewer to check: two more bills approved, the request compiled
        _approve(2, u["reviewer"])
        draft = services.fund_request_create(year=today.year, month=today.month, user=u["district_clerk"])
    except services.FundingError as exc:
        stdout.write(f"待办演示：未完成（{exc}）")
        return
    stdout.write(f"待办演示：支付批次 {batch.number}（{req.number}）已导出待银行回单；资金申请 {draft.number} 为草稿待审核报送")
