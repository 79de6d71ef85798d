"""Jobs never stuck (issue 10, finding 5): a settlement file that cannot be imported, for whatever
reason, ends FAILED with the reason in Chinese and a "重新运行" button, never RUNNING for ever."""

import pytest
from django.urls import reverse

from claims import settlement
from claims.models import SettlementFile, SettlementLine
from claims.settlement import settlement_file_import, settlement_file_upload
from tests.worker_process import another_worker_holding
from yfbz.core import errors, jobs
from yfbz.core.errors import YfbzError

from .test_settlement import MARCH, csv_bytes, line

pytestmark = pytest.mark.django_db


def _upload(institutions, staff, rows, name="f.csv", month=MARCH):
    return settlement_file_upload(institution=institutions["YB01"], month=month, file_name=name,
                                  data=csv_bytes(rows), user=staff["district_clerk"])


def _import(f, staff):
    with pytest.raises(YfbzError) as caught:
        settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    f.refresh_from_db()
    return caught.value, f


def test_an_amount_of_1e30_fails_the_file_naming_row_and_field(institutions, people, staff):
    exc, f = _import(_upload(institutions, staff, [line("S001", people["slh"], "1E+30")]), staff)
    assert f.status == SettlementFile.Status.FAILED
    assert "第2行“医疗救助垫付”" in f.error and "超出合理范围" in f.error
    assert jobs.can_rerun(f) and SettlementLine.objects.count() == 0


def test_a_nul_byte_fails_the_file_naming_row_and_field(institutions, people, staff):
    row = line("S001", people["slh"], "100.00")
    row[2] = "张\x00双龙"
    exc, f = _import(_upload(institutions, staff, [row]), staff)
    assert f.status == SettlementFile.Status.FAILED and f.error.startswith("文件未导入")  # the reader refuses it whole
    assert jobs.can_rerun(f) and SettlementLine.objects.count() == 0


@pytest.mark.parametrize("boom, words", [
    (ValueError("A string literal cannot contain NUL (0x00) characters."), errors.JOB_DATA_NUL),
    (RuntimeError("worker lost its mind"), "RuntimeError"),
])
def test_any_unexpected_error_fails_the_file_with_a_chinese_reason_and_a_rerun_imports_it(
        institutions, people, staff, login, monkeypatch, boom, words, django_capture_on_commit_callbacks):
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    real = settlement._import_rows

    def broken(*args, **kwargs):
        raise boom

    monkeypatch.setattr(settlement, "_import_rows", broken)
    exc, f = _import(f, staff)
    assert f.status == SettlementFile.Status.FAILED
    assert f.error.startswith("任务运行出错（一站式结算文件导入）") and words in f.error and "重新运行" in f.error
    assert exc.template == f.error or str(exc) == f.error
    page = login(staff["district_clerk"]).get(reverse("claims:settlement-list")).content.decode()
    assert "导入失败" in page and 'data-testid="job-rerun"' in page and words in page

    monkeypatch.setattr(settlement, "_import_rows", real)  # the cause is fixed: 重新运行
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("job-rerun", args=["claims.settlementfile", f.pk]),
                           {"next": reverse("claims:settlement-list")}, follow=True)
    assert "已重新排队运行" in resp.content.decode()
    f.refresh_from_db()
    assert f.status == SettlementFile.Status.DONE and f.error == "" and f.lines_agreed == 1


def test_a_poison_file_that_kills_its_worker_is_tried_three_times_then_failed(institutions, people, staff):
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    for _ in range(jobs.MAX_TRIES):  # three deliveries, each killing its worker after the claim
        assert jobs._claim(SettlementFile, f.pk) is not None
    assert settlement_file_import(file_id=f.pk, user=staff["district_clerk"]) is None
    f.refresh_from_db()
    assert f.status == SettlementFile.Status.FAILED and "已尝试3次" in f.error
    assert SettlementLine.objects.count() == 0


def test_a_file_whose_worker_died_is_offered_a_rerun_at_once_and_a_live_one_is_not(institutions, people, staff):
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    jobs._claim(SettlementFile, f.pk)  # claimed, then the worker was killed: nobody holds the job's lock
    f.refresh_from_db()
    assert f.status == SettlementFile.Status.RUNNING and jobs.abandoned(f) and jobs.can_rerun(f)
    with another_worker_holding(f):  # a live worker holds the job: no rerun while it works
        f.refresh_from_db()
        assert jobs.alive(f) and not jobs.abandoned(f) and not jobs.can_rerun(f)
        with pytest.raises(YfbzError) as caught:
            jobs.rerun(f, by=staff["district_clerk"])
        assert caught.value.template is errors.JOB_STILL_RUNNING
    jobs.rerun(f, by=staff["district_clerk"])
    f.refresh_from_db()
    assert f.status == SettlementFile.Status.QUEUED and f.job_tries == 0
    assert settlement_file_import(file_id=f.pk, user=staff["district_clerk"]).status == SettlementFile.Status.DONE


def test_a_done_file_is_not_rerun(institutions, people, staff):
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    f = settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    with pytest.raises(YfbzError) as caught:
        jobs.rerun(f, by=staff["district_clerk"])
    assert caught.value.template is errors.JOB_NOT_RERUNNABLE and "已导入" in str(caught.value)


def test_a_town_clerk_cannot_rerun_a_settlement_file(institutions, people, staff, login):
    f = _upload(institutions, staff, [line("S001", people["slh"], "1E+30")])
    _import(f, staff)
    resp = login(staff["slh_clerk"]).post(reverse("job-rerun", args=["claims.settlementfile", f.pk]), {"next": "/"})
    assert resp.status_code == 403
    f.refresh_from_db()
    assert f.status == SettlementFile.Status.FAILED


@pytest.mark.postgres
def test_a_job_lock_held_in_another_database_is_not_this_job(institutions, people, staff):
    """Advisory locks are cluster-wide: another database's job with the same model and id (another
    installation, a bench database) held its worker's lock, and this file was called alive for ever."""
    import psycopg
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (advisory locks)")
    f = _upload(institutions, staff, [line("S001", people["slh"], "4000.00")])
    jobs._claim(SettlementFile, f.pk)  # claimed, then its worker was killed
    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname="postgres",
                         autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", jobs._key(SettlementFile, f.pk))
        f.refresh_from_db()
        assert not jobs.alive(f) and jobs.abandoned(f) and jobs.can_rerun(f)
