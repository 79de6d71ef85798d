"""The bank's return file marks a batch: failed rows come back, every payment must be listed."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook

from funding import services
from funding.models import PayableLine, Payment
from funding.services import FundingError
from funding.services.requests import bank_return_parse

pytestmark = pytest.mark.django_db


def workbook(rows):
    wb = Workbook()
    wb.active.append(["明细号", "状态", "失败原因"])
    for r in rows:
        wb.active.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def batch(make_person, staff, fund):
    for name in ("回单甲", "回单乙"):
        p = make_person(name)
        rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400"), bank_name="农行",
                                       bank_account=f"6228{p.pk:08d}", account_holder=name, user=staff["slh_clerk"], today=date(2025, 3, 2))
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 3))
    fund("SPECIAL", "5000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="x", entered_by=staff["finance"],
                                          approved_by=staff["reviewer"])
    return services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])


def test_the_bank_return_file_marks_the_failed_payment_and_pays_the_rest(batch, staff, login,
                                                                         django_capture_on_commit_callbacks):
    from funding.models import FileImport

    ok, bad = batch.payments.order_by("pk")
    data = workbook([(ok.pk, "成功", ""), (bad.pk, "失败", "户名不符")])
    f = io.BytesIO(data)
    f.name = "return.xlsx"
    client = login(staff["reviewer"])
    with django_capture_on_commit_callbacks(execute=False) as queued:  # the request only stores and queues
        resp = client.post(reverse("funding:batch-confirm", args=[batch.pk]), {"paid_on": "2025-03-28", "bank_return": f})
    row = FileImport.objects.get()
    assert resp["Location"] == reverse("funding:file-import", args=[row.pk]) and row.status == "queued"
    assert Payment.objects.get(pk=ok.pk).status != "paid"
    assert "排队中" in client.get(resp["Location"]).content.decode()
    for callback in queued:  # the worker
        callback()
    page = client.get(resp["Location"]).content.decode()
    assert "已按银行回单确认（支付失败 1 笔）" in page
    assert Payment.objects.get(pk=ok.pk).status == "paid"
    assert (Payment.objects.get(pk=bad.pk).status, Payment.objects.get(pk=bad.pk).failure_reason) == ("failed", "户名不符")
    assert PayableLine.objects.get(pk=bad.line_id).status == "pending"


def test_a_return_file_that_leaves_a_payment_out_or_names_a_stranger_is_refused(batch):
    ok, bad = batch.payments.order_by("pk")
    with pytest.raises(FundingError, match="缺少 1 笔"):
        bank_return_parse(batch_id=batch.pk, data=workbook([(ok.pk, "成功", "")]))
    with pytest.raises(FundingError, match=r"第3行 明细号 999999 不属于"):
        bank_return_parse(batch_id=batch.pk, data=workbook([(ok.pk, "成功", ""), (999999, "成功", ""), (bad.pk, "成功", "")]))
    with pytest.raises(FundingError, match="第3行 状态「处理中」无法识别"):
        bank_return_parse(batch_id=batch.pk, data=workbook([(ok.pk, "成功", ""), (bad.pk, "处理中", "")]))


def test_a_town_clerk_sees_only_their_towns_subsidy_changes(make_person, staff, login, django_capture_on_commit_callbacks):
    from beneficiaries.models import Identity
    from funding.models import Enrolment

    a, b = make_person("变化甲", town="SLH"), make_person("变化乙", town="HX", categories=("TEKUN",))
    for p in (a, b):
        Enrolment.objects.create(person=p, year=2025, kind="RESIDENT_T1")
    with django_capture_on_commit_callbacks(execute=True):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    Identity.objects.filter(person__in=[a, b]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    page = login(staff["slh_clerk"]).get(reverse("funding:subsidy"), {"year": 2025})
    assert [c.person.name for c in page.context["changes"]] == ["变化甲"]
    assert "变化乙" not in page.content.decode()


def test_finance_corrects_a_failed_account_on_the_request_page_and_pays_it_again(batch, staff, login):
    ok, bad = batch.payments.order_by("pk")
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 28), failures={bad.pk: "账号不存在"}, user=staff["reviewer"])
    fin = login(staff["finance"])
    page = fin.get(reverse("funding:request-detail", args=[batch.request_id]))
    assert [ln.pk for ln in page.context["failed"]] == [bad.line_id]
    fin.post(reverse("funding:line-bank", args=[bad.line_id]), {"bank_name": "重庆银行", "bank_account": "6214888800001111"})
    fin.post(reverse("funding:request-action", args=[batch.request_id, "batch"]), {"fund": "ASSISTANCE"})
    again = Payment.objects.exclude(batch=batch).get()
    assert (again.line_id, again.bank_account) == (bad.line_id, "6214888800001111")
    # a town clerk cannot change anybody's account
    assert login(staff["slh_clerk"]).post(reverse("funding:line-bank", args=[bad.line_id]),
                                          {"bank_name": "x", "bank_account": "1"}).status_code == 403
