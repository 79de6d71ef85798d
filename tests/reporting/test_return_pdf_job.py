"""The statistical return's PDF is built by a Celery task, never in the web process (issue 14): 生成 PDF on the
return's page (and PDF in the list of returns) is a POST that queues a job and leads to its page, which offers
下载 PDF; the xlsx stays a plain download. The task reads the return again as the user who asked: the
局领导 only an approved return, as on the page."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from reporting.cuts import Period
from reporting.returns import return_approve, return_prepare
from tests.document_jobs import download, press
from yfbz.core.models import ExportJob
from yfbz.core.roles import Role

pytestmark = pytest.mark.django_db
Q2 = Period(2025, quarter=2)


def pdf_words(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


@pytest.fixture
def approved(year_2025, staff):
    ret = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    return return_approve(return_id=ret.pk, user=staff["reviewer"], responsible="张局长")


def test_the_returns_pdf_is_a_job_of_the_return_page_and_the_request_lays_out_nothing(
        approved, staff, login, monkeypatch, django_capture_on_commit_callbacks):
    from reporting import exports

    laid_out = []
    real = exports.return_pdf
    monkeypatch.setattr(exports, "return_pdf", lambda *a, **k: laid_out.append(1) or real(*a, **k))
    client = login(staff["reviewer"])
    url = reverse("reporting:return-file", args=[approved.pk, "pdf"])
    for page in (reverse("reporting:return-detail", args=[approved.pk]), reverse("reporting:returns")):
        html = client.get(page).content.decode()
        assert re.search(rf'<form method="post" action="{re.escape(url)}"', html), page
        assert f'href="{url}"' not in html, page  # no GET link to the PDF is left
    assert f'href="{reverse("reporting:return-file", args=[approved.pk, "xlsx"])}"' in html
    with django_capture_on_commit_callbacks() as queued:
        resp = client.post(url)
    job = ExportJob.objects.get()
    assert resp["Location"] == reverse("export-detail", args=[job.pk]) and laid_out == []
    assert job.status == ExportJob.Status.QUEUED and "正在生成" in client.get(resp["Location"]).content.decode()
    assert client.post(url)["Location"] == resp["Location"]  # a second press while it waits: the same job
    queued[0]()
    assert laid_out == [1]
    pdf = download(client, job)
    text = pdf_words(pdf.content)
    for words in ("医疗救助统计表", "2025年第二季度", "单位负责人：张局长", "勾稽核对：通过", "4,280.00",
                  "2025年各月医疗救助金额与人次"):
        assert words in text, words
    assert "%E7%AC%AC1%E7%89%88.pdf" in pdf["Content-Disposition"]  # …-第1版.pdf, the name it always had
    page = client.get(resp["Location"]).content.decode()
    assert f'href="{reverse("reporting:return-detail", args=[approved.pk])}"' in page  # 返回统计报表


def test_the_leader_gets_an_approved_returns_pdf_never_a_drafts(year_2025, staff, login, make_user,
                                                               django_capture_on_commit_callbacks):
    leader = login(make_user("leader", Role.LEADERSHIP))
    draft = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    assert leader.post(reverse("reporting:return-file", args=[draft.pk, "pdf"])).status_code == 404
    assert not ExportJob.objects.exists()
    return_approve(return_id=draft.pk, user=staff["reviewer"], responsible="张局长")
    _, job = press(leader, reverse("reporting:return-file", args=[draft.pk, "pdf"]), django_capture_on_commit_callbacks)
    assert "医疗救助统计表" in pdf_words(download(leader, job).content)
    # the job is the leader's own: the reviewer, who prepared nothing of it, gets 404
    assert login(staff["reviewer"]).get(reverse("export-download", args=[job.pk])).status_code == 404


def test_the_auditor_still_gets_the_pdf_and_a_town_clerk_none(approved, staff, login,
                                                              django_capture_on_commit_callbacks):
    auditor = login(staff["auditor"])
    _, job = press(auditor, reverse("reporting:return-file", args=[approved.pk, "pdf"]), django_capture_on_commit_callbacks)
    assert job.requested_by == staff["auditor"] and "勾稽核对：通过" in pdf_words(download(auditor, job).content)
    assert auditor.post(reverse("reporting:return-file", args=[approved.pk, "xlsx"])).status_code == 405
    town = login(staff["slh_clerk"])
    assert town.post(reverse("reporting:return-file", args=[approved.pk, "pdf"])).status_code == 403
    assert town.get(reverse("export-download", args=[job.pk])).status_code == 404
    assert ExportJob.objects.count() == 1


def test_a_get_of_the_pdfs_address_leads_to_the_return_and_creates_nothing(approved, staff, login):
    client = login(staff["reviewer"])
    resp = client.get(reverse("reporting:return-file", args=[approved.pk, "pdf"]))
    assert resp.status_code == 302 and resp["Location"] == reverse("reporting:return-detail", args=[approved.pk])
    assert client.get(reverse("reporting:return-file", args=[approved.pk, "xlsx"]))["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    assert not ExportJob.objects.exists()
