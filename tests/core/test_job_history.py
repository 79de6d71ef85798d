"""Job rows move through the one door (yfbz.core.workflow; docs/architecture.md, "Status changes: one
door" and "Background jobs never stuck"): a settlement file, a subsidy run and every other job row
declare their moves (derived from their JobSpec) and keep an append-only history — who queued it, each
claim by a worker, a failure with its reason in Chinese, 重新运行 and who pressed it, done — each row
written in the same transaction as the status. A move a job may not make is refused; a scan of the
code proves no job row's status is set anywhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

from claims import settlement
from claims.models import PlatformSettlementFile, SettlementFile
from claims.settlement import settlement_file_import, settlement_file_upload
from funding.models import SubsidyRun
from funding.services import subsidies
from yfbz.core import errors, jobs, workflow
from yfbz.core.errors import TransitionRefused, YfbzError

from ..claims.test_settlement import MARCH, csv_bytes, line

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
JOB_MODELS = sorted(jobs.REGISTRY.values(), key=lambda m: m._meta.label)


def moves(obj):
    return [(h.from_status, h.to_status) for h in workflow.history_of(obj)]


@pytest.fixture
def institutions(db):
    from claims.models import Institution

    return {"YB01": Institution.objects.create(code="YB01", name="渝北区人民医院", level=2, bank_name="渝北农商行",
                                               bank_account="6200001")}


def _upload(institutions, staff, rows, name="f.csv"):
    return settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name=name, data=csv_bytes(rows),
                                  user=staff["district_clerk"])


# --- every job row ---------------------------------------------------------------------------------
def test_every_job_row_declares_its_moves_from_its_jobspec_and_has_a_protected_history():
    assert {m.__name__ for m in JOB_MODELS} >= {"NoticeBatch", "SettlementFile", "PlatformSettlementFile", "ExportJob",
                                                 "RosterJob", "SubsidyRun", "TaxReconciliation", "FileImport"}
    for model in JOB_MODELS:
        spec = jobs.spec_of(model)
        assert model.MOVES == spec.moves(), model
        q, d, f = spec.queued, spec.done, spec.failed
        assert model.MOVES[workflow.NEW] == {q} and model.MOVES[f] == {q}, model
        assert d not in model.MOVES[q] and d not in model.MOVES[f], model  # done only by the work itself
        h = workflow.history_model(model)
        assert h._meta.get_field(h.SUBJECT).remote_field.on_delete.__name__ == "PROTECT"
    assert PlatformSettlementFile.MOVES["DONE"] == {"QUEUED"} and SettlementFile.MOVES["DONE"] == set()
    assert workflow.check_workflows() == []


# --- a file that fails, is rerun and is imported -----------------------------------------------------
def test_a_settlement_file_failed_then_rerun_leaves_one_history_row_per_move_with_the_reason_and_who(
        institutions, people, staff, login, monkeypatch, django_capture_on_commit_callbacks):
    clerk = staff["district_clerk"]
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    real = settlement._import_rows

    def broken(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(settlement, "_import_rows", broken)
    with pytest.raises(YfbzError):
        settlement_file_import(file_id=f.pk, user=clerk)
    f.refresh_from_db()
    failed_with = f.error
    assert f.status == "FAILED" and "磁盘已满" in failed_with

    monkeypatch.setattr(settlement, "_import_rows", real)
    with django_capture_on_commit_callbacks(execute=True):
        login(clerk).post(reverse("job-rerun", args=["claims.settlementfile", f.pk]), {"next": "/"})
    f.refresh_from_db()
    assert f.status == "DONE" and f.lines_agreed == 1 and f.error == ""

    rows = list(workflow.history_of(f))
    assert [(r.from_status, r.to_status) for r in rows] == [
        ("", "QUEUED"), ("QUEUED", "RUNNING"), ("RUNNING", "FAILED"), ("FAILED", "QUEUED"), ("QUEUED", "RUNNING"),
        ("RUNNING", "DONE")]
    assert [r.by for r in rows] == [clerk, None, None, clerk, None, None]
    assert [r.reason for r in rows] == ["上传", "第1次运行", failed_with, "重新运行", "第1次运行", "运行完成"]
    assert [(r.from_label, r.to_label) for r in rows][2:4] == [("导入中", "导入失败"), ("导入失败", "排队中")]
    times = [r.at for r in rows]
    assert times == sorted(times)

    # the month's page shows each file's history: who, when, from, to, why ("系统" for the worker)
    page = login(clerk).get(reverse("claims:settlement-month", args=[f.settlement_month_id])).content.decode()
    assert 'data-testid="job-history"' in page and "导入记录" in page
    assert "磁盘已满" in page and "重新运行" in page and "系统" in page and str(clerk) in page


def test_a_subsidy_run_that_fails_keeps_its_first_reason_and_is_rerun_with_who_on_the_page(
        make_person, staff, login, monkeypatch, django_capture_on_commit_callbacks):
    clerk = staff["district_clerk"]
    for i in range(3):
        make_person(f"资助{i}", categories=("DIBAO",))
    real = subsidies._work_part

    def broken(*args, **kwargs):
        raise subsidies.FundingError("第1段读取人员时出错：测试")

    monkeypatch.setattr(subsidies, "_work_part", broken)
    with django_capture_on_commit_callbacks(execute=True):  # the task inline (its error is on the row)
        subsidies.subsidy_run_start(year=2025, user=clerk)
    run = SubsidyRun.objects.get(year=2025)
    assert run.status == "failed" and run.error == "第1段读取人员时出错：测试"
    page = login(clerk).get(reverse("funding:subsidy"), {"year": 2025}).content.decode()
    assert "本次计算的状态记录" in page and "第1段读取人员时出错：测试" in page

    monkeypatch.setattr(subsidies, "_work_part", real)
    with django_capture_on_commit_callbacks(execute=True):
        login(clerk).post(reverse("job-rerun", args=["funding.subsidyrun", run.pk]), {"next": "/"})
    run.refresh_from_db()
    assert run.status == "done"
    rows = list(workflow.history_of(run))
    assert [(r.from_status, r.to_status, r.by, r.reason) for r in rows] == [
        ("", "queued", clerk, "发起计算"), ("queued", "running", None, "第1次运行"),
        ("running", "failed", None, "第1段读取人员时出错：测试"),  # failed once: the coordinator's own catch adds nothing
        ("failed", "queued", clerk, "重新运行"), ("queued", "running", None, "第1次运行"),
        ("running", "done", None, "运行完成")]
    page = login(clerk).get(reverse("funding:subsidy"), {"year": 2025}).content.decode()
    assert page.count("<tr><td>") >= 6 and "计算中" in page and "已完成" in page and "重新运行" in page


def test_a_poison_file_leaves_each_claim_and_the_failure_after_three_tries(institutions, people, staff):
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    for _ in range(jobs.MAX_TRIES):  # three deliveries, each killing its worker after the claim
        assert jobs._claim(SettlementFile, f.pk) is not None
    assert settlement_file_import(file_id=f.pk, user=staff["district_clerk"]) is None
    rows = list(workflow.history_of(f))
    assert [(r.from_status, r.to_status) for r in rows] == [
        ("", "QUEUED"), ("QUEUED", "RUNNING"), ("RUNNING", "RUNNING"), ("RUNNING", "RUNNING"), ("RUNNING", "FAILED")]
    assert rows[2].reason == "第2次运行（上次运行中断，任务再次送达）"
    assert "已尝试3次" in rows[-1].reason and rows[-1].by is None


def test_a_roster_check_that_fails_shows_its_history_on_the_roster_page_and_is_rerun_by_the_officer(
        staff, departments, django_capture_on_commit_callbacks, monkeypatch, login):
    from datetime import date

    from beneficiaries import services
    from beneficiaries.rosters import bulk
    from tests.beneficiaries.conftest import ids, roster_xlsx

    officer = staff["civil_officer"]

    def broken(*args, **kwargs):
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(bulk, "insert_rows", broken)
    with django_capture_on_commit_callbacks(execute=True):
        upload = services.roster_upload_create(user=officer, department=departments["CIVIL"], month=date(2025, 3, 1),
                                               mode="snapshot", file_name="名单.xlsx",
                                               data=roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(4)])).upload
    job = services.latest_job(upload)
    assert job.status == "failed"
    page = login(officer).get(reverse("beneficiaries:roster-detail", args=[upload.pk])).content.decode()
    assert "后台处理记录" in page and "名单校验比对" in page and "空字符" in page
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.rerun(job, by=officer)
    job.refresh_from_db()
    rows = list(workflow.history_of(job))
    assert [(r.from_status, r.to_status, r.by) for r in rows] == [
        ("", "queued", officer), ("queued", "running", None), ("running", "failed", None), ("failed", "queued", officer),
        ("queued", "running", None), ("running", "done", None)]
    assert "空字符" in rows[2].reason and rows[3].reason == "重新运行"


# --- moves refused -----------------------------------------------------------------------------------
def test_a_move_a_job_may_not_make_is_refused_in_chinese_and_writes_nothing(institutions, people, staff):
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    f = settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    before = moves(f)
    assert before[-1] == ("RUNNING", "DONE")
    with pytest.raises(TransitionRefused) as caught, transaction.atomic():
        workflow.transition(f, SettlementFile.Status.RUNNING, by=None, reason="再领取一次")
    assert caught.value.template is errors.MOVE_REFUSED
    assert str(caught.value) == f"一站式结算文件{f.pk}当前为“已导入”，不能改为“导入中”。"
    for to in ("QUEUED", "FAILED"):
        with pytest.raises(TransitionRefused):
            workflow.transition(SettlementFile.objects.get(pk=f.pk), to, by=staff["district_clerk"])
    # a late failure of a file already imported does not turn it failed, a stale "done" does nothing
    jobs.fail(SettlementFile, f.pk, f.job_token, RuntimeError("迟到的错误"))
    assert jobs.done(SettlementFile, f.pk, "another-token") is False
    # a failed job is not done by a worker that lost it either: only 重新运行 moves it
    with pytest.raises(TransitionRefused, match="当前为“导入失败”，不能改为“已导入”"):
        workflow.transition(SettlementFile(pk=f.pk, status="FAILED"), "DONE", by=None)
    f.refresh_from_db()
    assert f.status == "DONE" and f.error == "" and moves(f) == before


def test_a_rerun_of_a_done_job_is_refused_and_writes_no_history(institutions, people, staff):
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    f = settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    n = len(moves(f))
    with pytest.raises(YfbzError) as caught:
        jobs.rerun(f, by=staff["district_clerk"])
    assert caught.value.template is errors.JOB_NOT_RERUNNABLE
    assert len(moves(f)) == n


# --- the scan ----------------------------------------------------------------------------------------
NAMES = {m.__name__ for m in JOB_MODELS}


def _mentions_job_status(node) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr == "Status" and isinstance(n.value, ast.Name) and n.value.id in NAMES:
            return True
        if isinstance(n, ast.Attribute) and n.attr in ("queued", "running", "done", "failed") and \
                isinstance(n.value, ast.Name) and n.value.id == "spec":
            return True
    return False


def _root(node) -> tuple[str | None, set[str]]:
    attrs = set()
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            attrs.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return (node.id if isinstance(node, ast.Name) else None), attrs


def job_status_writes(source: str, where: str = "<code>") -> list[str]:
    """Every place of ``source`` that sets a job row's status outside yfbz.core.workflow."""
    tables = {m._meta.db_table for m in JOB_MODELS}
    found = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, (ast.Assign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in flat) and n.value is not None \
                    and _mentions_job_status(n.value):
                found.append(f"{where}:{n.lineno}: .status = …")
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "update":
            kw = {k.arg: k.value for k in n.keywords if k.arg}
            root, attrs = _root(n.func.value)
            if "status" in kw and (root in NAMES or "_base_manager" in attrs or _mentions_job_status(kw["status"])):
                found.append(f"{where}:{n.lineno}: update(status=…)")
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            text = n.value.lower()
            if "update" in text and "status" in text and any(t in text for t in tables):
                found.append(f"{where}:{n.lineno}: SQL UPDATE … status")
    return found


def test_the_scan_catches_the_ways_job_rows_were_moved_before():
    before = '''
model._base_manager.filter(pk=pk).update(status=spec.running, job_token=token)
qs.update(status=spec.failed, **{spec.error_field: text})
RosterJob.objects.filter(pk=job_id, job_token=token).update(status=RosterJob.Status.DONE)
f.status, f.error = SettlementFile.Status.DONE, ""
cur.execute('UPDATE "funding_subsidyrun" SET status = %s')
'''
    assert len(job_status_writes(before)) == 5, job_status_writes(before)
    assert job_status_writes('''
jobs.done(SettlementFile, file_id, token, lines_total=3)
SettlementFile.objects.filter(status=SettlementFile.Status.RUNNING).update(error="")
''') == []


def test_no_job_row_status_is_set_outside_the_workflow():
    skip = {"migrations", "tests", ".venv", "node_modules", "static", "bench"}
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if skip & set(rel.parts) or rel.as_posix() == "yfbz/core/workflow.py":
            continue
        found += job_status_writes(path.read_text(encoding="utf-8"), rel.as_posix())
    assert found == [], "a job row's status set outside yfbz.core.workflow:\n" + "\n".join(found)
