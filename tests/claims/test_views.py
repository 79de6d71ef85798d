"""The claims pages: a town clerk sees only their town by every door (list, filter, detail, export,
notice PDF, scanned papers, settlement lines); clerks enter and preview bills; reviewers decide."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from claims.models import Bill, BillAttachment, NoticeBatch, NoticePrint
from claims.services import Upload, bill_attach, decision_approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_towns(decided_bill, people, staff):
    """An approved bill in 双龙湖 and one in 回兴, each with a scanned paper."""
    out = {}
    for key in ("slh", "hx"):
        bill = decided_bill(people[key])
        bill_attach(bill=bill, upload=Upload("发票.jpg", "image/jpeg", b"\xff\xd8\xffscan-" + key.encode()), user=staff["district_clerk"])
        decision_approve(bill_id=bill.pk, user=staff["reviewer"])
        out[key] = Bill.objects.get(pk=bill.pk)
    return out


def listed(client, **params):
    resp = client.get(reverse("claims:bill-list"), params)
    assert resp.status_code == 200
    return {b.person.name for b in resp.context["page"]}


def test_town_clerk_lists_only_their_towns_bills_even_when_filtering_for_another(two_towns, staff, towns, login):
    client = login(staff["slh_clerk"])
    assert listed(client) == {"张双龙"}
    assert listed(client, town=towns["HX"].pk) == set()
    assert listed(client, q="李回兴") == set()


def test_district_clerk_lists_every_town_and_filters_work(two_towns, staff, towns, login):
    client = login(staff["district_clerk"])
    assert listed(client) == {"张双龙", "李回兴"}
    assert listed(client, town=towns["HX"].pk) == {"李回兴"}
    assert listed(client, scheme="INPATIENT", month="2025-04") == {"张双龙", "李回兴"}
    assert listed(client, month="2025-05") == set()
    assert listed(client, status="APPROVED", institution=two_towns["slh"].institution_id) == {"张双龙", "李回兴"}


def test_town_clerk_gets_404_for_another_towns_bill_notice_and_scan(two_towns, staff, login):
    client = login(staff["slh_clerk"])
    other = two_towns["hx"]
    assert client.get(reverse("claims:bill-detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("claims:notice-pdf", args=[other.current_decision.pk])).status_code == 404
    assert client.post(reverse("claims:notice-print", args=[other.current_decision.pk])).status_code == 404
    att = BillAttachment.objects.get(bill=other)
    assert client.get(reverse("claims:attachment", args=[att.pk])).status_code == 404
    assert not NoticePrint.objects.exists()
    own = two_towns["slh"]
    assert client.get(reverse("claims:bill-detail", args=[own.pk])).status_code == 200
    resp = client.post(reverse("claims:notice-print", args=[own.current_decision.pk]))  # queues its job
    assert resp.status_code == 302 and "/claims/notices/batch/" in resp["Location"]
    assert NoticeBatch.objects.get().decision_ids == [own.current_decision.pk]
    assert client.get(reverse("claims:attachment", args=[BillAttachment.objects.get(bill=own).pk])).content.endswith(b"slh")


def test_town_clerk_export_holds_only_their_town(two_towns, staff, people, login):
    resp = login(staff["slh_clerk"]).get(reverse("claims:bill-export"))
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["张双龙"]
    assert people["hx"].id_number not in {r[2] for r in rows}
    assert rows[0][15] == 4000  # the assistance column


def test_town_clerk_cannot_batch_print_another_towns_notice(two_towns, staff, login):
    client = login(staff["slh_clerk"])
    resp = client.post(reverse("claims:notice-batch-new"), {"decision": [two_towns["hx"].current_decision.pk]})
    assert resp.status_code == 302 and "/notices/batch/" not in resp["Location"]
    assert not NoticePrint.objects.exists()


def test_town_clerk_cannot_enter_or_approve(two_towns, decided_bill, make_person, staff, login):
    client = login(staff["slh_clerk"])
    assert client.get(reverse("claims:bill-new")).status_code == 403
    bill = decided_bill(make_person("郑待批"))
    assert client.post(reverse("claims:bill-approve", args=[bill.pk])).status_code == 403
    bill.refresh_from_db()
    assert bill.status == Bill.Status.DECIDED


def bill_post(person, **over):
    data = {
        "id_number": person.id_number, "institution": "", "kind": "INPATIENT", "disease": "",
        "admitted_on": "2025-04-01", "settled_on": "2025-04-09", "total_cost": "15800.00", "in_policy_cost": "14000.00",
        "basic_paid": "9000.00", "critical_paid": "0.00", "fixed_items_paid": "0.00", "account_holder": person.name,
        "bank_name": "重庆农村商业银行", "bank_account": "6228480000000009", "note": "",
    }
    data.update(over)
    return data


def test_clerk_previews_then_saves_a_bill_and_it_is_decided(institutions, people, staff, login):
    client = login(staff["district_clerk"])
    data = bill_post(people["slh"], institution=institutions["YB01"].pk)
    resp = client.post(reverse("claims:bill-new"), {**data, "preview": "1"})
    assert resp.status_code == 200 and "4000.00" in resp.context["preview"]["explanation"]
    assert not Bill.objects.exists()
    resp = client.post(reverse("claims:bill-new"), {**data, "save": "1"})
    bill = Bill.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("claims:bill-detail", args=[bill.pk])
    assert bill.status == Bill.Status.DECIDED and str(bill.current_decision.assistance) == "4000.00"


def test_bad_bill_input_is_refused_field_by_field_and_nothing_is_saved(institutions, people, staff, login):
    client = login(staff["district_clerk"])
    data = bill_post(people["slh"], institution=institutions["YB01"].pk, in_policy_cost="16000.00",
                     id_number="500112196005011006")
    resp = client.post(reverse("claims:bill-new"), {**data, "save": "1"})
    errors = resp.context["form"].errors
    assert "大于医疗总费用" in errors["in_policy_cost"][0]
    assert "公民身份号码有误" in errors["id_number"][0]
    assert not Bill.objects.exists()


def test_a_clerk_cannot_enter_a_bill_for_a_person_of_a_town_they_cannot_see(institutions, people, make_user, login):
    # a district clerk sees everyone; a town clerk cannot add bills at all (403 above); the person lookup
    # itself is scoped, so a form bound for a town-scoped user finds nobody outside the town
    from claims.forms import BillForm
    from yfbz.core.roles import Role

    clerk = make_user("slh_only", Role.TOWN_CLERK, town="SLH")
    form = BillForm(bill_post(people["hx"], institution=institutions["YB01"].pk), user=clerk)
    assert not form.is_valid() and "没有找到此人" in form.errors["id_number"][0]


def test_reviewer_approves_from_the_page_and_the_history_shows_it(decided_bill, people, staff, login):
    bill = decided_bill(people["slh"], settled_on=date(2025, 4, 9))
    client = login(staff["reviewer"])
    page = client.get(reverse("claims:bill-detail", args=[bill.pk]))
    assert page.context["can_review"]
    client.post(reverse("claims:bill-approve", args=[bill.pk]), {"note": "同意"})
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED
    page = client.get(reverse("claims:bill-detail", args=[bill.pk]))
    assert [h.to_status for h in page.context["history"]] == ["ENTERED", "DECIDED", "APPROVED"]


def test_settlement_lines_are_scoped_by_town(institutions, people, staff, login):
    from claims.models import SettlementLine
    from claims.settlement import settlement_file_import, settlement_file_upload

    rows = "结算编号,公民身份号码,姓名,类型,结算日期,政策范围内费用,基本医保支付,医疗救助垫付\n"
    rows += f"A1,{people['slh'].id_number},张双龙,住院,2025-03-10,10000,5000,4000\n"
    rows += f"A2,{people['hx'].id_number},李回兴,住院,2025-03-11,10000,5000,3750\n"
    f = settlement_file_upload(institution=institutions["YB01"], month=date(2025, 3, 1), file_name="m.csv",
                               data=rows.encode(), user=staff["district_clerk"])
    settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    client = login(staff["slh_clerk"])
    resp = client.get(reverse("claims:settlement-month", args=[f.settlement_month_id]))
    assert {ln.name for ln in resp.context["page"]} == {"张双龙"}
    resp = client.get(reverse("claims:settlement-export"))
    names = [r[3] for r in load_workbook(io.BytesIO(resp.content)).active.iter_rows(min_row=2, values_only=True)]
    assert names == ["张双龙"]
    other = SettlementLine.objects.get(name="李回兴")
    assert client.post(reverse("claims:settlement-resolve", args=[other.pk]), {"resolution": "NONE"}).status_code == 403
    assert login(staff["hx_clerk"]).get(reverse("claims:settlement-month", args=[f.settlement_month_id])).context["page"].object_list[0].name == "李回兴"


def test_reviewer_refuses_sends_back_and_clerk_redecides_from_the_page(decided_bill, people, make_person, staff, login):
    reviewer = login(staff["reviewer"])
    bill = decided_bill(people["slh"])
    reviewer.post(reverse("claims:bill-return", args=[bill.pk]), {"reason": "金额录错"})
    bill.refresh_from_db()
    assert bill.status == Bill.Status.ENTERED
    other = decided_bill(make_person("冯拒绝"))
    resp = reviewer.post(reverse("claims:bill-refuse", args=[other.pk]), {"reason": ""}, follow=True)
    assert "须写明理由" in resp.content.decode()
    resp = reviewer.post(reverse("claims:bill-refuse", args=[other.pk]), {"reason": "发票系复印件"}, follow=True)
    assert "请选择不予救助的理由" in resp.content.decode()
    reviewer.post(reverse("claims:bill-refuse", args=[other.pk]), {"reason": "发票系复印件", "code": "PAPERS_NOT_GENUINE"})
    other.refresh_from_db()
    assert other.status == Bill.Status.REFUSED and other.current_decision.refusal_reason == "发票系复印件"
    assert other.current_decision.refusal_code == "PAPERS_NOT_GENUINE"
    clerk = login(staff["district_clerk"])
    resp = clerk.post(reverse("claims:bill-redecide", args=[other.pk]), {"reason": "补交原件"}, follow=True)
    assert "已核定：普通疾病住院医疗救助 4,000.00元" in resp.content.decode()
    other.refresh_from_db()
    assert other.status == Bill.Status.DECIDED and other.decisions.count() == 2


def test_scanned_papers_uploaded_with_the_bill_are_kept_in_the_database(institutions, people, staff, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(staff["district_clerk"])
    data = bill_post(people["slh"], institution=institutions["YB01"].pk)
    scans = [SimpleUploadedFile("发票1.jpg", b"\xff\xd8\xffone", "image/jpeg"), SimpleUploadedFile("清单.pdf", b"%PDF-two", "application/pdf")]
    client.post(reverse("claims:bill-new"), {**data, "save": "1", "attachments": scans})
    bill = Bill.objects.get()
    got = {a.file_name: bytes(a.data) for a in BillAttachment.objects.filter(bill=bill)}
    assert got == {"发票1.jpg": b"\xff\xd8\xffone", "清单.pdf": b"%PDF-two"}


def test_a_retroactive_change_page_lists_and_redecides_the_reached_decisions(decided_bill, people, staff, departments, login):
    from beneficiaries.models import Category, Identity, RetroactiveChange, RosterUpload

    bill = decided_bill(people["slh"], settled_on=date(2025, 4, 9))
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    Identity.objects.filter(person=people["slh"]).update(valid_to=date(2025, 3, 31))
    upload = RosterUpload.objects.create(department=departments["CIVIL"], month=date(2025, 4, 1), file_name="r.xlsx",
                                         sha256="y" * 64, uploaded_by=staff["district_clerk"])
    change = RetroactiveChange.objects.create(person=people["slh"], category=Category.objects.get(code="DIBAO"),
                                              period_start=date(2025, 4, 1), period_end=date(2025, 4, 30),
                                              kind="ENDED_EARLIER", roster_upload=upload)
    url = reverse("claims:retroactive-detail", args=[change.pk])
    assert login(staff["hx_clerk"]).get(url).status_code == 404
    client = login(staff["district_clerk"])
    assert [a["d"].bill_id for a in client.get(url).context["affected"]] == [bill.pk]
    client.post(url)
    bill.refresh_from_db()
    change.refresh_from_db()
    assert bill.status == Bill.Status.DECIDED and str(bill.current_decision.assistance) == "0.00"
    # reviewed only once the reviewer approves the re-decision (issue 16)
    assert change.status == "REDECIDING" and change.reviewed_at is None
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    change.refresh_from_db()
    assert change.status == "REVIEWED" and change.reviewed_by == staff["reviewer"] and "均已审批" in change.review_note


def test_a_bill_sent_back_is_corrected_and_decided_again_from_its_edit_page(decided_bill, institutions, people, staff, login):
    bill = decided_bill(people["slh"])
    login(staff["reviewer"]).post(reverse("claims:bill-return", args=[bill.pk]), {"reason": "应为三级医院"})
    client = login(staff["district_clerk"])
    assert client.get(reverse("claims:bill-edit", args=[bill.pk])).context["form"].initial["id_number"] == people["slh"].id_number
    data = bill_post(people["slh"], institution=institutions["CQ01"].pk, admitted_on="", settled_on="2025-04-09",
                     total_cost="14000.00")
    resp = client.post(reverse("claims:bill-edit", args=[bill.pk]), {**data, "save": "1"})
    assert resp.status_code == 302
    bill.refresh_from_db()
    assert bill.status == Bill.Status.DECIDED and bill.institution.code == "CQ01"
    assert str(bill.current_decision.assistance) == "3750.00"  # level 3: 75%
    assert bill.decisions.count() == 2
    # a decided bill cannot be edited: it is decided again with a reason instead
    resp = client.get(reverse("claims:bill-edit", args=[bill.pk]))
    assert resp.status_code == 302


def test_the_explanation_on_the_bill_page_writes_amounts_with_thousands_separators(decided_bill, people, staff, login):
    """Issue 11: the engine writes 14000.00; the page beside a table of 14,000.00 must read the same."""
    bill = decided_bill(people["slh"])  # in-policy 14,000.00, basic insurance 9,000.00
    page = login(staff["reviewer"]).get(reverse("claims:bill-detail", args=[bill.pk])).content.decode()
    explanation = page.split('data-testid="explanation"', 1)[1].split("</pre>", 1)[0]
    assert "政策范围内费用14,000.00元" in explanation and "基本医保支付9,000.00元" in explanation
    assert "14000.00" not in explanation


def test_a_bill_export_over_the_limit_is_built_by_a_task_in_the_askers_area(two_towns, staff, people, login, settings,
                                                                            django_capture_on_commit_callbacks):
    """Issue 14: over YFBZ_EXPORT_INLINE_ROWS rows the bills (with their decisions) are exported by a job."""
    from yfbz.core.models import ExportJob

    settings.YFBZ_EXPORT_INLINE_ROWS = 1
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.get(reverse("claims:bill-export"))
    job = ExportJob.objects.get()
    assert resp.status_code == 302 and (job.kind, job.status) == ("claims.bills", ExportJob.Status.DONE)
    rows = list(load_workbook(io.BytesIO(client.get(reverse("export-download", args=[job.pk])).content))
                .active.iter_rows(min_row=2, values_only=True))
    assert sorted(r[1] for r in rows) == sorted(["张双龙", "李回兴"])
    assert {r[1]: r[15] for r in rows}["张双龙"] == 4000  # the assistance column, as in the request's file
    assert people["hx"].id_number not in {r[2] for r in rows}  # masked as today
    # a town clerk's export under the limit comes in the request, as before
    assert login(staff["slh_clerk"]).get(reverse("claims:bill-export")).status_code == 200
