"""Every download of a list is fast or a job (issue 14, yfbz.core.exports): each kind builds in the request
only up to its own measured row limit (a few hundred to a few thousand rows: what openpyxl writes in
~150 ms), ``YFBZ_EXPORT_INLINE_ROWS`` replaces them all when set; the audit trail's download is one of them."""

import io
from dataclasses import replace

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

from yfbz.core import exports
from yfbz.core.models import ExportJob
from yfbz.core.pii import mask

pytestmark = pytest.mark.django_db


def body(resp) -> bytes:
    return b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content


def test_each_kind_has_its_own_measured_limit_and_the_setting_replaces_them(settings, monkeypatch):
    settings.YFBZ_EXPORT_INLINE_ROWS = None
    assert exports.inline_limit("claims.settlement_lines") == exports.KINDS["claims.settlement_lines"].inline_rows
    assert {k: v.inline_rows for k, v in exports.KINDS.items()}["claims.bills"] < 5000
    for key in ("monitoring.results", "funding.gap_list", "beneficiaries.roster_issues", "core.audit"):
        assert key in exports.KINDS, f"{key}: a download of a list that never becomes a job"
    settings.YFBZ_EXPORT_INLINE_ROWS = 7
    assert exports.inline_limit("claims.settlement_lines") == 7


def test_a_kind_over_its_own_limit_is_a_job(make_person, people, staff, login, settings, monkeypatch,
                                            django_capture_on_commit_callbacks):
    from beneficiaries.models import Person

    settings.YFBZ_EXPORT_INLINE_ROWS = None
    monkeypatch.setitem(exports.KINDS, "beneficiaries.people",
                        replace(exports.KINDS["beneficiaries.people"], inline_rows=2))
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.get(reverse("beneficiaries:person-export"))
    job = ExportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("export-detail", args=[job.pk])
    page = client.get(resp["Location"]).content.decode()
    assert "超过2行，已转为后台生成" in page  # the message names the kind's own limit
    rows = list(load_workbook(io.BytesIO(body(client.get(reverse("export-download", args=[job.pk]))))).active
                .iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rows) == sorted(mask(n) for n in Person.objects.values_list("id_number", flat=True))


def test_the_audit_trail_over_the_limit_is_a_job_as_the_auditor_with_the_same_file(
        people, staff, login, settings, django_capture_on_commit_callbacks):
    auditor = login(staff["auditor"])
    settings.YFBZ_EXPORT_INLINE_ROWS = 100_000
    inline = body(auditor.get(reverse("audit-export")))
    settings.YFBZ_EXPORT_INLINE_ROWS = 1
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    with django_capture_on_commit_callbacks(execute=True):
        resp = auditor.get(reverse("audit-export"))
    job = ExportJob.objects.get(kind="core.audit")
    assert resp.status_code == 302 and job.status == ExportJob.Status.DONE
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before + 1  # the export, asked once
    got = auditor.get(reverse("export-download", args=[job.pk]))
    assert job.file_name.startswith("审计日志-") and job.file_name.endswith(".xlsx")

    def entries(data):
        ws = load_workbook(io.BytesIO(data)).active
        return [r for r in ws.iter_rows(values_only=True)]

    job_rows, inline_rows = entries(body(got)), entries(inline)
    assert job_rows[0] == ("编号", "时间", "操作人", "动作", "对象类型", "对象", "变更（前 → 后）", "地址")
    # the job's file holds the entries of the inline one (and those written since: the job's own)
    assert set(inline_rows) <= set(job_rows) and len(inline_rows) > 1
    # nobody but an auditor builds it: a clerk's job fails in Chinese
    from yfbz.core.errors import YfbzError
    from yfbz.core.exports import export_run

    clerks = ExportJob.objects.create(kind="core.audit", title="审计日志", requested_by=staff["district_clerk"], params={})
    with pytest.raises(YfbzError):
        export_run(job_id=clerks.pk)
    clerks.refresh_from_db()
    assert clerks.status == ExportJob.Status.FAILED and "无权导出" in clerks.error
