"""A notice batch spread over workers (issue 14): the coordinator numbers the notices and records the
prints chunk by chunk; each chunk is rendered by its own Celery task into a part; the last step
joins the parts in order. A failed part fails the batch in Chinese, and "重新运行" renders only the
parts still missing, without taking new numbers or recording the prints again."""

import io
import re
import time

import pytest
from pypdf import PdfReader

from claims import notices as notices_module
from claims.models import DocumentCounter, Notice, NoticeBatch, NoticeBatchPart, NoticePrint
from claims.notices import notice_batch_create
from claims.services import decision_approve
from yfbz.core import jobs


def _approved(decided_bill, make_person, staff, n):
    return [decision_approve(bill_id=decided_bill(make_person(f"分段{i}")).pk, user=staff["reviewer"]).pk for i in range(n)]


def _pages(batch) -> list[str]:
    return [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(io.BytesIO(bytes(batch.pdf))).pages]


def _numbers_and_names(pages):
    return [(int(re.search(r"〔\d{4}〕(\d{4})号", t).group(1)), re.search(r"分段\d", t).group()) for t in pages]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_batch_of_several_chunks_is_rendered_by_part_tasks_on_a_worker_and_joined_in_order(
        celery_worker_real, decided_bill, make_person, staff, monkeypatch):
    monkeypatch.setattr(notices_module, "BATCH_CHUNK", 2)
    ids = _approved(decided_bill, make_person, staff, 5)
    batch = notice_batch_create(user=staff["district_clerk"], decision_ids=ids)  # sent to the worker on commit
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status in (NoticeBatch.Status.DONE, NoticeBatch.Status.FAILED):
            break
        time.sleep(0.3)
    assert batch.status == NoticeBatch.Status.DONE, batch.error
    parts = list(NoticeBatchPart.objects.filter(batch=batch).order_by("index"))
    assert [(p.index, len(p.notice_ids), p.pages) for p in parts] == [(0, 2, 2), (1, 2, 2), (2, 1, 1)]
    assert all(p.rendered_at for p in parts)
    pages = _pages(batch)
    assert len(pages) == 5
    assert _numbers_and_names(pages) == [(1, "分段0"), (2, "分段1"), (3, "分段2"), (4, "分段3"), (5, "分段4")]
    assert batch.progress_done == 5 and NoticePrint.objects.filter(batch=batch).count() == 5


def test_a_rerun_after_a_failed_part_renders_only_that_part_and_takes_no_new_numbers(
        decided_bill, make_person, staff, monkeypatch):
    from claims.tasks import notice_batch

    monkeypatch.setattr(notices_module, "BATCH_CHUNK", 2)
    real_render = notices_module.render_notices
    rendered, broken = [], {"on": True}

    def render(notices):  # the second part's first render fails (a worker's fault), then works
        names = [n.decision.person.name for n in notices]
        if broken["on"] and "分段2" in names:
            raise MemoryError("渲染进程内存不足")
        rendered.append(names)
        return real_render(notices)

    monkeypatch.setattr(notices_module, "render_notices", render)
    ids = _approved(decided_bill, make_person, staff, 5)
    batch = notice_batch_create(user=staff["district_clerk"], decision_ids=ids)
    notice_batch(batch.pk)  # the test's transaction never commits: run the coordinator here (eager parts)
    batch.refresh_from_db()
    assert batch.status == NoticeBatch.Status.FAILED
    assert "批量打印决定文书" in batch.error and "内存不足" in batch.error
    assert jobs.can_rerun(batch)
    assert DocumentCounter.objects.get().last == 5 and Notice.objects.count() == 5
    assert NoticePrint.objects.filter(batch=batch).count() == 5
    assert rendered == [["分段0", "分段1"]]

    broken["on"] = False
    rendered.clear()
    jobs.rerun(batch, by=staff["district_clerk"])
    notice_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == NoticeBatch.Status.DONE, batch.error
    # only the parts still missing: the failed one and the one after it (skipped once the batch had failed)
    assert rendered == [["分段2", "分段3"], ["分段4"]]
    assert DocumentCounter.objects.get().last == 5 and Notice.objects.count() == 5  # no new numbers
    assert NoticePrint.objects.filter(batch=batch).count() == 5  # prints recorded once
    pages = _pages(batch)
    assert _numbers_and_names(pages) == [(1, "分段0"), (2, "分段1"), (3, "分段2"), (4, "分段3"), (5, "分段4")]


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_parts_wait_in_the_queue_is_alive_and_not_offered_a_rerun(
        decided_bill, make_person, staff, monkeypatch, login):
    """The coordinator has sent the parts and let go of the batch; no worker has taken them yet. Before,
    nobody held the batch's lock, so the page called it 运行已中断 and offered 重新运行 while its parts
    were merely queued. The jobs helper now counts a queued message of the current claim as alive."""
    from django.urls import reverse

    from tests.worker_process import sending_to_redis, wait_for, worker_process

    monkeypatch.setattr(notices_module, "BATCH_CHUNK", 2)
    ids = _approved(decided_bill, make_person, staff, 3)
    with sending_to_redis():
        from yfbz.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.client.delete("celery")  # no message of an earlier test waits
        batch = NoticeBatch.objects.create(requested_by=staff["district_clerk"], decision_ids=ids, progress_total=3)
        assert notices_module.notice_batch_render(batch_id=batch.pk) is False  # parts sent to the queue
        batch.refresh_from_db()
        assert batch.status == NoticeBatch.Status.RUNNING and NoticeBatchPart.objects.filter(batch=batch).count() == 2
        assert jobs.waiting(batch) and jobs.alive(batch)
        assert not jobs.abandoned(batch) and not jobs.can_rerun(batch)
        page = login(staff["district_clerk"]).get(reverse("claims:notice-batch", args=[batch.pk])).content.decode()
        assert "运行已中断" not in page and 'data-testid="job-rerun"' not in page
        with worker_process():
            wait_for(lambda: NoticeBatch.objects.get(pk=batch.pk).status == NoticeBatch.Status.DONE, 120,
                     "the worker to render the queued parts")
        batch.refresh_from_db()
        assert not jobs.waiting(batch) and not jobs.alive(batch)
        assert len(_pages(batch)) == 3


def test_a_batch_claimed_whose_worker_died_with_nothing_queued_is_offered_a_rerun(decided_bill, make_person, staff):
    ids = _approved(decided_bill, make_person, staff, 1)
    batch = NoticeBatch.objects.create(requested_by=staff["district_clerk"], decision_ids=ids, progress_total=1)
    jobs._claim(NoticeBatch, batch.pk)  # claimed, then its worker was killed: no lock, no message
    batch.refresh_from_db()
    assert not jobs.waiting(batch) and jobs.abandoned(batch) and jobs.can_rerun(batch)


def test_a_part_reads_its_notices_with_what_they_say_in_a_fixed_number_of_queries(decided_bill, make_person, staff):
    """Issue 14: a part of 100 notices read each notice's decision, bill, institution, person and town one by
    one (500 queries); now they come with the notices, whatever the part's size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims.notices import _decisions, notice_batch_part_render, notices_number

    ids = _approved(decided_bill, make_person, staff, 6)
    batch = notice_batch_create(user=staff["district_clerk"], decision_ids=ids)
    NoticeBatch.objects.filter(pk=batch.pk).update(status=NoticeBatch.Status.RUNNING, job_token="t")
    notices = notices_number(decisions=_decisions(ids))
    part = NoticeBatchPart.objects.create(batch=batch, index=0, notice_ids=[n.pk for n in notices])
    with CaptureQueriesContext(connection) as queries:
        assert notice_batch_part_render(part_id=part.pk, token="t")
    assert len(queries) <= 12, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    assert NoticeBatchPart.objects.get(pk=part.pk).pages == 6
