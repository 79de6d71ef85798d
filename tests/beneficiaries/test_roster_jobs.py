"""Roster jobs: a worker lost mid-way leaves nothing half-done, the job can be run again, a job
claimed by another worker meanwhile is left to it, and the real path through Redis and a worker."""

import time
from datetime import date

import pytest

from beneficiaries import services
from beneficiaries.models import Identity, Person, RosterRow, RosterUpload
from beneficiaries.rosters import bulk, checking

from .conftest import ids, roster_xlsx


class WorkerLost(Exception):
    pass


def failing_after(real, calls):
    """Wrap a bulk writer so that it dies on call number `calls` (the worker was killed there)."""
    count = {"n": 0}

    def wrapper(*args, **kwargs):
        count["n"] += 1
        if count["n"] >= calls:
            raise WorkerLost("worker killed")
        return real(*args, **kwargs)

    return wrapper


@pytest.mark.django_db
def test_a_check_killed_midway_writes_no_rows_and_runs_again(upload_file, monkeypatch):
    monkeypatch.setattr(checking, "CHUNK", 2)
    monkeypatch.setattr(bulk, "insert_rows", failing_after(bulk.insert_rows, 3))  # dies on the third chunk
    upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(7)]))  # the job fails, with its reason
    upload = RosterUpload.objects.get()
    assert upload.status == "uploaded" and RosterRow.objects.count() == 0  # the two chunks written were rolled back
    job = services.latest_job(upload)
    assert job.status == "failed" and "worker killed" in job.error and "重新运行" in job.error
    monkeypatch.undo()
    assert services.roster_check(upload_id=upload.pk) is True
    upload.refresh_from_db()
    assert (upload.status, upload.rows_total, RosterRow.objects.count()) == ("validated", 7, 7)
    assert services.roster_check(upload_id=upload.pk) is False  # nothing left to do: not run twice
    assert RosterRow.objects.count() == 7


@pytest.mark.django_db
def test_an_apply_killed_midway_starts_and_ends_nothing_and_can_be_rerun(upload_file, confirm_roster, staff, monkeypatch, run_jobs):
    first = ids(3)
    confirm_roster(upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in first])).upload)
    april = [(n, "某", "低保", "双龙湖", "", "") for n in first[:2]] + [(n, "新", "低保", "回兴", "", "") for n in ids(2, start=500)]
    up = upload_file(roster_xlsx(april), month=date(2025, 4, 1)).upload
    # killed once people, identities and endings are written (on PostgreSQL one SQL statement each), before
    # the retroactive changes are measured and the status moves
    monkeypatch.setattr(services, "_measure_retroactive", failing_after(services._measure_retroactive, 1))
    confirm_roster(up, confirm_endings=True)  # the apply job fails, with its reason
    up.refresh_from_db()
    assert up.status == "confirming" and services.latest_job(up).status == "failed"
    assert Person.objects.count() == 3 and Identity.objects.filter(valid_to__isnull=False).count() == 0
    monkeypatch.undo()
    with run_jobs():
        services.roster_rerun(upload=up, user=staff["district_clerk"])
    up.refresh_from_db()
    assert up.status == "confirmed"
    assert Person.objects.count() == 5
    assert Identity.objects.get(person__id_number=first[2]).valid_to == date(2025, 3, 31)


@pytest.mark.django_db
def test_a_check_whose_claim_was_taken_by_another_worker_leaves_the_work_to_it(upload_file, monkeypatch):
    up = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(2)])).upload
    RosterUpload.objects.filter(pk=up.pk).update(status="uploaded")  # as if the message were delivered again
    RosterRow.objects.filter(upload=up).delete()
    real_locked = services._locked

    def another_worker_claims_first(upload_id):  # between this worker's claim and its lock
        RosterUpload.objects.filter(pk=upload_id).update(job_token="another-worker")
        return real_locked(upload_id)

    monkeypatch.setattr(services, "_locked", another_worker_claims_first)
    assert services.roster_check(upload_id=up.pk) is False
    assert RosterRow.objects.filter(upload=up).count() == 0
    up.refresh_from_db()
    assert up.status == "uploaded"


@pytest.mark.worker
def test_a_real_worker_checks_an_upload_sent_through_redis(celery_worker_real, staff, departments):
    data = roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(3)])
    result = services.roster_upload_create(
        user=staff["civil_officer"], department=departments["CIVIL"], month=date(2025, 3, 1), mode="snapshot",
        file_name="r.xlsx", data=data,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result.upload.refresh_from_db()
        if result.upload.status != "uploaded":
            break
        time.sleep(0.2)
    assert result.upload.status == "validated" and result.upload.count_new == 3
