"""One decision's notice is printed by a Celery task, never in the web process (issue 14).

The bill page's 打印 is a POST that queues a batch of that one decision and leads to its job page; the
task numbers it (once, kept on reprints), records the print and renders the PDF, which the page then
offers for download under the name it always had (文号-文书). A GET takes no number and records nothing.
The auditor sees an issued notice through a read-only batch (no number, no print record)."""

import re
import subprocess
from datetime import date
from urllib.parse import quote

import pytest
from django.urls import reverse

from claims.models import DocumentCounter, Notice, NoticeBatch, NoticePrint
from claims.notices import NOT_ISSUED_READ_ONLY
from claims.services import decision_approve

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", out.decode())


@pytest.fixture
def approved(decided_bill, people, staff):
    bill = decided_bill(people["slh"], settled_on=date(2025, 4, 9), admitted_on=date(2025, 4, 1))
    return decision_approve(bill_id=bill.pk, user=staff["reviewer"])


def press_print(client, decision, capture):
    """What the clerk's 打印 button does: POST, then the job page it leads to (tasks run inline on commit)."""
    with capture(execute=True):
        resp = client.post(reverse("claims:notice-print", args=[decision.pk]))
    assert resp.status_code == 302, resp.status_code
    return resp


def batch_of(resp) -> NoticeBatch:
    return NoticeBatch.objects.get(pk=int(re.search(r"/notices/batch/(\d+)/", resp["Location"]).group(1)))


def test_the_print_button_queues_a_one_notice_job_whose_pdf_holds_the_number_and_the_person(
        approved, people, staff, login, django_capture_on_commit_callbacks):
    client = login(staff["district_clerk"])
    page = client.get(reverse("claims:bill-detail", args=[approved.bill_id])).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>.{0,200}?data-testid="print-notice">打印待遇核定通知书',
                     page, re.S)
    assert form and form.group(1) == reverse("claims:notice-print", args=[approved.pk])
    resp = press_print(client, approved, django_capture_on_commit_callbacks)
    batch = batch_of(resp)
    assert batch.decision_ids == [approved.pk] and not batch.read_only
    assert batch.status == NoticeBatch.Status.DONE
    notice = Notice.objects.get(decision=approved)
    assert list(NoticePrint.objects.filter(notice=notice).values_list("batch_id", "reprint", "by__username")) == [
        (batch.pk, False, "district_clerk")]

    page = client.get(resp["Location"]).content.decode()
    assert "已完成" in page and 'data-testid="batch-download"' in page and notice.doc_number in page
    pdf = client.get(resp["Location"] + "?download=1")
    assert pdf["Content-Type"] == "application/pdf"
    assert quote(f"{notice.doc_number}-医疗救助待遇核定通知书.pdf") in pdf["Content-Disposition"]  # the name as before
    text = pdf_text(pdf.content)
    assert notice.doc_number in text and "医疗救助待遇核定通知书" in text
    assert "张双龙" in text and people["slh"].id_number in text  # the notice names its addressee in full, as before
    assert "4,000.00" in text and "肆仟元整" in text
    records = client.get(reverse("claims:notice-batches")).content.decode()  # the clerk finds it again
    assert f"票据{approved.bill_id}</a>的决定文书" in records and resp["Location"] + "?download=1" in records


def test_a_reprint_keeps_the_number_and_a_double_click_makes_one_job(
        approved, staff, login, django_capture_on_commit_callbacks):
    client = login(staff["district_clerk"])
    first = batch_of(press_print(client, approved, django_capture_on_commit_callbacks))
    second = batch_of(press_print(client, approved, django_capture_on_commit_callbacks))
    assert first.pk != second.pk  # the first was done: a reprint is a new job
    assert Notice.objects.count() == 1 and DocumentCounter.objects.get().last == 1
    assert list(NoticePrint.objects.order_by("pk").values_list("batch_id", "reprint")) == [(first.pk, False), (second.pk, True)]
    # a click while the job still waits (no worker has taken it yet) leads to the same job
    resp = client.post(reverse("claims:notice-print", args=[approved.pk]))  # on_commit not run: stays queued
    waiting = batch_of(resp)
    assert waiting.status == NoticeBatch.Status.QUEUED
    assert batch_of(client.post(reverse("claims:notice-print", args=[approved.pk]))).pk == waiting.pk
    page = client.get(resp["Location"]).content.decode()
    assert "正在生成" in page and reverse("claims:notice-batch-progress", args=[waiting.pk]) in page
    progress = client.get(reverse("claims:notice-batch-progress", args=[waiting.pk])).json()
    assert progress == {"phase": "排队中", "done": 0, "total": 1, "finished": False}


def test_a_get_of_the_old_or_the_new_address_takes_no_number_and_records_nothing(approved, staff, login):
    client = login(staff["district_clerk"])
    old = client.get(reverse("claims:notice-pdf", args=[approved.pk]))
    assert old.status_code == 302 and old["Location"] == reverse("claims:notice-print", args=[approved.pk])
    page = client.get(old["Location"])
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert 'method="post"' in html and "打印医疗救助待遇核定通知书" in html and "后台生成" in html
    assert not Notice.objects.exists() and not NoticePrint.objects.exists() and not NoticeBatch.objects.exists()
    assert not DocumentCounter.objects.filter(last__gt=0).exists()


def test_a_town_clerk_of_another_town_gets_404_and_their_own_town_prints(
        decided_bill, people, staff, login, django_capture_on_commit_callbacks):
    theirs = decision_approve(bill_id=decided_bill(people["hx"]).pk, user=staff["reviewer"])
    ours = decision_approve(bill_id=decided_bill(people["slh"]).pk, user=staff["reviewer"])
    client = login(staff["slh_clerk"])
    for url in ("claims:notice-print", "claims:notice-pdf"):
        assert client.get(reverse(url, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("claims:notice-print", args=[theirs.pk])).status_code == 404
    assert not NoticeBatch.objects.exists() and not Notice.objects.exists()
    batch = batch_of(press_print(client, ours, django_capture_on_commit_callbacks))
    assert batch.status == NoticeBatch.Status.DONE and Notice.objects.get().decision_id == ours.pk
    # a batch is its asker's: another user (even one who may see the bill) gets 404
    assert login(staff["district_clerk"]).get(reverse("claims:notice-batch", args=[batch.pk])).status_code == 404


def test_a_notice_not_yet_approved_is_refused_with_a_reason(decided_bill, people, staff, login):
    bill = decided_bill(people["slh"])
    client = login(staff["district_clerk"])
    resp = client.post(reverse("claims:notice-print", args=[bill.current_decision.pk]), follow=True)
    assert "尚未审批" in resp.content.decode()
    assert not NoticeBatch.objects.exists() and not Notice.objects.exists()


def test_the_auditor_views_an_issued_notice_through_a_read_only_job_and_takes_nothing(
        approved, staff, login, django_capture_on_commit_callbacks):
    auditor = login(staff["auditor"])
    page = auditor.get(reverse("claims:bill-detail", args=[approved.bill_id])).content.decode()
    assert 'data-testid="print-notice"' not in page and "尚未出具" in page
    resp = auditor.post(reverse("claims:notice-print", args=[approved.pk]), follow=True)
    assert NOT_ISSUED_READ_ONLY in resp.content.decode()
    assert not Notice.objects.exists() and not NoticeBatch.objects.exists()  # no number taken, no job

    clerk_batch = batch_of(press_print(login(staff["district_clerk"]), approved, django_capture_on_commit_callbacks))
    notice = Notice.objects.get()
    auditor = login(staff["auditor"])
    page = auditor.get(reverse("claims:bill-detail", args=[approved.bill_id])).content.decode()
    assert "查看待遇核定通知书" in page
    resp = press_print(auditor, approved, django_capture_on_commit_callbacks)
    batch = batch_of(resp)
    assert batch.read_only and batch.status == NoticeBatch.Status.DONE and batch.pk != clerk_batch.pk
    pdf = auditor.get(resp["Location"] + "?download=1")
    assert notice.doc_number in pdf_text(pdf.content)
    assert Notice.objects.count() == 1 and DocumentCounter.objects.get().last == 1
    assert NoticePrint.objects.count() == 1  # the clerk's print only
    # the auditor still cannot ask for a printing batch
    assert auditor.post(reverse("claims:notice-batch-new"), {"decision": [approved.pk]}).status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.worker
def test_the_web_process_never_imports_weasyprint_and_a_real_worker_prints_the_notice(approved, people, staff, login):
    """The clerk's whole path — the bill page, 打印, the job page, its progress, the old address — in a fresh
    interpreter configured as deployed (tasks sent to Redis): WeasyPrint is never imported there and no
    number is taken. Then a real worker process renders it and the page offers the PDF."""
    from tests.worker_process import as_web_process, sending_to_redis, wait_for, worker_process

    with sending_to_redis():
        seen = as_web_process(WEB_SCRIPT, str(approved.bill_id), timeout=120)
        assert seen["weasyprint"] == [], seen
        assert seen["statuses"] == [200, 302, 200, 200, 302], seen
        assert "正在生成" in seen["page"]
        batch = NoticeBatch.objects.get(pk=seen["batch"])
        assert batch.status == NoticeBatch.Status.QUEUED and not Notice.objects.exists()
        with worker_process():
            wait_for(lambda: NoticeBatch.objects.get(pk=batch.pk).status == NoticeBatch.Status.DONE, 120,
                     "the worker to print the notice")
    notice = Notice.objects.get(decision=approved)
    client = login(staff["district_clerk"])
    page = client.get(reverse("claims:notice-batch", args=[batch.pk])).content.decode()
    assert "已完成" in page and "下载 PDF" in page
    pdf = client.get(reverse("claims:notice-batch", args=[batch.pk]) + "?download=1").content
    text = pdf_text(pdf)
    assert notice.doc_number in text and "张双龙" in text and people["slh"].id_number in text
    assert NoticePrint.objects.get().batch_id == batch.pk


#: run in a fresh interpreter as the web process: the clerk's clicks; prints what it saw as JSON
WEB_SCRIPT = r"""
import json, re, sys
import django
django.setup()
from django.test import Client
from yfbz.core.models import User

bill_id = int(sys.argv[1])
c = Client()
c.force_login(User.objects.get(username="district_clerk"))
statuses = []
r = c.get(f"/claims/bills/{bill_id}/"); statuses.append(r.status_code)
html = r.content.decode()
form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(?:(?!</form>).)*data-testid="print-notice"', html, re.S)
if form:
    r = c.post(form.group(1))
else:  # the button was a link (before issue 14): follow it as the browser did
    link = re.search(r'<a[^>]*href="([^"]+)"[^>]*data-testid="print-notice"', html)
    r = c.get(link.group(1))
statuses.append(r.status_code)
batch = None
page = ""
if r.status_code == 302:
    batch = int(re.search(r"/notices/batch/(\d+)/", r["Location"]).group(1))
    r = c.get(r["Location"]); statuses.append(r.status_code); page = r.content.decode()
    r = c.get(f"/claims/notices/batch/{batch}/progress.json"); statuses.append(r.status_code)
decision = re.search(r"/claims/decisions/(\d+)/notice/", html)
if decision:
    r = c.get(f"/claims/decisions/{decision.group(1)}/notice.pdf"); statuses.append(r.status_code)
print(json.dumps({"weasyprint": sorted(m for m in sys.modules if m.split(".")[0] == "weasyprint")[:3],
                  "statuses": statuses, "batch": batch, "page": page}, ensure_ascii=False))
"""
