"""What staff see: the fund request page and PDF, the month report, the per-town lists, the self-paid
reports, the enrolment import — and a town clerk who tries to cross into another town."""

import io
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from funding import services
from funding.models import Enrolment, SelfPaidReport, SubsidyResult

pytestmark = pytest.mark.django_db


def xlsx_rows(resp):
    assert resp.status_code == 200, resp.status_code
    return list(load_workbook(io.BytesIO(resp.content)).worksheets[0].iter_rows(min_row=2, values_only=True))


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def two_towns(make_person, staff, django_capture_on_commit_callbacks):
    """One subsidised resident and one 漏保 person in each of 双龙湖 and 回兴, after a run."""
    p = {}
    for town in ("SLH", "HX"):
        p[f"{town}-paid"] = make_person(f"资助{town}", town=town, categories=("DIBAO",))
        p[f"{town}-gap"] = make_person(f"漏保{town}", town=town, categories=("TEKUN",))
        Enrolment.objects.create(person=p[f"{town}-paid"], year=2025, kind="RESIDENT_T1")
    with django_capture_on_commit_callbacks(execute=True):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    return p


def test_town_clerk_tax_list_holds_only_their_town_even_when_asking_for_another(two_towns, staff, login, towns):
    client = login(staff["slh_clerk"])
    # full numbers for the tax system, asked for with a reason (issue 9)
    rows = xlsx_rows(client.get(reverse("funding:tax-list", args=[2025]), {"town": towns["HX"].pk, "full": "1", "reason": "payment"}))
    assert [r[1] for r in rows] == ["资助SLH"]
    assert rows[0][0] == two_towns["SLH-paid"].id_number
    paid = SubsidyResult.objects.get(person=two_towns["SLH-paid"])
    assert (Decimal(str(rows[0][5])), Decimal(str(rows[0][6]))) == (paid.amount, paid.personal_part)


def test_district_gets_each_towns_tax_list_and_gap_list(two_towns, staff, login, towns):
    client = login(staff["district_clerk"])
    assert [r[1] for r in xlsx_rows(client.get(reverse("funding:tax-list", args=[2025]), {"town": towns["HX"].pk}))] == ["资助HX"]
    gaps = xlsx_rows(client.get(reverse("funding:gap-list", args=[2025]), {"town": towns["HX"].pk}))
    assert [(r[1], r[6]) for r in gaps] == [("漏保HX", "漏保")]


def test_gap_list_calls_it_duan_bao_when_the_person_was_enrolled_last_year(two_towns, staff, login):
    Enrolment.objects.create(person=two_towns["SLH-gap"], year=2024, kind="RESIDENT_T1")
    gaps = xlsx_rows(login(staff["slh_clerk"]).get(reverse("funding:gap-list", args=[2025])))
    assert [(r[1], r[6]) for r in gaps] == [("漏保SLH", "断保")]


def test_town_clerk_sees_and_reports_only_their_towns_self_paid_people(two_towns, staff, login):
    hx = login(staff["hx_clerk"])
    resp = hx.post(reverse("funding:selfpaid"), {
        "id_number": two_towns["SLH-paid"].id_number, "year": 2025, "enrolment": "RESIDENT_T1", "paid_amount": "400",
        "bank_name": "农行", "bank_account": "622800001", "account_holder": "x"})
    assert "本镇街无此人员" in resp.content.decode()
    slh = login(staff["slh_clerk"])
    SelfPaidReport.objects.create(person=two_towns["HX-paid"], year=2025, town=two_towns["HX-paid"].town, enrolment="RESIDENT_T1",
                                  paid_amount=Decimal("400"), bank_name="b", bank_account="1", account_holder="a",
                                  reported_by=staff["hx_clerk"])
    page = slh.get(reverse("funding:selfpaid")).content.decode()
    assert "资助HX" not in page


def test_a_town_clerk_cannot_approve_a_self_paid_report_only_the_district_can(two_towns, staff, login):
    rep = SelfPaidReport.objects.create(person=two_towns["HX-paid"], year=2025, town=two_towns["HX-paid"].town,
                                        enrolment="RESIDENT_T1", paid_amount=Decimal("400"), bank_name="b",
                                        bank_account="1", account_holder="a", reported_by=staff["hx_clerk"])
    assert login(staff["slh_clerk"]).post(reverse("funding:selfpaid-decide", args=[rep.pk]), {"approve": "1"}).status_code == 403
    login(staff["district_clerk"]).post(reverse("funding:selfpaid-decide", args=[rep.pk]), {"approve": "1"})
    rep.refresh_from_db()
    assert rep.status == "approved"


def test_town_clerks_do_not_reach_fund_requests_or_ledger_reports(staff, login):
    client = login(staff["slh_clerk"])
    assert client.get(reverse("funding:home")).status_code == 403
    assert client.get(reverse("funding:report")).status_code == 403


def _workbook(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["公民身份号码", "姓名", "参保类型"])
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_enrolment_import_names_every_bad_row_and_field_and_imports_nothing(two_towns, staff):
    from funding.services import FundingError
    from funding.services.imports import enrolment_import

    a, b = two_towns["SLH-gap"], two_towns["HX-gap"]
    bad = _workbook([(a.id_number, a.name, "城乡居民医保二档"), (b.id_number, "别人", "二档"), ("500112199901011235", "无名", "一档"),
                     (a.id_number, a.name, "三档")])
    with pytest.raises(FundingError) as exc:
        enrolment_import(year=2025, data=bad, user=staff["district_clerk"])
    msg = str(exc.value)
    assert "第3行 姓名「别人」" in msg and "第4行 公民身份号码" in msg and "第5行 参保类型「三档」" in msg
    assert not Enrolment.objects.filter(person__in=[a, b], year=2025).exists()
    done = enrolment_import(year=2025, data=_workbook([(a.id_number, a.name, "城乡居民医保二档"), (b.id_number, b.name, "一档")]),
                            user=staff["district_clerk"])
    assert done.count == 2
    assert dict(Enrolment.objects.filter(person__in=[a, b], year=2025).values_list("person__name", "kind")) == {
        "漏保SLH": "RESIDENT_T2", "漏保HX": "RESIDENT_T1"}


def test_a_town_clerk_cannot_import_enrolment_for_another_town(two_towns, staff):
    from funding.services import FundingError
    from funding.services.imports import enrolment_import

    b = two_towns["HX-gap"]
    with pytest.raises(FundingError, match="不在您的管辖范围"):
        enrolment_import(year=2025, data=_workbook([(b.id_number, b.name, "一档")]), user=staff["slh_clerk"])


def test_the_fund_request_pdf_and_the_month_report_show_the_figures(make_person, staff, login, fund,
                                                                    django_capture_on_commit_callbacks):
    from tests.document_jobs import pdf_of

    p = make_person("自缴某", categories=("DIBAO",))
    rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400"), bank_name="农行",
                                   bank_account="622800001", account_holder="自缴某", user=staff["slh_clerk"], today=date(2025, 3, 2))
    rep = services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 3))
    fund("SPECIAL", "5000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    text = pdf_text(pdf_of(login(staff["finance"]), reverse("funding:request-pdf", args=[req.pk]),
                           django_capture_on_commit_callbacks))
    assert "医疗救助资金申请表" in text and req.number in text and str(rep.amount) in text and "双龙湖" in text
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="财拨1",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    client = login(staff["auditor"])
    page = client.get(reverse("funding:report"), {"year": 2025, "month": 3}).content.decode()
    assert f'data-testid="closing-EXPENDITURE">{rep.amount}<' in page
    sheet = load_workbook(io.BytesIO(client.get(reverse("funding:report"), {"year": 2025, "month": 3, "format": "xlsx"}).content))["账户收支"]
    closing = {r[0]: Decimal(str(r[4])) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert closing["医疗救助资金 财政专户"] == Decimal("5000.00") - rep.amount
    report_pdf = pdf_text(pdf_of(client, reverse("funding:report-pdf"), django_capture_on_commit_callbacks,
                                 {"year": 2025, "month": 3}))
    assert "收支报表" in report_pdf and f"{Decimal('5000.00') - rep.amount:,.2f}" in report_pdf


def test_a_town_clerk_edits_enrolment_of_their_town_only(two_towns, staff, login):
    client = login(staff["slh_clerk"])
    client.post(reverse("funding:enrolment-edit"), {"id_number": two_towns["SLH-gap"].id_number, "year": 2025, "kind": "RESIDENT_T2"})
    assert Enrolment.objects.get(person=two_towns["SLH-gap"], year=2025).kind == "RESIDENT_T2"
    resp = client.post(reverse("funding:enrolment-edit"), {"id_number": two_towns["HX-gap"].id_number, "year": 2025, "kind": "RESIDENT_T2"},
                       follow=True)
    assert "不在您的管辖范围" in resp.content.decode()
    assert not Enrolment.objects.filter(person=two_towns["HX-gap"], year=2025).exists()


def test_the_subsidy_page_shows_the_finished_run_and_its_progress(two_towns, staff, login):
    from funding.models import SubsidyRun

    run = SubsidyRun.objects.get()
    client = login(staff["district_clerk"])
    body = client.get(reverse("funding:subsidy-progress", args=[run.pk])).json()
    assert (body["status"], body["percent"], body["done"]) == ("done", 100, run.progress_done)
    page = client.get(reverse("funding:subsidy"), {"year": 2025}).content.decode()
    assert 'data-testid="run-status">已完成<' in page and f"可资助 {run.count_eligible} 人" in page
