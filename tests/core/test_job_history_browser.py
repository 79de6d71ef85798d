"""A job row's history as a member of staff sees it, in headless Chromium: the settlement month's page
shows each file's 导入记录 and the subsidy page the latest run's 状态记录 — queued by whom, each claim by
the system, the failure with its reason, 重新运行 by whom, done. Screenshots go to $JOB_HISTORY_SHOTS
(else the test's temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from claims import settlement
from claims.models import Institution
from claims.settlement import settlement_file_import, settlement_file_upload
from funding.models import SubsidyRun
from funding.services import subsidies
from yfbz.core import jobs
from yfbz.core.errors import YfbzError

from ..claims.test_settlement import MARCH, csv_bytes, line

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _history_rows(page, scope):
    return page.locator(f"{scope} [data-testid=job-history] tbody tr").all_inner_texts()


def test_the_settlement_month_and_subsidy_pages_show_a_failed_and_rerun_jobs_history(
        people, make_person, staff, browser_login, monkeypatch, tmp_path):
    shots = Path(os.environ.get("JOB_HISTORY_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    clerk = staff["district_clerk"]
    inst = Institution.objects.create(code="YB01", name="渝北区人民医院", level=2, bank_name="渝北农商行", bank_account="6200001")

    # a settlement file whose import failed, rerun by the clerk after the cause was fixed
    f = settlement_file_upload(institution=inst, month=MARCH, file_name="渝北区人民医院2025年3月.csv",
                               data=csv_bytes([line("S001", people["slh"], "4000.00")]), user=clerk)
    real = settlement._import_rows
    def broken_rows(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(settlement, "_import_rows", broken_rows)
    with pytest.raises(YfbzError):
        settlement_file_import(file_id=f.pk, user=clerk)
    monkeypatch.setattr(settlement, "_import_rows", real)
    f.refresh_from_db()
    jobs.rerun(f, by=clerk)  # the task is sent after commit (inline in the tests)
    f.refresh_from_db()
    assert f.status == "DONE"

    # a subsidy run that failed and was rerun
    for i in range(3):
        make_person(f"资助{i}", categories=("DIBAO",))
    work = subsidies._work_part

    def broken(*args, **kwargs):
        raise subsidies.FundingError("第1段读取人员时出错：数据库连接中断")

    monkeypatch.setattr(subsidies, "_work_part", broken)
    subsidies.subsidy_run_start(year=2025, user=clerk)
    monkeypatch.setattr(subsidies, "_work_part", work)
    run = SubsidyRun.objects.get(year=2025)
    assert run.status == "failed"
    jobs.rerun(run, by=clerk)
    run.refresh_from_db()
    assert run.status == "done"

    page = browser_login(clerk.username)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reverse("claims:settlement-month", args=[f.settlement_month_id]))
    rows = _history_rows(page, "[data-testid=settlement-file]")
    assert len(rows) == 6, rows
    assert "排队中" in rows[0] and str(clerk) in rows[0] and "上传" in rows[0]
    assert "导入失败" in rows[2] and "磁盘已满" in rows[2] and "系统" in rows[2]
    assert "重新运行" in rows[3] and str(clerk) in rows[3]
    assert "已导入" in rows[5]
    page.locator("[data-testid=settlement-file]").first.screenshot(path=str(shots / "settlement-file-history.png"))

    page.goto(reverse("funding:subsidy") + "?year=2025")
    rows = _history_rows(page, "")
    assert len(rows) == 6, rows
    assert "失败" in rows[2] and "数据库连接中断" in rows[2]
    assert "重新运行" in rows[3] and str(clerk) in rows[3] and "已完成" in rows[5]
    page.locator("[data-testid=job-history]").first.screenshot(path=str(shots / "subsidy-run-history.png"))
    page.screenshot(path=str(shots / "subsidy-page.png"), full_page=True)
