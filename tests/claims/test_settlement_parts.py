"""The settlement audit spread over workers (issue 14): the file is cut into parts by person, each part
decided by its own task in one transaction (its lines, its cap additions and its "done" together), and
the last step adds them up on the file once. The result is the same as one part; a worker killed in
the middle of a part leaves the other parts done and that part unwritten, and "重新运行" decides only
what is missing, consuming no cap twice."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Sum

from claims.models import CAP_KEYS, CapUsage, SettlementFile, SettlementFilePart, SettlementLine
from claims.settlement import settlement_file_import, settlement_file_upload
from yfbz.core import jobs

from .test_settlement import MARCH, csv_bytes, line

pytestmark = pytest.mark.django_db


def _people(make_person):
    return [make_person(f"分段{i}", categories=("DIBAO",)) for i in range(4)]


def _rows(ppl):
    """3, 2, 2 and 1 lines of four people (the first reaches its inpatient cap within the file), an
    unknown person and a number twice."""
    a, b, c, d = ppl
    return [
        line("P001", a, "8000.00", in_policy="15000.00", basic="5000.00", day=3),
        line("P002", a, "8000.00", in_policy="15000.00", basic="5000.00", day=9),
        line("P003", a, "8000.00", in_policy="15000.00", basic="5000.00", day=20),  # beyond the cap left
        line("P004", b, "4000.00", day=4),
        line("P005", b, "3000.00", day=5),  # wrong amount
        line("P006", c, "4000.00", day=6),
        line("P004", c, "4000.00", day=7),  # the same 结算编号 again: a duplicate
        line("P007", d, "4000.00", day=8),
        line("P008", None, "100.00", idn="500112199001011234"),
    ]


def _result(f):
    f.refresh_from_db()
    lines = SettlementLine.objects.filter(file=f)
    return {
        "status": f.status, "totals": (f.lines_total, f.lines_agreed, f.lines_disputed, f.advanced_total, f.agreed_total),
        "lines": sorted(lines.values_list("line_no", "settlement_no", "outcome", "dispute", "decided", "payable",
                                          "duplicate")),
        "payable": lines.aggregate(s=Sum("payable"))["s"],
        "caps": sorted(CapUsage.objects.filter(used__gt=0).values_list("person__name", "scheme", "used")),
    }


def _import_entries(f) -> int:
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(SettlementFile), object_pk=str(f.pk))
    return sum(1 for e in entries if "导入明细行" in (e.changes_dict or {}))


def _reference(institutions, ppl, clerk):
    """The same lines imported as one part (for an institution of the same level), then taken out again."""
    institutions["CQ01"].level = institutions["YB01"].level
    institutions["CQ01"].save()
    ref = settlement_file_upload(institution=institutions["CQ01"], month=MARCH, file_name="ref.csv",
                                 data=csv_bytes(_rows(ppl)) + b"\n", user=clerk)
    ref = settlement_file_import(file_id=ref.pk, user=clerk, inline=True)
    expected = _result(ref)
    assert SettlementFilePart.objects.filter(file=ref).count() == 1
    SettlementLine.objects.filter(file=ref).delete()
    CapUsage.objects.update(used=Decimal("0.00"))
    return expected


def test_a_file_cut_into_parts_by_person_decides_every_line_as_one_part_does(
        settings, institutions, make_person, staff):
    clerk = staff["district_clerk"]
    ppl = _people(make_person)
    expected = _reference(institutions, ppl, clerk)
    disputes = {ln[3] for ln in expected["lines"]}
    assert expected["totals"][0] == 9 and {"DUPLICATE", "UNKNOWN_PERSON", "CAP_EXCEEDED"} <= disputes and expected["caps"]

    settings.SETTLEMENT_PART_LINES = 2
    f = settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="p.csv",
                               data=csv_bytes(_rows(ppl)), user=clerk)
    f = settlement_file_import(file_id=f.pk, user=clerk)
    assert _result(f) == expected
    parts = list(SettlementFilePart.objects.filter(file=f).order_by("index"))
    # every line of a person in one part: 3 | 2 | 2 | 1 + the unknown person (a person split would give 2, 2, …)
    assert [p.lines for p in parts] == [3, 2, 2, 2]
    assert all(p.done_at and p.rows == [] for p in parts)
    assert sum(p.lines_agreed for p in parts) == f.lines_agreed and sum(p.agreed_total for p in parts) == f.agreed_total
    assert _import_entries(f) == 1  # the file is marked imported once
    assert settlement_file_import(file_id=f.pk, user=clerk) is None  # done: a second run does nothing


def test_a_month_with_a_file_imported_in_part_cannot_be_confirmed(settings, institutions, make_person, staff):
    from claims.services import ClaimsError
    from claims.settlement import settlement_month_confirm

    clerk = staff["district_clerk"]
    ppl = _people(make_person)
    f = settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="p.csv",
                               data=csv_bytes(_rows(ppl)[7:8]), user=clerk)
    f = settlement_file_import(file_id=f.pk, user=clerk)
    assert f.status == "DONE" and f.lines_agreed == 1
    SettlementFile.objects.filter(pk=f.pk).update(status="FAILED")  # as if a later part had failed
    with pytest.raises(ClaimsError, match="只导入了一部分"):
        settlement_month_confirm(month_id=f.settlement_month_id, user=staff["reviewer"])


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_part_leaves_the_other_parts_and_a_rerun_decides_only_the_rest(
        institutions, make_person, staff):
    from claims.tasks import settlement_import
    from tests.worker_process import (
        backend_waiting_on_lock,
        held_in_another_transaction,
        sending_to_redis,
        wait_for,
        worker_process,
    )

    clerk = staff["district_clerk"]
    ppl = _people(make_person)
    expected = _reference(institutions, ppl, clerk)
    last = ppl[-1]  # the last part holds 分段3 (and the unknown person): its cap rows are held, so it waits
    for scheme in CAP_KEYS:
        CapUsage.objects.get_or_create(person=last, year=2025, scheme=scheme)
    f = settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="k.csv",
                               data=csv_bytes(_rows(ppl)), user=clerk)
    parts = SettlementFilePart.objects.filter(file_id=f.pk)
    with sending_to_redis():
        from yfbz.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.client.delete("celery")
        with held_in_another_transaction(lambda: list(CapUsage.objects.select_for_update().filter(person=last))):
            with worker_process(SETTLEMENT_PART_LINES="2") as w:
                settlement_import.delay(f.pk, clerk.pk)
                wait_for(lambda: parts.filter(done_at__isnull=False).count() == 3 and backend_waiting_on_lock(), 180,
                         "three parts done and the fourth waiting on the held cap rows")
                f.refresh_from_db()
                assert f.status == "RUNNING" and jobs.alive(f) and not jobs.can_rerun(f)
                w.kill()
        # the killed part wrote nothing; the three others stand; nobody works on the file: 重新运行 at once
        wait_for(lambda: jobs.abandoned(SettlementFile.objects.get(pk=f.pk)), 30, "the killed worker's lock to go")
        f.refresh_from_db()
        assert f.status == "RUNNING" and jobs.can_rerun(f)
        assert SettlementLine.objects.filter(file=f).count() == 7 and not SettlementLine.objects.filter(person=last).exists()
        assert not CapUsage.objects.filter(person=last, used__gt=0).exists()
        assert [d is None for d in parts.order_by("index").values_list("done_at", flat=True)] == [False, False, False, True]
        done_before = dict(parts.values_list("index", "done_at"))

        jobs.rerun(f, by=clerk)  # sent on commit (autocommit here: at once)
        with worker_process(SETTLEMENT_PART_LINES="2"):
            wait_for(lambda: SettlementFile.objects.get(pk=f.pk).status == "DONE", 180, "the rerun to finish")
    assert _result(f) == expected  # no cap consumed twice, no line twice
    assert dict(parts.values_list("index", "done_at")) | {3: None} == done_before | {3: None}  # only part 4 ran again
    assert _import_entries(f) == 1  # the file marked imported once
