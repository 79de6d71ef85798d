"""Roster uploads on the jobs helper (issue 9, findings 4 and 10; yfbz.core.jobs): the web request stores
the file and queues, a task checks or applies it; a failure is shown with its reason in Chinese and
重新运行; a worker killed mid-way leaves the job "运行已中断" and offered 重新运行 at once; a file that
keeps killing its workers is failed after 3 tries instead of being redelivered forever."""

from datetime import date

import pytest
from django.urls import reverse

from beneficiaries import services
from beneficiaries.models import RosterJob, RosterRow, RosterUpload
from beneficiaries.rosters import bulk
from tests.beneficiaries.conftest import ids, roster_xlsx
from tests.worker_process import (
    backend_waiting_on_lock,
    held_in_another_transaction,
    sending_to_redis,
    wait_for,
    worker_process,
)
from yfbz.core import jobs

ROWS = [(n, "某", "低保", "双龙湖", "", "") for n in ids(4)]


def _upload_queued(staff, departments, django_capture_on_commit_callbacks):
    """The web request's part: the file stored, the job queued (the task not run yet)."""
    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = services.roster_upload_create(user=staff["civil_officer"], department=departments["CIVIL"],
                                               month=date(2025, 3, 1), mode="snapshot", file_name="名单.xlsx",
                                               data=roster_xlsx(ROWS))
    return result.upload, queued


@pytest.mark.django_db
def test_the_upload_request_only_stores_and_queues_a_job(staff, departments, django_capture_on_commit_callbacks):
    upload, queued = _upload_queued(staff, departments, django_capture_on_commit_callbacks)
    job = RosterJob.objects.get(upload=upload)
    assert (job.kind, job.status, upload.status, RosterRow.objects.count()) == ("check", "queued", "uploaded", 0)
    assert len(queued) == 1
    for callback in queued:  # the worker
        callback()
    job.refresh_from_db()
    upload.refresh_from_db()
    assert (job.status, upload.status, upload.rows_total) == ("done", "validated", 4)


@pytest.mark.django_db
def test_a_failed_check_shows_its_reason_in_chinese_and_reruns_from_the_page(
        staff, departments, django_capture_on_commit_callbacks, monkeypatch, login):
    def broken(*args, **kwargs):
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(bulk, "insert_rows", broken)
    upload, queued = _upload_queued(staff, departments, django_capture_on_commit_callbacks)
    for callback in queued:
        callback()
    job = services.latest_job(upload)
    assert job.status == "failed" and "空字符" in job.error and "重新运行" in job.error
    assert RosterRow.objects.count() == 0 and RosterUpload.objects.get().status == "uploaded"  # nothing half-applied

    clerk = login(staff["civil_officer"])
    page = clerk.get(reverse("beneficiaries:roster-detail", args=[upload.pk])).content.decode()
    assert 'data-testid="roster-job"' in page and "空字符" in page and 'data-testid="job-rerun"' in page
    assert "NUL (0x00)" not in page  # the reason in Chinese, not the database's words
    progress = clerk.get(reverse("beneficiaries:roster-progress", args=[upload.pk])).json()
    assert progress["finished"] and progress["failed"]  # the page stops waiting

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        resp = clerk.post(reverse("job-rerun", args=["beneficiaries.rosterjob", job.pk]),
                          {"next": reverse("beneficiaries:roster-detail", args=[upload.pk])})
    assert resp.status_code == 302
    upload.refresh_from_db()
    job.refresh_from_db()
    assert (upload.status, job.status, RosterRow.objects.count()) == ("validated", "done", 4)


@pytest.mark.django_db
def test_a_roster_that_keeps_killing_its_worker_is_failed_after_three_tries(staff, departments,
                                                                          django_capture_on_commit_callbacks, login):
    """Finding 4: the sparse bomb, as a roster, was redelivered and killed a worker every ~5 s. Each
    delivery claims the job (one more try) before it dies; the fourth delivery fails it instead."""
    from beneficiaries.tasks import roster_job

    upload, _queued = _upload_queued(staff, departments, django_capture_on_commit_callbacks)
    job = services.latest_job(upload)
    for _ in range(jobs.MAX_TRIES):  # three deliveries whose worker died after claiming
        assert jobs._claim(RosterJob, job.pk) is not None
    assert jobs.abandoned(RosterJob.objects.get(pk=job.pk))
    roster_job(job.pk)  # the broker delivers it once more
    job.refresh_from_db()
    assert job.status == "failed" and "已尝试3次" in job.error
    assert RosterUpload.objects.get().status == "uploaded" and RosterRow.objects.count() == 0
    page = login(staff["civil_officer"]).get(reverse("beneficiaries:roster-detail", args=[upload.pk])).content.decode()
    assert "已尝试3次" in page and 'data-testid="job-rerun"' in page
    # and the town clerk of another department's roster is not offered the button
    assert not job.can_rerun_by(staff["hx_clerk"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.slow
def test_a_roster_check_whose_worker_is_killed_is_offered_rerun_at_once_and_then_validates(staff, departments, login):
    """A real worker process killed with SIGKILL while it checks the roster."""
    with sending_to_redis():
        result = services.roster_upload_create(user=staff["civil_officer"], department=departments["CIVIL"],
                                               month=date(2025, 3, 1), mode="snapshot", file_name="名单.xlsx",
                                               data=roster_xlsx(ROWS))
        upload = result.upload
        job = services.latest_job(upload)

        def upload_row_locked():  # the check waits here, its job claimed and running
            list(RosterUpload.objects.select_for_update().filter(pk=upload.pk))

        with held_in_another_transaction(upload_row_locked):
            with worker_process() as w:
                wait_for(lambda: RosterJob.objects.get(pk=job.pk).status == "running" and backend_waiting_on_lock(),
                         90, "the worker to claim the check")
                w.kill()
        wait_for(lambda: jobs.abandoned(RosterJob.objects.get(pk=job.pk)), 30, "the killed worker's lock to go")
        assert RosterUpload.objects.get(pk=upload.pk).status == "uploaded" and RosterRow.objects.count() == 0
        clerk = login(staff["civil_officer"])
        page = clerk.get(reverse("beneficiaries:roster-detail", args=[upload.pk])).content.decode()
        assert "运行已中断" in page and 'data-testid="job-rerun"' in page

        with worker_process():  # at once: no hour to wait for the broker
            resp = clerk.post(reverse("job-rerun", args=["beneficiaries.rosterjob", job.pk]), {"next": "/"})
            assert resp.status_code == 302
            wait_for(lambda: RosterUpload.objects.get(pk=upload.pk).status == "validated", 90, "the rerun to finish")
    assert RosterRow.objects.filter(upload=upload).count() == 4
    assert RosterJob.objects.get(pk=job.pk).status == "done"
