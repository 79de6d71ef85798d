"""Two people acting on the same payment batch at the same moment (PostgreSQL, real threads, real views).

One wins; the other reads a Chinese message — the service's own refusal when the row lock
serialised them, or the 409 page "操作冲突，请重试" when the database gave up their transaction
(deadlock, serialization failure). Either way nothing is half-applied and nothing is paid twice.
"""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction  # noqa: F401 (connection used by skipif)
from django.test import Client
from django.urls import reverse

from funding import services
from funding.models import Account, JournalEntry, Payment, PaymentBatch
from yfbz.core.roles import Role

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks and deadlocks need PostgreSQL"),
]


@pytest.fixture
def batch(make_person, staff, fund):
    for name in ("并发甲", "并发乙"):
        p = make_person(name)
        rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400"),
                                       bank_name="农行", bank_account=f"6228{p.pk:08d}", account_holder=name,
                                       user=staff["slh_clerk"], today=date(2025, 3, 2))
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 3))
    fund("SPECIAL", "5000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="渝财〔2025〕9号",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    return services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _expenditure() -> Decimal:
    return services.account_balance(Account.objects.get(code="EXPENDITURE"))


def _paid_once(batch, before: Decimal):
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.CONFIRMED
    assert set(Payment.objects.filter(batch=batch).values_list("status", flat=True)) == {"paid"}
    assert JournalEntry.objects.filter(payment_batch=batch).count() == 1
    assert batch.total > 0 and before - _expenditure() == batch.total


def test_two_reviewers_confirming_one_batch_at_once_pay_it_once(batch, staff, make_user):
    second = make_user("reviewer2", Role.DISTRICT_REVIEWER)
    before = _expenditure()
    barrier = threading.Barrier(2)
    pages = {}

    def confirm(user):
        client = _client(user)
        try:
            barrier.wait()
            resp = client.post(reverse("funding:batch-confirm", args=[batch.pk]), {"paid_on": "2025-03-28"}, follow=True)
            pages[user.username] = (resp.status_code, resp.content.decode())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=(u,)) for u in (staff["reviewer"], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(code for code, _ in pages.values()) == [200, 200]
    won = [p for _, p in pages.values() if f"批次 {batch.number} 已按银行回单确认" in p]
    lost = [p for _, p in pages.values() if f"支付批次 {batch.number} 已确认过银行回单" in p or "操作冲突，请重试" in p]
    assert len(won) == 1 and len(lost) == 1
    _paid_once(batch, before)


def _wait_until_blocked(other_pid: int, timeout: float = 20.0):
    """Until a backend other than ``other_pid`` (and this test's own) waits for a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> %s AND pid <> pg_backend_pid()",
                        [other_pid])
            if cur.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the confirmation never waited for the account")


def test_a_deadlock_reaching_the_reviewer_is_a_chinese_409_and_nothing_is_half_applied(batch, staff):
    """The reviewer's confirmation locks the batch, then the fund's account; another transaction
    holds the account and wants the batch. PostgreSQL breaks the deadlock by rolling back the
    reviewer's transaction: the reviewer reads 操作冲突，请重试 (HTTP 409, in the site's layout),
    no payment is marked, no entry booked; confirming again pays the batch once."""
    before = _expenditure()
    account_held, reviewer_waits, done = threading.Event(), threading.Event(), threading.Event()
    other = {}

    def other_transaction():
        try:
            with transaction.atomic():
                with connections["default"].cursor() as cur:
                    cur.execute("SELECT pg_backend_pid()")
                    other["pid"] = cur.fetchone()[0]
                    cur.execute("SET LOCAL deadlock_timeout = '60s'")  # so PostgreSQL picks the reviewer's side
                list(Account.objects.select_for_update().filter(code="EXPENDITURE"))
                account_held.set()
                reviewer_waits.wait(30)
                list(PaymentBatch.objects.select_for_update().filter(pk=batch.pk))  # closes the cycle
                other["got_batch_status"] = PaymentBatch.objects.get(pk=batch.pk).status
                transaction.set_rollback(True)
        finally:
            done.set()
            connections.close_all()

    page = {}

    def reviewer():
        client = _client(staff["reviewer"])
        try:
            resp = client.post(reverse("funding:batch-confirm", args=[batch.pk]), {"paid_on": "2025-03-28"},
                               HTTP_REFERER=f"http://testserver{reverse('funding:request-detail', args=[batch.request_id])}")
            page["status"], page["html"] = resp.status_code, resp.content.decode()
        finally:
            connections.close_all()

    t_other = threading.Thread(target=other_transaction)
    t_other.start()
    assert account_held.wait(20)
    t_reviewer = threading.Thread(target=reviewer)
    t_reviewer.start()
    _wait_until_blocked(other["pid"])
    reviewer_waits.set()
    t_reviewer.join(60)
    t_other.join(60)
    assert done.is_set() and not t_reviewer.is_alive()

    assert page["status"] == 409
    assert "操作冲突，请重试" in page["html"] and 'data-testid="error-409"' in page["html"]
    assert "deadlock" not in page["html"].lower() and "Traceback" not in page["html"]
    assert "返回上一页" in page["html"]
    # the other transaction saw the batch as the reviewer's rolled-back transaction left it
    assert other["got_batch_status"] == PaymentBatch.Status.EXPORTED
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.EXPORTED and batch.confirmed_by_id is None
    assert not Payment.objects.filter(batch=batch, status="paid").exists()
    assert not JournalEntry.objects.filter(payment_batch=batch).exists()
    assert _expenditure() == before

    # 重试: the same confirmation now goes through, once
    again = _client(staff["reviewer"]).post(reverse("funding:batch-confirm", args=[batch.pk]), {"paid_on": "2025-03-28"},
                                            follow=True)
    assert f"批次 {batch.number} 已按银行回单确认" in again.content.decode()
    _paid_once(batch, before)


def test_a_serialization_failure_is_recognised_as_a_conflict():
    """The other SQLSTATE PostgreSQL uses for "retry": a real serialization failure between two
    SERIALIZABLE transactions is recognised by the middleware's test."""
    from yfbz.core.middleware import is_conflict

    a, b = connections.create_connection("default"), connections.create_connection("default")
    try:
        for c in (a, b):
            c.ensure_connection()
            c.connection.autocommit = False
            with c.connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        with a.connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM funding_account")
        with b.connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM funding_account")
            cur.execute("UPDATE funding_account SET name = name WHERE code = 'SPECIAL'")
        b.connection.commit()
        with pytest.raises(Exception) as caught, a.connection.cursor() as cur:
            cur.execute("UPDATE funding_account SET name = name WHERE code = 'SPECIAL'")
        assert is_conflict(caught.value)
        a.connection.rollback()
    finally:
        a.close()
        b.close()
