"""Home pages complete per role (issue 11): the reviewer is told of draft fund requests and of batches
waiting for the bank, finance of funded requests to pay and of failed payments, and nobody of their own
entry proposal as if they could approve it."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from funding import services
from tests.funding.test_monthly_cycle import approved_selfpaid  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def todo_of(client):
    return {t["label"]: t["count"] for t in client.get(reverse("home")).context["todo"]}


def test_each_step_of_the_money_cycle_shows_on_the_home_page_of_whoever_takes_it(approved_selfpaid, fund, staff, login):  # noqa: F811
    fin, rev, clerk = staff["finance"], staff["reviewer"], staff["district_clerk"]
    fund("SPECIAL", "10000.00")
    req = services.fund_request_create(year=2025, month=3, user=clerk)
    assert todo_of(login(rev))["已编制、待审核报送的资金申请"] == 1
    services.fund_request_submit(request_id=req.pk, user=rev)
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 25), source_document="划拨1号",
                                          entered_by=fin, approved_by=rev)
    assert "已编制、待审核报送的资金申请" not in todo_of(login(rev))
    assert todo_of(login(fin))["财政已划拨、待制作支付文件的资金申请"] == 1
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    assert todo_of(login(rev))["已生成支付文件、待银行回单确认的批次"] == 1
    assert "财政已划拨、待制作支付文件的资金申请" not in todo_of(login(fin))
    first = batch.payments.order_by("pk").first()
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 28), failures={first.pk: "账号有误"}, user=rev)
    assert "已生成支付文件、待银行回单确认的批次" not in todo_of(login(rev))
    finance_todo = todo_of(login(fin))
    assert finance_todo["支付失败、待更正账号后重新支付的款项"] == 1
    page = login(fin).get(reverse("home")).content.decode()
    assert reverse("funding:request-detail", args=[req.pk]) in page

    # finance's own proposal waits for the reviewer, not for finance
    services.proposal_income(account="SPECIAL", kind="INTEREST", counterpart="BANK", amount=Decimal("12.34"),
                             on=date(2025, 3, 21), source_document="结息单", description="利息", user=fin)
    assert "待复核的记账申请" not in todo_of(login(fin))
    assert todo_of(login(rev))["待复核的记账申请"] == 1
