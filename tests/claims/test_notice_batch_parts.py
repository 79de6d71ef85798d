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
