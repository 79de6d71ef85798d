"""The year's subsidy run spread over Celery workers (issue 14): the coordinator splits the people into
parts of contiguous ids and sends one task per part (a chord); two real worker processes work them at
once. The run gives the same results and the same list of changes as one process; a part whose worker
is killed mid-batch is resumed by "重新运行" after its last committed batch and nothing is written twice."""

from datetime import date

import pytest
from django.urls import reverse

from beneficiaries.models import Category, Identity, Person
from funding.models import Enrolment, SubsidyChange, SubsidyResult, SubsidyRun, SubsidyRunPart
from funding.services.subsidies import subsidy_run_execute, subsidy_run_start
from tests.worker_process import (
    backend_waiting_on_lock,
    held_in_another_transaction,
    sending_to_redis,
    wait_for,
    worker_process,
)
from yfbz.core import jobs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.postgres, pytest.mark.slow]

RESULT = ("person_id", "enrolment", "category", "group", "standard_amount", "amount", "reasons", "provisional",
          "policy_version", "town_id")
CHANGE = ("person_id", "old_category", "new_category", "old_amount", "new_amount", "town_id")


def _results():
    return sorted(SubsidyResult.objects.filter(year=2025).values_list(*RESULT))


def _changes(run):
    return sorted(SubsidyChange.objects.filter(run=run).values_list(*CHANGE))


def _counts(run):
    run.refresh_from_db()
    return run.count_new, run.count_changed, run.count_removed, run.count_eligible, run.total_amount


@pytest.fixture
def year_changed(make_person, staff):
    """40 people with a first run of 2025 done in one process, then a roster that moved: some lose their
    identities, some become 特困 too, some change tier, three are new. Returns the people (by id) and the
    results before the second run (to put them back)."""
    cats = ["DIBAO", "TEKUN", "DIBAO_BIANYUAN", "ZHONGDU_CANJI"]
    people = [make_person(f"分段{i:02d}", categories=(cats[i % 4],)) for i in range(40)]
    for i, p in enumerate(people):
        if i % 3 < 2:
            Enrolment.objects.create(person=p, year=2025, kind=("RESIDENT_T1", "RESIDENT_T2")[i % 3])
    first = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"])
    assert subsidy_run_execute(run_id=first.pk).status == "done"
    tekun = Category.objects.get(code="TEKUN")
    for i, p in enumerate(people):
        if i % 4 == 0:
            Identity.objects.filter(person=p).delete()
        elif i % 4 == 1:
            Identity.objects.create(person=p, category=tekun, valid_from=date(2025, 3, 1))
        elif i % 4 == 2 and i % 3 == 0:
            Enrolment.objects.filter(person=p, year=2025).update(kind="RESIDENT_T2")
    people += [make_person(f"新增{i}", categories=("DIBAO",)) for i in range(3)]
    before = list(SubsidyResult.objects.filter(year=2025).values())
    return sorted(people, key=lambda p: p.pk), before


def _one_process(staff, before):
    """The same second run in one process, from the same starting results: (changes, results, counts)."""
    SubsidyResult.objects.filter(year=2025).delete()
    SubsidyResult.objects.bulk_create([SubsidyResult(**row) for row in before])
    run = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"])
    run = subsidy_run_execute(run_id=run.pk, part_size=10**6)
    assert run.status == "done" and run.parts.count() == 1
    return _changes(run), _results(), _counts(run)


def test_a_run_over_several_parts_on_two_workers_gives_the_same_changes_as_one_process(year_changed, staff):
    people, before = year_changed
    with sending_to_redis():
        env = {"SUBSIDY_PART_SIZE": "7", "SUBSIDY_BATCH_SIZE": "3"}
        with worker_process(**env) as w1, worker_process(**env) as w2:
            run = subsidy_run_start(year=2025, user=staff["district_clerk"])  # sent to the workers on commit
            wait_for(lambda: SubsidyRun.objects.get(pk=run.pk).status in ("done", "failed"), 120,
                     f"the run to finish\n{w1.output()}\n{w2.output()}")
    run.refresh_from_db()
    assert run.status == "done", run.error
    parts = list(SubsidyRunPart.objects.filter(run=run).order_by("index"))
    assert len(parts) == 7 and all(p.finished_at for p in parts)  # 43 people in parts of 7
    assert sum(p.progress_done for p in parts) == run.progress_done == len(people) == Person.objects.count()
    # the parts' ranges follow each other without a gap or an overlap
    assert [p.after_id for p in parts[1:]] == [p.upto_id for p in parts[:-1]] and parts[-1].upto_id is None
    spread = (_changes(run), _results(), _counts(run))
    assert len(spread[0]) == run.count_new + run.count_changed + run.count_removed > 10
    assert len({c[0] for c in spread[0]}) == len(spread[0])  # one change per person

    assert _one_process(staff, before) == spread


def test_a_part_whose_worker_is_killed_is_resumed_by_a_rerun_and_writes_nothing_twice(year_changed, staff, login):
    people, before = year_changed
    clerk = staff["district_clerk"]
    # parts of 10 people in batches of 5: the worker stops in the second part's second batch, on the
    # result row of the 17th person, which another transaction holds (a person removed: a DELETE waits)
    blocker = people[16]
    assert not Identity.objects.filter(person=blocker).exists()
    env = {"SUBSIDY_PART_SIZE": "10", "SUBSIDY_BATCH_SIZE": "5"}
    with sending_to_redis():
        with held_in_another_transaction(lambda: list(
                SubsidyResult.objects.select_for_update().filter(person=blocker, year=2025))):
            with worker_process(**env) as w:
                run = subsidy_run_start(year=2025, user=clerk)
                wait_for(lambda: SubsidyRun.objects.get(pk=run.pk).progress_done == 15 and backend_waiting_on_lock(),
                         120, f"the run to reach 15 of 43\n{w.output()}")
                w.kill()
        # the run's later parts still wait in the broker's queue: it is not abandoned (a worker that comes
        # back takes them, so no 重新运行 is offered meanwhile) …
        assert jobs.waiting(SubsidyRun.objects.get(pk=run.pk))
        # … until they are gone (here: purged, as when the queue is lost with its broker)
        from yfbz.celery import app

        app.control.purge()
        wait_for(lambda: jobs.abandoned(SubsidyRun.objects.get(pk=run.pk)), 30, "the killed worker's locks to go")
        run.refresh_from_db()
        assert (run.status, run.progress_done) == ("running", 15)
        parts = list(SubsidyRunPart.objects.filter(run=run).order_by("index"))
        assert parts[0].finished_at is not None and parts[1].finished_at is None
        assert (parts[1].progress_done, parts[1].last_person_id) == (5, people[14].pk)
        written = SubsidyChange.objects.filter(run=run).count()
        assert written == run.count_new + run.count_changed + run.count_removed  # committed with the progress
        page = login(clerk).get(reverse("funding:subsidy"), {"year": 2025}).content.decode()
        assert "运行已中断" in page and 'data-testid="job-rerun"' in page

        with worker_process(**env) as w:
            resp = login(clerk).post(reverse("job-rerun", args=["funding.subsidyrun", run.pk]), {"next": "/"})
            assert resp.status_code == 302
            wait_for(lambda: SubsidyRun.objects.get(pk=run.pk).status in ("done", "failed"), 120,
                     f"the rerun to finish\n{w.output()}")
    run.refresh_from_db()
    assert run.status == "done", run.error
    assert run.progress_done == len(people) and run.job_tries == 1
    parts = list(SubsidyRunPart.objects.filter(run=run).order_by("index"))
    assert [p.progress_done for p in parts] == [10, 10, 10, 10, 3]  # each person worked once
    changes = _changes(run)
    assert len({c[0] for c in changes}) == len(changes) == run.count_new + run.count_changed + run.count_removed
    assert blocker.pk in {c[0] for c in changes}
    assert _one_process(staff, before) == (changes, _results(), _counts(run))
