"""A job spread over workers between two of its steps is alive, on every job page (yfbz.core.jobs).

Between one step letting go of the job and the next one taking it — a part's message taken from the
queue by a worker that has not begun it, a part done and the chord's last step not yet sent — nobody
holds the job's lock and the queue holds nothing of it. The pages of the settlement import and the
subsidy run called such a job 运行已中断 and offered 重新运行 (the notice page alone waited ten seconds
before saying so, which also kept a killed worker's batch "正在生成" for ten seconds). Every step of a
claim now records that it began and ended: a job whose steps have all ended is handing over; a step
begun and never ended, with nobody holding the lock, is a worker killed mid-step — 运行已中断 at once.

The states are made as the workers make them: the coordinator runs here and sends its chord to Redis,
a part's message is taken from the queue by a consumer that does not acknowledge it (as a worker
does, tasks acknowledge late), the part's own service runs here; the killed worker is a real
``celery worker`` process killed with SIGKILL."""

import contextlib
from datetime import date

import pytest
from django.urls import reverse

from claims.models import NoticeBatch, NoticeBatchPart, SettlementFile, SettlementFilePart
from claims.services import decision_approve
from funding.models import SubsidyRun, SubsidyRunPart
from tests.worker_process import (
    backend_waiting_on_lock,
    held_in_another_transaction,
    sending_to_redis,
    wait_for,
    worker_process,
)
from yfbz.core import jobs

from .test_settlement import csv_bytes, line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.postgres]

INTERRUPTED = "运行已中断"
RERUN = 'data-testid="job-rerun"'


@contextlib.contextmanager
def broker():
    """Tasks sent to the test's Redis (no worker reads it), its queue emptied before and after."""
    with sending_to_redis():
        from yfbz.celery import app

        def empty():
            with app.connection_for_write() as conn:
                client = conn.default_channel.client
                client.delete("celery", conn.default_channel.unacked_key, conn.default_channel.unacked_index_key)

        empty()
        try:
            yield
        finally:
            empty()


@contextlib.contextmanager
def taken_by_a_worker(task: str):
    """The next message of ``task`` taken from the queue as a worker takes it (kept unacknowledged until
    the block ends, then acknowledged); the arguments it carries. Other tasks' messages before it (the
    reports' refresh after a decision) are taken and dropped."""
    from yfbz.celery import app

    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue("celery", no_ack=False)
        try:
            while True:
                message = queue.get(timeout=5)
                if message.headers["task"] == task:
                    break
                message.ack()
            try:
                yield message.payload[0]
            finally:
                message.ack()
        finally:
            queue.close()


def shows_interrupted(page: str) -> bool:
    return INTERRUPTED in page or RERUN in page


# --- the notice batch ---------------------------------------------------------------------------------
def _batch(decided_bill, make_person, staff) -> NoticeBatch:
    ids = [decision_approve(bill_id=decided_bill(make_person("分步")).pk, user=staff["reviewer"]).pk]
    return NoticeBatch.objects.create(requested_by=staff["district_clerk"], decision_ids=ids, progress_total=1)


def test_a_notice_batch_between_its_part_and_its_last_step_is_not_called_interrupted(
        decided_bill, make_person, staff, login, monkeypatch):
    from claims.notices import notice_batch_part_render, notice_batch_render

    clerk = login(staff["district_clerk"])
    with broker():
        batch = _batch(decided_bill, make_person, staff)
        assert notice_batch_render(batch_id=batch.pk) is False  # numbered here, its part sent to the queue
        page_url = reverse("claims:notice-batch", args=[batch.pk])
        progress = reverse("claims:notice-batch-progress", args=[batch.pk])
        with taken_by_a_worker("claims.notice_batch_part") as args:
            batch.refresh_from_db()
            assert not jobs.waiting(batch) and jobs.alive(batch)  # taken, not begun: nothing queued, no lock
            assert not shows_interrupted(clerk.get(page_url).content.decode())
            assert notice_batch_part_render(part_id=args[0], token=args[1])  # the worker renders the part
        # the part is done and acknowledged; the chord's last step (the merge) is not sent yet
        assert NoticeBatchPart.objects.get(pk=args[0]).rendered_at is not None
        batch.refresh_from_db()
        assert batch.status == NoticeBatch.Status.RUNNING
        assert jobs.alive(batch) and not jobs.can_rerun(batch)
        assert clerk.get(progress).json()["finished"] is False
        html = clerk.get(page_url).content.decode()
        assert "正在生成" in html and not shows_interrupted(html)
        # the last step never comes (its sender died between the two): after the hand-over's time, 重新运行
        monkeypatch.setattr(jobs, "HANDOVER_SECONDS", 0)
        assert jobs.abandoned(batch)
        assert clerk.get(progress).json()["finished"] is True
        html = clerk.get(page_url).content.decode()
        assert INTERRUPTED in html and RERUN in html


def test_a_message_taken_but_not_begun_is_alive_after_the_hand_over_time_too(decided_bill, make_person, staff,
                                                                              monkeypatch):
    """A part that waited long in the queue (the last step ended long ago) and has just been taken: the
    unacknowledged message of the claim, with no step of it left open, is a worker about to begin."""
    from claims.notices import notice_batch_render

    monkeypatch.setattr(jobs, "HANDOVER_SECONDS", 0)
    with broker():
        batch = _batch(decided_bill, make_person, staff)
        notice_batch_render(batch_id=batch.pk)
        batch.refresh_from_db()
        assert jobs.alive(batch)  # queued
        with taken_by_a_worker("claims.notice_batch_part"):
            assert not jobs.waiting(batch) and jobs.token_taken(batch.job_token)
            assert jobs.alive(batch) and not jobs.abandoned(batch)
        assert jobs.abandoned(batch)  # acknowledged, nothing begun: lost


def test_a_notice_batch_whose_worker_is_killed_in_its_part_is_interrupted_at_once(
        decided_bill, make_person, staff, login):
    """The worker is killed while rendering the part (it waits on the batch's row, held by another
    transaction): the page says 运行已中断 with 重新运行 as soon as the killed worker's lock is gone — not
    ten seconds later, as the notice page's own rule made it."""
    from claims.notices import notice_batch_render

    clerk = login(staff["district_clerk"])
    with broker():
        batch = _batch(decided_bill, make_person, staff)
        notice_batch_render(batch_id=batch.pk)  # the part waits in the queue for the worker below
        with held_in_another_transaction(lambda: list(NoticeBatch.objects.select_for_update().filter(pk=batch.pk))):
            with worker_process() as w:
                wait_for(backend_waiting_on_lock, 90, f"the worker to be inside the part\n{w.output()}")
                batch.refresh_from_db()
                assert jobs.alive(batch)
                w.kill()
        wait_for(lambda: jobs.abandoned(NoticeBatch.objects.get(pk=batch.pk)), 30, "the killed worker's lock to go")
        batch.refresh_from_db()
        assert jobs.can_rerun(batch)
        html = clerk.get(reverse("claims:notice-batch", args=[batch.pk])).content.decode()
        assert INTERRUPTED in html and RERUN in html


# --- the settlement import ----------------------------------------------------------------------------
def test_a_settlement_file_between_its_coordinator_and_its_part_is_not_called_interrupted(
        institutions, people, staff, login, settings):
    from claims.settlement import settlement_file_import, settlement_file_upload, settlement_part_run

    settings.SETTLEMENT_PART_LINES = 2  # two parts: the first worked here, the second still queued
    clerk = staff["district_clerk"]
    rows = [line(f"J{i:03d}", (people["slh"], people["hx"])[i % 2], "4000.00", day=1 + i) for i in range(4)]
    with broker():
        f = settlement_file_upload(institution=institutions["YB01"], month=date(2025, 3, 1), file_name="j.csv",
                                   data=csv_bytes(rows), user=clerk)
        assert settlement_file_import(file_id=f.pk, user=clerk, inline=False) is None  # the coordinator: parts sent
        assert SettlementFilePart.objects.filter(file=f).count() == 2
        month = reverse("claims:settlement-month", args=[f.settlement_month_id])
        page = login(clerk)
        with taken_by_a_worker("claims.settlement_part") as args:
            f.refresh_from_db()
            assert f.status == SettlementFile.Status.RUNNING and jobs.alive(f)  # the other part still queued
            assert settlement_part_run(part_id=args[0], token=args[1])
        with taken_by_a_worker("claims.settlement_part") as args:  # the second part taken, not begun
            for url in (month, reverse("claims:settlement-list")):
                assert not shows_interrupted(page.get(url).content.decode()), url
            f.refresh_from_db()
            assert not jobs.waiting(f) and jobs.alive(f) and not jobs.can_rerun(f)
            assert settlement_part_run(part_id=args[0], token=args[1])
        # both parts done; the last step (the merge) not sent yet
        f.refresh_from_db()
        assert f.status == SettlementFile.Status.RUNNING and jobs.alive(f)
        assert not shows_interrupted(page.get(month).content.decode())


# --- the subsidy run ----------------------------------------------------------------------------------
def test_a_subsidy_run_between_its_coordinator_and_its_parts_is_not_called_interrupted(make_person, staff, login):
    from funding.services.subsidies import subsidy_run_execute

    for i in range(6):
        make_person(f"分步{i}", categories=("DIBAO",))
    with broker():
        run = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"], progress_total=6)
        subsidy_run_execute(run_id=run.pk, part_size=3, inline=False)  # the coordinator here: parts to the queue
        parts = SubsidyRunPart.objects.filter(run=run).count()
        assert parts >= 2
        page = login(staff["district_clerk"])
        with contextlib.ExitStack() as taken:  # every part taken by a worker, none begun
            for _ in range(parts):
                taken.enter_context(taken_by_a_worker("funding.subsidy_run_part"))
            html = page.get(reverse("funding:subsidy"), {"year": 2025}).content.decode()
            run.refresh_from_db()
            assert run.status == SubsidyRun.Status.RUNNING
            assert run.get_status_display() in html and not shows_interrupted(html)
            assert not jobs.waiting(run) and jobs.alive(run) and not jobs.can_rerun(run)
