"""A real Celery worker killed with SIGKILL at 30% of a subsidy run (issue 10, finding 5): the run is
offered "重新运行" at once (not after the broker's one-hour visibility timeout), resumes after its
last committed batch, and ends with the same results as a run never interrupted."""

from decimal import Decimal

import pytest
from django.urls import reverse

from funding.models import Enrolment, SubsidyResult, SubsidyRun
from funding.services.subsidies import subsidy_run_execute
from tests.worker_process import (
    backend_waiting_on_lock,
    held_in_another_transaction,
    sending_to_redis,
    wait_for,
    worker_process,
)
from yfbz.core import jobs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.postgres, pytest.mark.slow]


def _results():
    return sorted(SubsidyResult.objects.filter(year=2025).values_list("person_id", "category", "group", "amount"))


def test_a_subsidy_run_killed_at_30_percent_is_rerun_at_once_and_ends_as_an_uninterrupted_run(make_person, staff, login):
    clerk = staff["district_clerk"]
    people = [make_person(f"资助{i:03d}", categories=(("DIBAO",), ("TEKUN",))[i % 2]) for i in range(100)]
    for p in people[::3]:
        Enrolment.objects.create(person=p, year=2025, kind="RESIDENT_T1")
    blocker = people[30]  # the 31st person: the batch after 30 people waits on this person's result row

    run = SubsidyRun.objects.create(year=2025, started_by=clerk, progress_total=100)

    def a_result_row_being_written():
        SubsidyResult.objects.create(person=blocker, year=2025, amount=Decimal("0.00"), run=run)
    with sending_to_redis():
        with held_in_another_transaction(a_result_row_being_written):
            with worker_process(SUBSIDY_BATCH_SIZE="10") as w:
                from funding.tasks import subsidy_run_execute as task

                task.delay(run.pk)
                wait_for(lambda: SubsidyRun.objects.get(pk=run.pk).progress_done == 30 and backend_waiting_on_lock(),
                         90, "the run to reach 30 of 100")
                w.kill()
        wait_for(lambda: jobs.abandoned(SubsidyRun.objects.get(pk=run.pk)), 30, "the killed worker's lock to go")
        run.refresh_from_db()
        assert (run.status, run.progress_done) == ("running", 30)
        page = login(clerk).get(reverse("funding:subsidy"), {"year": 2025}).content.decode()
        assert "运行已中断" in page and 'data-testid="job-rerun"' in page

        with worker_process(SUBSIDY_BATCH_SIZE="10"):  # at once: no hour to wait
            resp = login(clerk).post(reverse("job-rerun", args=["funding.subsidyrun", run.pk]), {"next": "/"})
            assert resp.status_code == 302
            wait_for(lambda: SubsidyRun.objects.get(pk=run.pk).status == "done", 90, "the rerun to finish")
    run.refresh_from_db()
    assert run.progress_done == 100 and run.job_tries == 1
    after_kill = _results()

    # the same result as a run never interrupted: a second full run changes nothing
    again = SubsidyRun.objects.create(year=2025, started_by=clerk, progress_total=100)
    again = subsidy_run_execute(run_id=again.pk)
    assert (again.status, again.count_new, again.count_changed, again.count_removed) == ("done", 0, 0, 0)
    assert _results() == after_kill and again.total_amount == run.total_amount
