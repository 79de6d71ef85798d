"""The web process never lays out the three PDFs that were still built in it (issue 14): the statistical return,
the fund request form and the month's funding report. Finance's clicks — each document's page, its button,
the job's page, the old addresses — run in a fresh interpreter configured as deployed (tasks sent to Redis);
WeasyPrint (and the V8 engine that draws the return's charts) is never imported there. Then a real worker
process builds the three PDFs and the job pages offer them."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from reporting.cuts import Period
from reporting.returns import return_approve, return_prepare
from yfbz.core.models import ExportJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.worker]


def words(data: bytes) -> str:
    import io

    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


@pytest.fixture
def fund_request(staff):
    from funding import services
    from funding.payables import PROVIDERS, Payable, Provider, register_provider

    rows = [Payable("web-1", "PERSON", "重大甲", "农行", "6228000000000001", "ASSISTANCE", "BENEFIT_PERSON",
                    "MAJOR_DISEASE", None, Decimal("41209.28"))]
    register_provider(Provider("test_web_jobs", lambda *, year, month: rows, lambda *, source_keys, paid_on, user: None))
    yield services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    PROVIDERS.pop("test_web_jobs")


def test_the_web_process_never_imports_weasyprint_for_the_return_the_fund_request_or_the_month_report(
        year_2025, fund_request, staff, login):
    from tests.worker_process import as_web_process, sending_to_redis, wait_for, worker_process

    ret = return_prepare(kind="ASSISTANCE", period=Period(2025, quarter=2), user=staff["district_clerk"])
    return_approve(return_id=ret.pk, user=staff["reviewer"], responsible="张局长")
    with sending_to_redis():
        seen = as_web_process(WEB_SCRIPT, str(ret.pk), str(fund_request.pk))
        assert seen["heavy"] == [], seen
        assert seen["statuses"] == [200, 302, 200] * 3 + [302, 302, 302], seen
        assert all("正在生成" in page for page in seen["pages"]), seen["pages"]
        jobs = list(ExportJob.objects.filter(pk__in=seen["jobs"]).order_by("pk"))
        assert [j.kind for j in jobs] == ["reporting.return_pdf", "funding.request_pdf", "funding.month_report_pdf"]
        assert {j.status for j in jobs} == {ExportJob.Status.QUEUED} and ExportJob.objects.count() == 3
        with worker_process():
            wait_for(lambda: set(ExportJob.objects.filter(pk__in=seen["jobs"]).values_list("status", flat=True))
                     == {ExportJob.Status.DONE}, 180, "the worker to build the three PDFs")
    client = login(staff["finance"])
    texts = []
    for job in jobs:
        page = client.get(reverse("export-detail", args=[job.pk])).content.decode()
        assert "已完成" in page and "下载 PDF" in page
        texts.append(words(client.get(reverse("export-download", args=[job.pk])).content))
    assert "医疗救助统计表" in texts[0] and "单位负责人：张局长" in texts[0] and "4,280.00" in texts[0]
    assert "医疗救助资金申请表" in texts[1] and fund_request.number in texts[1] and "41,209.28" in texts[1]
    assert "医疗救助资金2025年3月收支报表" in texts[2]


#: run in a fresh interpreter as the web process: finance's clicks; prints what it saw as JSON
WEB_SCRIPT = r"""
import json, re, sys
import django
django.setup()
from django.test import Client
from yfbz.core.models import User

ret_id, req_id = int(sys.argv[1]), int(sys.argv[2])
c = Client()
c.force_login(User.objects.get(username="finance"))
statuses, pages, jobs = [], [], []

def press(page_url, testid):
    r = c.get(page_url); statuses.append(r.status_code)
    html = r.content.decode()
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>((?:(?!</form>).)*)data-testid="%s"' % testid, html, re.S)
    if form:
        fields = dict(re.findall(r'<input type="hidden" name="(year|month)" value="([^"]*)"', form.group(2)))
        r = c.post(form.group(1), fields)
    else:  # the button was a link (before issue 14): follow it as the browser did
        link = re.search(r'<a[^>]*href="([^"]*(?:file\.pdf|/pdf/|format=pdf)[^"]*)"', html)
        r = c.get(link.group(1).replace("&amp;", "&") if link.group(1).startswith("/") else page_url.split("?")[0] + link.group(1).replace("&amp;", "&"))
    statuses.append(r.status_code)
    if r.status_code == 302:
        jobs.append(int(re.search(r"/exports/(\d+)/", r["Location"]).group(1)))
        r = c.get(r["Location"]); statuses.append(r.status_code); pages.append(r.content.decode())

press(f"/reporting/returns/{ret_id}/", "return-pdf")
press(f"/funding/requests/{req_id}/", "pdf")
press("/funding/report/?year=2025&month=3", "report-pdf")
for old in (f"/reporting/returns/{ret_id}/file.pdf", f"/funding/requests/{req_id}/pdf/", "/funding/report/?year=2025&month=3&format=pdf"):
    statuses.append(c.get(old).status_code)
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"weasyprint", "py_mini_racer"})
print(json.dumps({"heavy": heavy, "statuses": statuses, "jobs": jobs, "pages": pages}, ensure_ascii=False))
"""
