"""A real Celery worker killed with SIGKILL in the middle of a settlement import (issue 10, finding 5):
the file is then not RUNNING for ever — it is offered "重新运行" at once, and the rerun imports it
once, to the same result as an import never interrupted."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from claims.models import CAP_KEYS, CapUsage, SettlementFile, SettlementLine
from claims.settlement import settlement_file_import, settlement_file_upload
from tests.worker_process import (
    backend_waiting_on_lock,
    held_in_another_transaction,
    sending_to_redis,
    wait_for,
    worker_process,
)
from yfbz.core import jobs

from .test_settlement import csv_bytes, line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.postgres, pytest.mark.slow]


def _rows(people):
    rows = []
    for i in range(60):
        p, advanced = ((people["slh"], "4000.00"), (people["hx"], "3750.00"))[i % 2]
        rows.append(line(f"K{i:03d}", p, advanced, day=1 + i % 28))
    return rows


def _result(f):
    lines = SettlementLine.objects.filter(file=f)
    return {
        "status": f.status, "lines": lines.count(), "agreed": f.lines_agreed, "disputed": f.lines_disputed,
        "agreed_total": f.agreed_total, "payable": lines.aggregate(s=Sum("payable"))["s"],
        "caps": sorted(CapUsage.objects.filter(used__gt=0).values_list("person__name", "scheme", "used")),
    }


def test_a_worker_killed_mid_settlement_import_leaves_a_file_to_rerun_at_once_to_the_same_result(
        institutions, people, staff, login):
    clerk = staff["district_clerk"]
    # the reference: the same lines for another institution of the same level, imported without interruption
    institutions["CQ01"].level = institutions["YB01"].level
    institutions["CQ01"].save()
    ref = settlement_file_upload(institution=institutions["CQ01"], month=date(2025, 3, 1), file_name="ref.csv",
                                 data=csv_bytes(_rows(people)) + b"\n", user=clerk)
    ref = settlement_file_import(file_id=ref.pk, user=clerk)
    expected = _result(ref)
    assert expected["lines"] == 60 and expected["agreed_total"] > 0
    SettlementLine.objects.filter(file=ref).delete()
    CapUsage.objects.update(used=Decimal("0.00"))

    for scheme in CAP_KEYS:  # 李回兴's cap rows exist: holding one blocks the import mid-way
        CapUsage.objects.get_or_create(person=people["hx"], year=2025, scheme=scheme)
    f = settlement_file_upload(institution=institutions["YB01"], month=date(2025, 3, 1), file_name="k.csv",
                               data=csv_bytes(_rows(people)), user=clerk)
    with sending_to_redis():
        with held_in_another_transaction(lambda: list(CapUsage.objects.select_for_update().filter(person=people["hx"]))):
            with worker_process() as w:
                from claims.tasks import settlement_import

                settlement_import.delay(f.pk, clerk.pk)
                wait_for(lambda: SettlementFile.objects.get(pk=f.pk).status == "RUNNING" and backend_waiting_on_lock(),
                         90, "the worker to be inside the import")
                f.refresh_from_db()
                assert jobs.alive(f) and not jobs.can_rerun(f)
                w.kill()
        # the worker is gone and its transaction with it: nothing half-imported, a rerun offered at once
        f.refresh_from_db()
        wait_for(lambda: jobs.abandoned(SettlementFile.objects.get(pk=f.pk)), 30, "the killed worker's lock to go")
        f.refresh_from_db()
        assert f.status == "RUNNING" and SettlementLine.objects.filter(file=f).count() == 0
        page = login(clerk).get(reverse("claims:settlement-list")).content.decode()
        assert "运行已中断" in page and 'data-testid="job-rerun"' in page

        with worker_process():
            resp = login(clerk).post(reverse("job-rerun", args=["claims.settlementfile", f.pk]), {"next": "/"})
            assert resp.status_code == 302
            wait_for(lambda: SettlementFile.objects.get(pk=f.pk).status == "DONE", 90, "the rerun to finish")
    f.refresh_from_db()
    got = _result(f)
    assert got == expected
    assert settlement_file_import(file_id=f.pk, user=clerk) is None  # done once: a third run does nothing
