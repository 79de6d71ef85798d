"""A quarter end to end on PostgreSQL (issue 10): January to April 2025 across three month boundaries,
with a late approval, a late settlement confirmation, a settlement month reopened and confirmed again,
back-dated entries refused, every month closed
after it ended — and verify_books clean at the end. Every approved payable is on exactly one request."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from claims.models import Decision, SettlementMonth
from claims.services import bill_decide, decision_approve
from claims.settlement import (
    settlement_file_import,
    settlement_file_upload,
    settlement_month_confirm,
    settlement_month_reopen,
)
from funding import services
from funding.models import Account, PayableLine
from funding.services import FundingError
from tests.claims.conftest import enter_bill, institutions  # noqa: F401

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the quarter runs on PostgreSQL")]


def at(y, m, d, hour=15):
    return timezone.make_aware(datetime(y, m, d, hour, 0), timezone.get_current_timezone())


def approve(bill, staff, when):
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    Decision.objects.filter(pk=d.pk).update(reviewed_at=when)  # approved on that day
    return d


def keys(req):
    return sorted(PayableLine.objects.filter(request=req).values_list("source_key", flat=True))


def pay_request(req, staff, on):
    """Submit, transfer, pay every line through one batch."""
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=on, source_document=f"渝北财社〔2025〕{req.pk}号",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=on, failures={}, user=staff["reviewer"])


def close(month, staff):
    after = date(2025, month + 1, 1)
    with pytest.raises(FundingError, match="尚未结束"):
        services.period_close(year=2025, month=month, user=staff["finance"], today=date(2025, month, 28))
    services.period_close(year=2025, month=month, user=staff["finance"], today=after)


def one_stop(institution, person, user, month, no, day, in_policy="10000.00", basic="5000.00", advanced="4000.00"):
    data = ("结算编号,公民身份号码,姓名,类型,疾病,入院日期,结算日期,医疗总费用,政策范围内费用,基本医保支付,大病保险支付,医疗救助垫付\n"
            f"{no},{person.id_number},{person.name},住院,,,2025-{month:02d}-{day:02d},{in_policy},{in_policy},{basic},0.00,"
            f"{advanced}\n").encode()
    f = settlement_file_upload(institution=institution, month=date(2025, month, 1), file_name=f"yb01-2025-{month:02d}-{no}.csv",
                               data=data, user=user)
    return settlement_file_import(file_id=f.pk, user=user)


def confirm(f, staff, when):
    sm = settlement_month_confirm(month_id=f.settlement_month_id, user=staff["reviewer"])
    SettlementMonth.objects.filter(pk=sm.pk).update(confirmed_at=when)
    return sm


def test_a_quarter_across_three_month_boundaries_ends_with_the_books_clean(enter_bill, institutions, people, make_person,  # noqa: F811
                                                                            staff, fund):
    clerk = staff["district_clerk"]
    other = make_person("钱三月", categories=("DIBAO",))
    fund("SPECIAL", "100000.00", on=date(2025, 1, 3))

    # --- January: A approved on the 10th, requested and paid; B approved on the 31st after the request
    a = approve(enter_bill(people["slh"], settled_on=date(2025, 1, 6), in_policy="5000.00", basic="2000.00"), staff,
                at(2025, 1, 10))
    jan = services.fund_request_create(year=2025, month=1, user=clerk)
    assert keys(jan) == [f"decision:{a.pk}:ASSISTANCE"]
    b = approve(enter_bill(people["hx"], settled_on=date(2025, 1, 20), in_policy="6000.00", basic="3000.00"), staff,
                at(2025, 1, 31, 22))
    pay_request(jan, staff, date(2025, 1, 25))
    close(1, staff)

    # --- February: the late approval and January's one-stop month, confirmed on 5 February
    confirm(one_stop(institutions["YB01"], other, clerk, 1, "J001", 15), staff, at(2025, 2, 5))
    assert not PayableLine.objects.filter(source_key=f"decision:{b.pk}:ASSISTANCE").exists()  # after January's request
    feb = services.fund_request_create(year=2025, month=2, user=clerk)
    assert keys(feb) == [f"decision:{b.pk}:ASSISTANCE", "settlement:YB01:2025-01"]
    assert feb.total_assistance == b.assistance + Decimal("4000.00")
    pay_request(feb, staff, date(2025, 2, 20))
    close(2, staff)
    # a back-dated entry into the closed months is refused; so is one before them
    with pytest.raises(FundingError, match="2025年2月已结账"):
        fund("SPECIAL", "1.00", on=date(2025, 2, 27))
    with pytest.raises(FundingError, match="2025年1月已结账"):
        fund("SPECIAL", "1.00", on=date(2025, 1, 31))

    # --- March: C approved on the 5th and February's one-stop month confirmed on the 3rd, both requested;
    # the month is reopened before the transfer (a file was missing) and confirmed again on 2 April;
    # D approved on the 28th after March's request
    c = approve(enter_bill(other, settled_on=date(2025, 3, 2), in_policy="3000.00", basic="1000.00"), staff, at(2025, 3, 5))
    feb_stop = confirm(one_stop(institutions["YB01"], people["hx"], clerk, 2, "F001", 10, "2000.00", "1000.00", "750.00"),
                       staff, at(2025, 3, 3))
    mar = services.fund_request_create(year=2025, month=3, user=clerk)
    assert keys(mar) == [f"decision:{c.pk}:ASSISTANCE", "settlement:YB01:2025-02"]
    settlement_month_reopen(month_id=feb_stop.pk, user=staff["reviewer"], reason="机构漏报一份结算文件")
    assert PayableLine.objects.get(source_key="settlement:YB01:2025-02").status == "withdrawn"
    confirm(one_stop(institutions["YB01"], people["hx"], clerk, 2, "F002", 20, "2000.00", "1000.00", "750.00"), staff,
            at(2025, 4, 2))
    d = approve(enter_bill(people["slh"], settled_on=date(2025, 3, 20), in_policy="4000.00", basic="2000.00"), staff,
                at(2025, 3, 28))
    pay_request(mar, staff, date(2025, 3, 25))
    # a payment back-dated to before March's money came in is refused, naming the day
    with pytest.raises(FundingError, match="余额不足：2025年03月"):
        services.entry_post(on=date(2025, 3, 10), kind="PAY_PERSON", lines=[("EXPENDITURE", Decimal("-99999.00")),
                            ("PAYEE_PERSON", Decimal("99999.00"))], counterpart="PAYEE_PERSON", source_document="x",
                            description="x", entered_by=staff["finance"], approved_by=staff["reviewer"])
    close(3, staff)

    # --- April: the late approval of 28 March is here, and nothing is on two requests
    apr = services.fund_request_create(year=2025, month=4, user=clerk)
    assert keys(apr) == [f"decision:{d.pk}:ASSISTANCE", "settlement:YB01:2025-02:r1"]
    assert apr.total_assistance == d.assistance + Decimal("1500.00")
    pay_request(apr, staff, date(2025, 4, 10))
    with connection.cursor() as cur:
        cur.execute("SELECT source_key, count(*) FROM funding_payableline GROUP BY source_key HAVING count(*) > 1")
        assert cur.fetchall() == []
    assert PayableLine.objects.filter(status="paid").count() == 6
    assert SettlementMonth.objects.get(pk=feb_stop.pk).status == "PAID"
    expenditure = services.account_balance(Account.objects.get(code="EXPENDITURE"))
    assert expenditure == Decimal("0.00")  # every yuan transferred went out to a payee
    out = io.StringIO()
    call_command("verify_books", stdout=out)
    assert "账目核对无误" in out.getvalue()
