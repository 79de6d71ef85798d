"""Enrolment and bank-return imports off the web request (issue 9, finding 10): the request stores the
file and queues; the job reads, checks and applies it, or fails it with the reason and applies nothing;
its page shows the progress, the result or the reason, and "重新运行" to its uploader only."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from funding.models import Enrolment, FileImport

pytestmark = pytest.mark.django_db


def enrolment_xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["公民身份号码", "姓名", "参保类型", "是否自行缴费"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    f = io.BytesIO(buf.getvalue())
    f.name = "enrolment.xlsx"
    return f


def test_an_enrolment_file_is_stored_and_queued_then_imported_by_the_job(people, staff, login,
                                                                          django_capture_on_commit_callbacks):
    p = people["slh"]
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        resp = client.post(reverse("funding:enrolment-import"),
                           {"year": 2025, "file": enrolment_xlsx([[p.id_number, p.name, "城乡居民医保一档", "否"]])})
    row = FileImport.objects.get()
    assert resp["Location"] == reverse("funding:file-import", args=[row.pk])
    assert row.status == "queued" and not Enrolment.objects.exists()  # nothing read in the request
    assert "排队中" in client.get(resp["Location"]).content.decode()
    for callback in queued:
        callback()
    row.refresh_from_db()
    assert row.status == "done" and "已导入 1 条2025年参保数据" in row.result
    assert Enrolment.objects.get(person=p, year=2025).kind == "RESIDENT_T1"
    body = client.get(reverse("funding:file-import", args=[row.pk]), {"format": "json"}).json()
    assert body["finished"] and body["status_zh"] == "已导入"


def test_a_bad_enrolment_file_fails_the_job_with_the_row_named_and_only_its_uploader_reruns_it(
        people, staff, login, django_capture_on_commit_callbacks):
    client = login(staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("funding:enrolment-import"),
                           {"year": 2025, "file": enrolment_xlsx([[people["slh"].id_number, people["slh"].name, "三档", "否"]])})
    row = FileImport.objects.get()
    page = client.get(resp["Location"]).content.decode()
    assert row.__class__.objects.get().status == "failed" and "第2行" in page and "三档" in page
    assert 'data-testid="job-rerun"' in page and not Enrolment.objects.exists()
    other = login(staff["reviewer"])
    assert other.get(resp["Location"]).status_code == 403
    assert other.post(reverse("job-rerun", args=["funding.fileimport", row.pk]), {"next": "/"}).status_code == 403
