"""The fund request form and the month report as PDF are built by a Celery task, never in the web process
(issue 14: WeasyPrint cost a web worker ~70 MiB at its first PDF and held it for a second or more a render).

打印申请表 / 导出 PDF is a POST that queues a job (yfbz.core.exports.document_job) and leads to the job's page,
which offers 下载 PDF when it is done; a second press while the job waits is that job; only the one who asked
downloads it; the task reads the request again through the same scoped selector as the user who asked."""

import re
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse

from funding import services
from funding.payables import PROVIDERS, Payable, Provider, register_provider
from yfbz.core import errors
from yfbz.core.models import ExportJob
from yfbz.core.workflow import history_of

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", out.decode())


@pytest.fixture
def req(staff):
    """A March 2025 fund request of 渝北 with one person's benefit and one institution's one-stop month."""
    rows = [
        Payable("job-1", "PERSON", "重大甲", "农行", "6228000000000001", "ASSISTANCE", "BENEFIT_PERSON", "MAJOR_DISEASE",
                None, Decimal("41209.28")),
        Payable("job-2", "INSTITUTION", "渝北区人民医院", "农商行", "9100YB001", "ASSISTANCE", "INSTITUTION", "ONE_STOP",
                None, Decimal("12345.67")),
    ]
    register_provider(Provider("test_doc_jobs", lambda *, year, month: rows, lambda *, source_keys, paid_on, user: None))
    yield services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    PROVIDERS.pop("test_doc_jobs")


@pytest.fixture
def renders(monkeypatch):
    """Every WeasyPrint layout in this process, counted (the real one still runs)."""
    import weasyprint

    calls = []
    real = weasyprint.HTML

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", counted)
    return calls


def job_of(resp) -> ExportJob:
    assert resp.status_code == 302, resp.status_code
    return ExportJob.objects.get(pk=int(re.fullmatch(r"/exports/(\d+)/", resp["Location"]).group(1)))


def test_the_print_button_queues_a_job_and_the_request_lays_out_no_pdf(
        req, staff, login, renders, django_capture_on_commit_callbacks):
    client = login(staff["finance"])
    page = client.get(reverse("funding:request-detail", args=[req.pk])).content.decode()
    url = reverse("funding:request-pdf", args=[req.pk])
    assert re.search(rf'<form method="post" action="{url}"[^>]*>.{{0,200}}data-testid="pdf">打印申请表', page, re.S)
    with django_capture_on_commit_callbacks() as queued:
        resp = client.post(url)
    job = job_of(resp)
    assert renders == [] and job.status == ExportJob.Status.QUEUED  # the request only made the job row
    assert (job.kind, job.requested_by, job.params) == ("funding.request_pdf", staff["finance"], {"pk": [str(req.pk)]})
    waiting = client.get(resp["Location"]).content.decode()
    assert "正在生成" in waiting and 'http-equiv="refresh"' in waiting and 'data-testid="export-download"' not in waiting
    assert f'href="{reverse("funding:request-detail", args=[req.pk])}"' in waiting  # 返回资金申请
    for callback in queued:  # the task (inline here; a Celery worker in production)
        callback()
    job.refresh_from_db()
    assert renders == [1] and job.status == ExportJob.Status.DONE
    assert [h.to_status for h in history_of(job)] == ["QUEUED", "RUNNING", "DONE"]
    done = client.get(resp["Location"]).content.decode()
    assert "已完成" in done and "下载 PDF" in done and 'http-equiv="refresh"' not in done
    text = pdf_text(client.get(reverse("export-download", args=[job.pk])).content)
    assert "医疗救助资金申请表" in text and req.number in text
    assert "医疗救助资金53,554.95伍万叁仟伍佰伍拾肆元玖角伍分" in text  # the figures, as the form always said


def test_the_month_report_button_queues_a_job_and_the_pdf_has_the_months_figures(
        req, staff, login, fund, renders, django_capture_on_commit_callbacks):
    fund("SPECIAL", "100000.00")
    client = login(staff["finance"])
    page = client.get(reverse("funding:report"), {"year": 2025, "month": 3}).content.decode()
    assert f'action="{reverse("funding:report-pdf")}"' in page and 'data-testid="report-pdf"' in page
    assert "format=pdf" not in page
    with django_capture_on_commit_callbacks() as queued:
        job = job_of(client.post(reverse("funding:report-pdf"), {"year": 2025, "month": 3}))
    assert renders == [] and job.params == {"month": ["3"], "year": ["2025"]}
    for callback in queued:
        callback()
    text = pdf_text(client.get(reverse("export-download", args=[job.pk])).content)
    assert renders == [1] and "医疗救助资金2025年3月收支报表" in text and "100,000.00" in text
    assert client.post(reverse("funding:report-pdf"), {"year": 2025, "month": 13}).status_code == 302
    assert ExportJob.objects.count() == 1  # a month that does not exist makes no job


def test_a_second_press_while_the_job_waits_is_the_same_job(req, staff, login, django_capture_on_commit_callbacks):
    client = login(staff["finance"])
    url = reverse("funding:request-pdf", args=[req.pk])
    with django_capture_on_commit_callbacks() as queued:
        first = job_of(client.post(url))  # on_commit not run: it still waits
    assert job_of(client.post(url)).pk == first.pk
    assert len(history_of(first)) == 1  # one job, queued once
    # the month report's jobs are told apart by their month; another user's press is their own job
    march = job_of(client.post(reverse("funding:report-pdf"), {"year": 2025, "month": 3}))
    april = job_of(client.post(reverse("funding:report-pdf"), {"year": 2025, "month": 4}))
    assert march.pk != april.pk != first.pk
    assert job_of(client.post(reverse("funding:report-pdf"), {"year": 2025, "month": 3})).pk == march.pk
    theirs = job_of(login(staff["reviewer"]).post(url))
    assert theirs.pk != first.pk and theirs.requested_by == staff["reviewer"]
    # once it is done, a press is a new PDF (the request may have moved on: submitted, signed off)
    queued[0]()
    first.refresh_from_db()
    assert first.status == ExportJob.Status.DONE
    with django_capture_on_commit_callbacks(execute=True):
        resp = login(staff["finance"]).post(url)
    again = job_of(resp)
    assert again.pk not in (first.pk, march.pk, april.pk, theirs.pk) and again.status == ExportJob.Status.DONE


def test_only_the_one_who_asked_sees_the_job_or_downloads_its_file(req, staff, login, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = login(staff["finance"]).post(reverse("funding:request-pdf", args=[req.pk]))
    job = job_of(resp)
    assert job.status == ExportJob.Status.DONE
    for who in ("reviewer", "district_clerk", "auditor", "slh_clerk"):  # the reviewer may read the request itself
        other = login(staff[who])
        assert other.get(reverse("export-detail", args=[job.pk])).status_code == 404, who
        assert other.get(reverse("export-download", args=[job.pk])).status_code == 404, who
        assert job.title not in other.get(reverse("export-list")).content.decode(), who


def test_a_town_clerk_or_another_districts_clerk_gets_no_job(req, staff, login, make_user):
    from yfbz.areas.models import Area
    from yfbz.core.roles import Role

    town = login(staff["slh_clerk"])
    assert town.post(reverse("funding:request-pdf", args=[req.pk])).status_code == 403
    assert town.post(reverse("funding:report-pdf"), {"year": 2025, "month": 3}).status_code == 403
    bb_clerk = make_user("bb_clerk", Role.DISTRICT_CLERK, district=Area.objects.get(code="BB"))
    assert login(bb_clerk).post(reverse("funding:request-pdf", args=[req.pk])).status_code == 404
    assert not ExportJob.objects.exists()


def test_the_task_reads_the_request_again_as_the_user_who_asked(req, staff, login, make_user,
                                                                 django_capture_on_commit_callbacks):
    """A job whose request is not (or no longer) in its asker's district fails in words, with 重新运行; no PDF."""
    from yfbz.areas.models import Area
    from yfbz.core.exports import document_job
    from yfbz.core.roles import Role

    bb_clerk = make_user("bb_clerk", Role.DISTRICT_CLERK, district=Area.objects.get(code="BB"))
    with django_capture_on_commit_callbacks(execute=True):
        job = document_job(user=bb_clerk, key="funding.request_pdf", params={"pk": req.pk}, title="资金申请表")
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and not ExportJob.objects.filter(pk=job.pk, data__isnull=False).exists()
    assert job.error == errors.EXPORT_OUT_OF_REACH.format(title="资金申请表", user=bb_clerk)
    page = login(bb_clerk).get(reverse("export-detail", args=[job.pk])).content.decode()
    assert "生成失败" in page and "已不在" in page and 'data-testid="job-rerun"' in page


def test_the_auditor_still_gets_both_pdfs_and_changes_nothing(req, staff, login, django_capture_on_commit_callbacks):
    from tests.document_jobs import pdf_of

    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    req.refresh_from_db()
    auditor = login(staff["auditor"])
    page = auditor.get(reverse("funding:request-detail", args=[req.pk])).content.decode()
    assert 'data-testid="pdf"' in page
    text = pdf_text(pdf_of(auditor, reverse("funding:request-pdf", args=[req.pk]), django_capture_on_commit_callbacks))
    assert req.number in text and "审核" in text
    month = pdf_text(pdf_of(auditor, reverse("funding:report-pdf"), django_capture_on_commit_callbacks,
                            {"year": 2025, "month": 3}))
    assert "收支报表" in month
    after = type(req).objects.get(pk=req.pk)
    assert (after.status, len(history_of(after))) == (req.status, len(history_of(req)))
    # still refused every other POST (the read-only role)
    assert auditor.post(reverse("funding:request-action", args=[req.pk, "cancel"])).status_code == 403


def test_a_get_of_the_old_addresses_creates_nothing(req, staff, login):
    client = login(staff["finance"])
    old = client.get(reverse("funding:request-pdf", args=[req.pk]))
    assert old.status_code == 302 and old["Location"] == reverse("funding:request-detail", args=[req.pk])
    report = client.get(reverse("funding:report"), {"year": 2025, "month": 3, "format": "pdf"})
    assert report.status_code == 302 and report["Location"] == reverse("funding:report") + "?year=2025&month=3"
    assert client.get(reverse("funding:report-pdf")).status_code == 405
    assert not ExportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_presses_at_once_in_two_web_workers_make_one_job(req, staff, monkeypatch):
    """A double click lands on two gunicorn workers at once: each looks for a waiting job before the other's is
    committed. One user's presses are looked at one at a time (an advisory lock in the press's transaction)."""
    import threading
    import time

    from django.db import connection, connections

    from yfbz.core import jobs
    from yfbz.core.exports import document_job

    if connection.vendor != "postgresql":
        pytest.skip("a real race needs PostgreSQL")
    real_queue = jobs.queue

    def slow_queue(obj, **kwargs):  # the first press's job exists but is not committed yet
        real_queue(obj, **kwargs)
        time.sleep(0.5)

    monkeypatch.setattr(jobs, "queue", slow_queue)
    barrier, made, failed = threading.Barrier(2), [], []

    def press():
        try:
            barrier.wait()
            made.append(document_job(user=staff["finance"], key="funding.request_pdf", params={"pk": req.pk},
                                     title="资金申请表").pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            failed.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not failed, failed
    assert len(made) == 2 and made[0] == made[1] and ExportJob.objects.count() == 1
