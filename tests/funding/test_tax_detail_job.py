"""The 代缴明细 reconciliation is a background job (issue 18, yfbz.core.jobs): the page only stores the
file and queues; the job reads, reconciles and writes the lines, or fails with the reason in Chinese
and keeps nothing; a failed or abandoned one offers "重新运行" to its uploader; never stuck. The same
file (same bytes, or the same rows of the year in another order or under another title) is refused
naming the earlier upload."""

import io

import pytest
from django.urls import reverse

from funding import services
from funding.models import TaxReconciliation, TaxReconciliationLine
from funding.services import FundingError
from yfbz.core import jobs
from yfbz.files.samples import tax_row, tax_xlsx, titled_xlsx

from .test_tax_detail import STRANGER, detail, year_run  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def upload(client, data, name="代缴明细2025.xlsx", year=2025):
    f = io.BytesIO(data)
    f.name = name
    return client.post(reverse("funding:tax-reconciliations"), {"year": year, "file": f})


def test_the_page_stores_and_queues_then_the_job_reconciles(year_run, staff, login,  # noqa: F811
                                                            django_capture_on_commit_callbacks):
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        resp = upload(client, detail(year_run))
    rec = TaxReconciliation.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("funding:tax-reconciliation", args=[rec.pk])
    assert rec.status == "queued" and not TaxReconciliationLine.objects.exists()  # nothing read in the request
    page = client.get(resp["Location"]).content.decode()
    assert "排队中" in page and "后台正在读取并逐人核对" in page and "确认结算" not in page
    assert len(queued) == 1
    queued[0]()  # the task (run inline, as the worker would)
    rec.refresh_from_db()
    assert rec.status == "done" and rec.rows == 8 and rec.finished_at is not None
    assert TaxReconciliationLine.objects.filter(reconciliation=rec, kind="MISSING").count() == 1
    page = client.get(resp["Location"]).content.decode()
    assert "各镇街核对结果" in page and "多10.00元" in page and "后台正在" not in page
    assert client.get(resp["Location"], {"format": "json"}).json() == {
        "status": "done", "status_zh": "已核对", "finished": True, "error": ""}


def test_a_bad_file_fails_the_job_with_row_and_field_and_only_its_uploader_reruns_it(
        year_run, staff, login, django_capture_on_commit_callbacks):  # noqa: F811
    bad = tax_xlsx([tax_row(1, year_run["dibao"].id_number, "低保甲", "双龙湖街道", "低保对象", "-5")])
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = upload(client, bad)
    rec = TaxReconciliation.objects.get()
    assert rec.status == "failed" and "第4行“代缴金额”：金额不能为负数" in rec.error
    assert not TaxReconciliationLine.objects.exists()
    page = client.get(resp["Location"]).content.decode()
    assert "核对失败" in page and "第4行“代缴金额”" in page and 'data-testid="job-rerun"' in page
    other = login(staff["reviewer"])
    assert "job-rerun" not in other.get(resp["Location"]).content.decode()
    assert other.post(reverse("job-rerun", args=["funding.taxreconciliation", rec.pk]), {"next": "/"}).status_code == 403
    with pytest.raises(FundingError, match="核对完成后才能确认结算"):
        services.tax_reconciliation_settle(reconciliation_id=rec.pk, town_id=year_run["dibao"].town_id, payee_name="税务局",
                                           bank_name="国库", bank_account="1", user=staff["reviewer"])


def test_a_job_whose_worker_died_is_offered_rerun_and_finishes(year_run, staff, login,  # noqa: F811
                                                               django_capture_on_commit_callbacks):
    clerk = staff["district_clerk"]
    rec = services.tax_reconciliation_queue(year=2025, file_name="a.xlsx", data=detail(year_run), user=clerk, send=False)
    TaxReconciliation.objects.filter(pk=rec.pk).update(status="running", job_tries=1)  # its worker was killed
    rec.refresh_from_db()
    assert jobs.abandoned(rec)
    client = login(clerk)
    url = reverse("funding:tax-reconciliation", args=[rec.pk])
    page = client.get(url).content.decode()
    assert "运行已中断" in page and 'data-testid="job-rerun"' in page
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("job-rerun", args=["funding.taxreconciliation", rec.pk]), {"next": url})
    assert resp.status_code == 302
    rec.refresh_from_db()
    assert rec.status == "done" and rec.counts["AGREED"] == 1 and rec.agreed_total == year_run["amount"]["dibao"]


def test_a_job_tried_three_times_is_failed_not_tried_again(year_run, staff):  # noqa: F811
    rec = services.tax_reconciliation_queue(year=2025, file_name="a.xlsx", data=detail(year_run),
                                            user=staff["district_clerk"], send=False)
    TaxReconciliation.objects.filter(pk=rec.pk).update(job_tries=jobs.MAX_TRIES)
    assert services.tax_detail.tax_reconciliation_run(reconciliation_id=rec.pk) is None
    rec.refresh_from_db()
    assert rec.status == "failed" and "3" in rec.error and not TaxReconciliationLine.objects.exists()


def test_the_same_file_again_is_refused_naming_the_earlier_upload(year_run, staff, login,  # noqa: F811
                                                                  django_capture_on_commit_callbacks):
    client = login(staff["district_clerk"])
    data = detail(year_run)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, data, name="代缴明细2025.xlsx")
    first = TaxReconciliation.objects.get()
    # the same bytes: refused on the page, nothing stored
    resp = upload(client, data, name="又一份.xlsx")
    page = resp.content.decode()
    assert TaxReconciliation.objects.count() == 1
    assert f"第{first.pk}号核对（文件“代缴明细2025.xlsx”" in page and "完全相同，不再重复导入" in page
    # the same rows of the year in another order, under another title: the job refuses it
    a = year_run["amount"]
    p = year_run
    rows = [
        tax_row(1, p["wording"].id_number, "写法辛", "双龙湖街道", "城乡低保户（A类）", float(a["wording"])),
        tax_row(2, p["dibao"].id_number, "低保甲", "双龙湖街道", "低保对象", float(a["dibao"])),
        tax_row(3, p["dibao"].id_number, "低保甲", "双龙湖街道", "低保对象", float(a["dibao"])),
        tax_row(4, p["widow"].id_number, "遗属乙", "回兴街道", "病故军人遗属", float(a["widow"] + 10)),
        tax_row(5, p["other"].id_number, "类别乙", "双龙湖街道", "特困人员", float(a["other"])),
        tax_row(6, p["employer"].id_number, "职工戊", "双龙湖街道", "特困人员", 400),
        tax_row(7, STRANGER, "查无己", "回兴", "低保对象", 320),
        tax_row(8, p["self"].id_number, "自缴丁", "双龙湖街道", "低保对象", float(a["self"])),
    ]
    again = titled_xlsx(("2025年度代缴明细（重新导出）",), ["序号", "人员编号", "姓名", "身份证件类型", "身份证件号码", "街道乡镇",
                                                   "代缴类别", "代缴金额", "个人缴费日期"], rows)
    with django_capture_on_commit_callbacks(execute=True):
        resp = upload(client, again, name="重新导出.xlsx")
    second = TaxReconciliation.objects.latest("pk")
    assert second.pk != first.pk and second.status == "failed"
    assert f"与第{first.pk}号核对（文件“代缴明细2025.xlsx”" in second.error and "不再重复核对" in second.error
    assert not TaxReconciliationLine.objects.filter(reconciliation=second).exists()
    # a changed file of the year is taken
    changed = tax_xlsx(rows[:-1])
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, changed, name="更正后.xlsx")
    assert TaxReconciliation.objects.latest("pk").status == "done"


def test_an_unexpected_error_fails_with_a_chinese_reason_and_a_rerun_reconciles_once_it_is_gone(
        year_run, staff, login, monkeypatch, django_capture_on_commit_callbacks):  # noqa: F811
    from funding.services import tax_detail

    clerk = staff["district_clerk"]
    rec = services.tax_reconciliation_queue(year=2025, file_name="a.xlsx", data=detail(year_run), user=clerk, send=False)
    real = tax_detail.reconcile

    def broken(*args, **kwargs):
        raise RuntimeError("worker lost its mind")

    monkeypatch.setattr(tax_detail, "reconcile", broken)
    with pytest.raises(Exception):  # noqa: B017 — JobError, with the reason
        tax_detail.tax_reconciliation_run(reconciliation_id=rec.pk)
    rec.refresh_from_db()
    assert rec.status == "failed" and "任务运行出错（税务代缴明细核对）" in rec.error and "RuntimeError" in rec.error
    assert not TaxReconciliationLine.objects.exists() and jobs.can_rerun(rec)
    monkeypatch.setattr(tax_detail, "reconcile", real)
    client = login(clerk)
    url = reverse("funding:tax-reconciliation", args=[rec.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("job-rerun", args=["funding.taxreconciliation", rec.pk]), {"next": url})
    rec.refresh_from_db()
    assert rec.status == "done" and rec.error == "" and TaxReconciliationLine.objects.filter(reconciliation=rec).exists()


def test_while_a_live_worker_holds_the_job_nobody_else_runs_or_reruns_it(year_run, staff):  # noqa: F811
    from funding.services import tax_detail
    from tests.worker_process import another_worker_holding
    from yfbz.core import errors
    from yfbz.core.errors import YfbzError

    clerk = staff["district_clerk"]
    rec = services.tax_reconciliation_queue(year=2025, file_name="a.xlsx", data=detail(year_run), user=clerk, send=False)
    TaxReconciliation.objects.filter(pk=rec.pk).update(status="running", job_tries=1)
    with another_worker_holding(rec):
        rec.refresh_from_db()
        assert jobs.alive(rec) and not jobs.abandoned(rec) and not jobs.can_rerun(rec)
        assert tax_detail.tax_reconciliation_run(reconciliation_id=rec.pk) is None  # a second delivery does nothing
        with pytest.raises(YfbzError) as caught:
            jobs.rerun(rec, by=clerk)
        assert caught.value.template is errors.JOB_STILL_RUNNING
    rec.refresh_from_db()
    assert jobs.abandoned(rec)  # its worker gone: offered 重新运行 at once
    jobs.rerun(rec, by=clerk)
    assert tax_detail.tax_reconciliation_run(reconciliation_id=rec.pk).status == "done"


@pytest.mark.worker
def test_the_reconciliation_goes_through_a_real_worker(celery_worker_real, staff, make_person, login):
    """The page stores and queues; a real Celery worker (through Redis) reconciles; the page shows it."""
    import time
    from decimal import Decimal

    from funding.models import Enrolment, SubsidyResult, SubsidyRun

    clerk = staff["district_clerk"]
    p = make_person("真工人", categories=("DIBAO",))
    Enrolment.objects.create(person=p, year=2025, kind="RESIDENT_T1")
    run = SubsidyRun.objects.create(year=2025, status="done", started_by=clerk)
    SubsidyResult.objects.create(person=p, year=2025, enrolment="RESIDENT_T1", category="DIBAO", amount=Decimal("342.00"),
                                 town_id=p.town_id, run=run)
    client = login(clerk)
    resp = upload(client, tax_xlsx([tax_row(1, p.id_number, p.name, "双龙湖街道", "低保对象", 342.0)]))
    rec = TaxReconciliation.objects.get()
    for _ in range(300):
        rec.refresh_from_db()
        if rec.status in ("done", "failed"):
            break
        time.sleep(0.1)
    assert rec.status == "done", rec.error
    assert rec.counts["AGREED"] == 1 and rec.agreed_total == Decimal("342.00")
    assert "各镇街核对结果" in client.get(resp["Location"]).content.decode()
