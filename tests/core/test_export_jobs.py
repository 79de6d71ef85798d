"""Big exports as tasks (issue 14, yfbz.core.exports): over YFBZ_EXPORT_INLINE_ROWS rows an export is not
built in the request; a job builds it as the user who asked (their area, masked unless they asked for
full numbers with a reason), and only that user downloads it. Under the limit, the file comes as before."""

import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

from yfbz.core.models import ExportJob
from yfbz.core.pii import mask

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(make_person, people):
    """Four more people in 双龙湖 and three in 回兴 (with ``people``: 5 + 4 + 1 without a town = 10)."""
    for i in range(4):
        make_person(f"双龙湖{i}", town="SLH")
    for i in range(3):
        make_person(f"回兴{i}", town="HX")


def sheet(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True))


def export(client, url, capture, **params):
    """Ask for the export; the task runs when the request's transaction commits (inline in tests)."""
    with capture(execute=True):
        return client.get(url, params)


def test_people_export_over_the_limit_is_a_job_and_its_file_is_right(crowd, staff, login, settings,
                                                                     django_capture_on_commit_callbacks):
    from beneficiaries.models import Person

    settings.YFBZ_EXPORT_INLINE_ROWS = 3
    client = login(staff["district_clerk"])
    resp = export(client, reverse("beneficiaries:person-export"), django_capture_on_commit_callbacks)
    assert resp.status_code == 302, "over the limit the file is not built in the request"
    job = ExportJob.objects.get()
    assert resp["Location"] == reverse("export-detail", args=[job.pk])
    assert (job.kind, job.status, job.full) == ("beneficiaries.people", ExportJob.Status.DONE, False)
    page = client.get(resp["Location"])
    assert page.status_code == 200 and reverse("export-download", args=[job.pk]).encode() in page.content
    got = client.get(reverse("export-download", args=[job.pk]))
    assert got.status_code == 200 and got["Content-Disposition"].startswith("attachment")
    rows = sheet(b"".join(got.streaming_content) if got.streaming else got.content)
    want = list(Person.objects.order_by("town_id", "name", "id").values_list("id_number", "name"))
    assert [(r[0], r[1]) for r in rows] == [(mask(i), n) for i, n in want]  # every row, masked as today
    assert len(rows) == 10


def test_under_the_limit_the_export_is_built_in_the_request_as_before(crowd, staff, login, settings):
    settings.YFBZ_EXPORT_INLINE_ROWS = 100
    resp = login(staff["district_clerk"]).get(reverse("beneficiaries:person-export"))
    assert resp.status_code == 200 and len(sheet(resp.content)) == 10
    assert not ExportJob.objects.exists()


def test_the_job_reads_only_the_askers_area_and_nobody_else_downloads_it(crowd, staff, login, settings,
                                                                         django_capture_on_commit_callbacks, client):
    from yfbz.core.exports import export_run

    settings.YFBZ_EXPORT_INLINE_ROWS = 2
    resp = export(login(staff["slh_clerk"]), reverse("beneficiaries:person-export"), django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert resp.status_code == 302 and job.status == ExportJob.Status.DONE
    names = {r[1] for r in sheet(client.get(reverse("export-download", args=[job.pk])).content)}
    assert names == {"张双龙", "双龙湖0", "双龙湖1", "双龙湖2", "双龙湖3"}
    # the task scopes by the asker's area itself: filters naming another town (as kept on the row) find nobody
    other_town = ExportJob.objects.create(kind="beneficiaries.people", title="人员", requested_by=staff["slh_clerk"],
                                          params={"town": [str(staff["hx_clerk"].town_id)]})
    assert export_run(job_id=other_town.pk)
    assert sheet(client.get(reverse("export-download", args=[other_town.pk])).content) == []
    assert reverse("export-detail", args=[job.pk]).encode() in client.get(reverse("export-list")).content
    other = login(staff["hx_clerk"])
    assert reverse("export-detail", args=[job.pk]).encode() not in other.get(reverse("export-list")).content
    assert other.get(reverse("export-detail", args=[job.pk])).status_code == 404
    assert other.get(reverse("export-download", args=[job.pk])).status_code == 404
    assert login(staff["district_clerk"]).get(reverse("export-download", args=[job.pk])).status_code == 404


def test_full_numbers_are_asked_for_with_a_reason_and_each_download_is_recorded(crowd, staff, login, settings,
                                                                                django_capture_on_commit_callbacks):
    from beneficiaries.models import Person

    settings.YFBZ_EXPORT_INLINE_ROWS = 2
    client = login(staff["district_clerk"])
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    export(client, reverse("beneficiaries:person-export"), django_capture_on_commit_callbacks, full="1", reason="verify")
    job = ExportJob.objects.get()
    assert job.full and job.params == {}  # the reason is recorded, not kept as a filter
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before + 1
    resp = client.get(reverse("export-download", args=[job.pk]))
    assert "含完整号码" in job.file_name
    assert {r[0] for r in sheet(resp.content)} == set(Person.objects.values_list("id_number", flat=True))
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before + 2


def test_a_user_without_the_permission_when_it_runs_gets_a_failed_job_in_chinese(crowd, staff):
    from yfbz.core.errors import YfbzError
    from yfbz.core.exports import export_run

    job = ExportJob.objects.create(kind="beneficiaries.people", title="救助对象人员名单", params={},
                                   requested_by=staff["nobody"])
    with pytest.raises(YfbzError):
        export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "无权导出" in job.error and job.data is None
