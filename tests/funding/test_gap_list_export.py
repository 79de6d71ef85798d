"""The 漏保断保 list (issue 14): whether a person was enrolled the year before is asked per listed row, never
by reading every enrolment of that year (a million ids, ~1 s, for a town's list of a few rows); over its
limit the list is a job, and the job's file says 断保/漏保 as the inline one does."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from funding.models import Enrolment
from tests.plans import queries_of
from yfbz.core.models import ExportJob
from yfbz.core.pii import mask

from .test_pages import two_towns  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_gap_list_reads_no_years_enrolments_into_python(two_towns, staff, login):  # noqa: F811
    for n in range(3):  # enrolled last year, not on any list
        Enrolment.objects.create(person=two_towns["SLH-paid"] if n == 0 else two_towns["HX-paid"], year=2024 - n,
                                 kind="RESIDENT_T1")
    resp, queries = queries_of(login(staff["district_clerk"]), reverse("funding:gap-list", args=[2025]))
    assert resp.status_code == 200
    whole_year = [q for q in queries if q.lstrip().startswith(("SELECT", "DECLARE")) and 'FROM "funding_enrolment"' in q
                  and "EXISTS" not in q]
    assert whole_year == [], whole_year


def test_a_gap_list_over_the_limit_is_a_job_saying_duan_bao_and_lou_bao(two_towns, staff, login, settings,  # noqa: F811
                                                                      django_capture_on_commit_callbacks):
    Enrolment.objects.create(person=two_towns["SLH-gap"], year=2024, kind="RESIDENT_T1")
    settings.YFBZ_EXPORT_INLINE_ROWS = 1
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.get(reverse("funding:gap-list", args=[2025]))
    job = ExportJob.objects.get()
    assert resp.status_code == 302 and (job.kind, job.status) == ("funding.gap_list", ExportJob.Status.DONE)
    assert job.file_name == "全区-2025年漏保断保名单.xlsx"
    got = client.get(reverse("export-download", args=[job.pk]))
    data = b"".join(got.streaming_content) if got.streaming else got.content
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("公民身份号码", "姓名", "镇街", "村（社区）", "联系电话", "身份类别", "情况", "参保类型")
    got_rows = {(r[0], r[1], r[6]) for r in rows[1:]}
    assert got_rows == {(mask(two_towns["SLH-gap"].id_number), "漏保SLH", "断保"),
                        (mask(two_towns["HX-gap"].id_number), "漏保HX", "漏保")}
