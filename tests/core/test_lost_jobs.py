"""A queued job whose task message was lost is not left 排队中 forever (yfbz.core.jobs.lost / resend_lost).

A job row is created queued and its task is sent to the broker after the commit. If that message never
reaches a worker — the broker restarted empty (Redis keeps nothing on disk here), or the send after the
commit failed — the row used to stay 排队中 on every page, the export page refreshing every three seconds
with no way out: a stuck job. Now a row queued for more than ``LOST_AFTER_SECONDS`` whose message is
nowhere in the broker (not waiting in the queue, not taken by a worker) is called lost: its page says the
background never received it and offers 重新运行, and beat sends it again with a history row saying so.
A row whose message still waits in the queue (a backlog) is not lost.

Real parts: the test's Redis as the broker, a real Celery worker to run the job once it is sent again."""

import pytest
from django.urls import reverse

from tests.claims.test_jobs_between_steps import broker
from tests.worker_process import wait_for
from yfbz.core import jobs, workflow
from yfbz.core.models import ExportJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.postgres]

RERUN = 'data-testid="job-rerun"'


@pytest.fixture
def at_once(monkeypatch):
    """The grace period before a queued row is called lost, shortened to nothing (its history is
    append-only: the test cannot move its time back)."""
    monkeypatch.setattr(jobs, "LOST_AFTER_SECONDS", 0)


def _queued_export(staff) -> ExportJob:
    """An export queued as the web process queues it (job row, first history row) whose message never
    left the web process: the broker restarted, or the send after commit failed."""
    job = ExportJob.objects.create(kind="beneficiaries.people", title="救助对象人员名单", params={},
                                   requested_by=staff["district_clerk"])
    jobs.queue(job, by=staff["district_clerk"], reason="生成文件")
    return job


def test_a_queued_export_whose_message_was_lost_is_offered_rerun_not_left_waiting(people, staff, login, at_once):
    clerk = login(staff["district_clerk"])
    with broker():
        job = _queued_export(staff)
        assert jobs.lost(job) and jobs.can_rerun(job)
        page = clerk.get(reverse("export-detail", args=[job.pk])).content.decode()
        assert "后台未收到任务" in page and RERUN in page
        assert 'http-equiv="refresh"' not in page  # not polling forever

        jobs.send(ExportJob, job.pk)  # its message waits in the queue (no worker reads it): not lost
        assert (jobs.task_name(ExportJob), job.pk) in jobs.sent_rows()
        assert not jobs.lost(job) and not jobs.can_rerun(job)
        page = clerk.get(reverse("export-detail", args=[job.pk])).content.decode()
        assert "排队中" in page and RERUN not in page and "后台未收到任务" not in page


def test_a_message_that_carries_more_than_the_rows_id_is_found_too(people, staff, at_once):
    """The settlement upload page sends (file id, who uploaded): its file is not called lost while that waits."""
    from yfbz.celery import app

    with broker():
        job = _queued_export(staff)
        app.send_task(jobs.task_name(ExportJob), args=(job.pk, staff["district_clerk"].pk))  # as the page's two arguments
        assert (jobs.task_name(ExportJob), job.pk) in jobs.sent_rows()
        assert not jobs.lost(job)


def test_a_lost_job_is_not_called_lost_within_the_grace_period(people, staff):
    with broker():
        job = _queued_export(staff)
        assert jobs.LOST_AFTER_SECONDS >= 60
        assert not jobs.lost(job) and not jobs.can_rerun(job)  # just queued: the send after commit is on its way
        assert jobs.resend_lost() == 0


def test_beat_sends_a_lost_job_again_and_a_real_worker_finishes_it(people, staff, at_once, celery_worker_real):
    job = _queued_export(staff)  # the worker is running: the message was lost before it, not taken
    assert jobs.lost(job)
    assert jobs.resend_lost() == 1
    wait_for(lambda: ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE, what="the export done")
    moves = [(h.from_status, h.to_status, h.reason) for h in workflow.history_of(job)]
    assert moves[0][:2] == ("", "QUEUED")
    assert moves[1][:2] == ("QUEUED", "QUEUED") and "任务消息丢失" in moves[1][2] and "系统重新发送" in moves[1][2]
    assert moves[-1][1] == "DONE"
    assert jobs.resend_lost() == 0  # nothing queued any more
    done = ExportJob.objects.get(pk=job.pk)
    assert done.file_name.endswith(".xlsx") and not jobs.lost(done)
