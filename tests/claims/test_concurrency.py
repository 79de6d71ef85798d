"""Two decisions for the same person at the same moment (two clerks, two workers) never together
exceed a cap: deciding locks the person's CapUsage rows (PostgreSQL, two real connections)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections

from claims.models import CapUsage, Decision
from claims.services import bill_decide

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks)")


@pytest.fixture(autouse=True)
def slow_engine(monkeypatch):
    """Widen the race: the engine takes 0.3 s, so both deciders are inside it at once unless the
    cap rows are locked (without the lock this test fails: both pay 8,000)."""
    import time

    from claims import services

    real = services.decide_bill

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "decide_bill", slow)


def with_cap_rows(person):
    """The person already has this year's cap rows (an earlier decision made them): the only thing
    between two deciders is then the row lock, not the first insert."""
    from claims.models import CAP_KEYS

    for scheme in CAP_KEYS:
        CapUsage.objects.get_or_create(person=person, year=2025, scheme=scheme)
    return person


def at_once(fn, args_list):
    """Run fn(arg) for every arg in its own thread (own database connection), all released together."""
    barrier = threading.Barrier(len(args_list))
    errors = []

    def run(arg):
        try:
            barrier.wait(timeout=10)
            fn(arg)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []


def decide_at_once(bill_ids, user):
    at_once(lambda bill_id: bill_decide(bill_id=bill_id, user=user), bill_ids)


@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_decisions_for_one_person_never_exceed_the_inpatient_cap(round_, make_person, enter_bill, staff):
    person = with_cap_rows(make_person(f"并发{round_}", categories=("DIBAO",)))
    # each stay alone would get 80% of 10,000 = 8,000; the annual cap is 10,000
    bills = [
        enter_bill(person, in_policy="19000.00", basic="9000.00", settled_on=date(2025, 6, 10 + i)) for i in range(2)
    ]
    decide_at_once([b.pk for b in bills], staff["district_clerk"])
    amounts = sorted(Decision.objects.filter(person=person, is_current=True).values_list("assistance", flat=True))
    assert amounts == [Decimal("2000.00"), Decimal("8000.00")]
    assert CapUsage.objects.get(person=person, year=2025, scheme="INPATIENT").used == Decimal("10000.00")


def test_four_concurrent_outpatient_decisions_share_the_400_limit_exactly(make_person, enter_bill, staff):
    person = with_cap_rows(make_person("门诊并发", categories=("BINGGU_YISHU",)))  # OUT_400, 70%
    bills = [
        enter_bill(person, kind="OUTPATIENT", in_policy="500.00", basic="300.00", settled_on=date(2025, 3, 1 + i))
        for i in range(4)
    ]  # each: 200 × 70% = 140; four would be 560 > 400
    decide_at_once([b.pk for b in bills], staff["district_clerk"])
    total = sum(Decision.objects.filter(person=person, is_current=True).values_list("assistance", flat=True))
    assert total == Decimal("400.00")
    assert CapUsage.objects.get(person=person, year=2025, scheme="OUTPATIENT").used == Decimal("400.00")


def test_two_printers_at_once_never_take_the_same_document_number(decided_bill, make_person, staff):
    from claims.models import Notice
    from claims.notices import notice_print
    from claims.services import decision_approve

    decisions = [decision_approve(bill_id=decided_bill(make_person(f"打印{i}")).pk, user=staff["reviewer"]) for i in range(4)]
    at_once(lambda d: notice_print(decision=d, user=staff["district_clerk"]), decisions)
    assert sorted(Notice.objects.values_list("number", flat=True)) == [1, 2, 3, 4]


def test_two_jobs_printing_one_notice_at_once_take_one_number_and_both_finish(decided_bill, make_person, staff, monkeypatch):
    """A double click on 打印 (issue 14: each click a one-notice job) whose two jobs reach two workers at
    the same moment. Both read that the decision has no notice yet; the counter row's lock lets one number
    it, and the other — reading again once it holds the lock — finds that notice instead of numbering the
    decision a second time (before, it failed on the notice's unique decision: 数据冲突)."""
    from claims.models import DocumentCounter, Notice, NoticeBatch, NoticePrint
    from claims.notices import notice_batch_render
    from claims.services import decision_approve

    d = decision_approve(bill_id=decided_bill(make_person("双击")).pk, user=staff["reviewer"])
    clerk = staff["district_clerk"]
    batches = [NoticeBatch.objects.create(requested_by=clerk, decision_ids=[d.pk], progress_total=1) for _ in range(2)]
    from django.conf import settings
    from django.utils import timezone

    DocumentCounter.objects.create(prefix=getattr(settings, "YFBZ_DOC_PREFIX", "渝北医保救助"), year=timezone.localdate().year)
    real = DocumentCounter.objects.get_or_create

    def slow(*args, **kwargs):  # both have read "no notice yet" before either takes the counter
        import time

        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(DocumentCounter.objects, "get_or_create", slow)
    at_once(lambda b: notice_batch_render(batch_id=b.pk), batches)
    assert Notice.objects.filter(decision=d).count() == 1
    assert DocumentCounter.objects.get().last == 1
    assert set(NoticeBatch.objects.values_list("status", flat=True)) == {NoticeBatch.Status.DONE}
    assert sorted(NoticePrint.objects.values_list("reprint", flat=True)) == [False, True]
