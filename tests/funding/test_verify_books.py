"""python manage.py verify_books (issue 10): exit 0 when the books add up, 1 with each finding named in
Chinese; one test per kind of corruption, each made with raw SQL behind the services' back."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from claims.models import Bill, CapUsage
from funding import services
from funding.models import PayableLine, Payment, SubsidyRoute, TaxListSettlement
from tests.claims.conftest import enter_bill, institutions  # noqa: F401
from yfbz.core.books import last

pytestmark = pytest.mark.django_db


def run_verify():
    """(exit code, output)."""
    import io

    out = io.StringIO()
    try:
        call_command("verify_books", stdout=out)
        return 0, out.getvalue()
    except SystemExit as exc:
        return exc.code, out.getvalue()


def sql(statement, params=()):
    with connection.cursor() as cur:
        cur.execute(statement, params)


@pytest.fixture
def books(enter_bill, people, make_person, staff, fund, django_capture_on_commit_callbacks):  # noqa: F811
    """A month of money: two approved bills (one paid through a batch, one waiting on the request),
    a self-paid subsidy approved (route b)."""
    from claims.services import bill_decide, decision_approve

    fin, rev, clerk = staff["finance"], staff["reviewer"], staff["district_clerk"]
    decisions = []
    for person in (people["slh"], people["hx"]):
        bill = enter_bill(person, settled_on=date(2025, 4, 9))
        bill_decide(bill_id=bill.pk, user=clerk)
        decisions.append(decision_approve(bill_id=bill.pk, user=rev))
    at = timezone.localtime(decisions[0].reviewed_at)
    fund("SPECIAL", "100000.00", on=date(2025, 3, 3))
    req = services.fund_request_create(year=at.year, month=at.month, user=clerk)
    services.fund_request_submit(request_id=req.pk, user=rev)
    services.fund_request_record_transfer(request_id=req.pk, on=at.date(), source_document="渝北财社〔2025〕20号",
                                          entered_by=fin, approved_by=rev)
    # pay the first bill only: the second bill's line stays pending
    first = PayableLine.objects.get(source_key=f"decision:{decisions[0].pk}:ASSISTANCE")
    PayableLine.objects.filter(request=req).exclude(pk=first.pk).update(bank_account="")
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=at.date(), failures={}, user=rev)
    he = make_person("何秋", categories=("DIBAO",))
    services.enrolment_set(person=he, year=2025, kind="RESIDENT_T1", user=clerk)
    rep = services.selfpaid_report(person=he, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"),
                                   bank_name="重庆农商行", bank_account="6214000011112222", account_holder=he.name,
                                   user=staff["slh_clerk"], today=date(2025, 7, 1))
    services.selfpaid_decide(report_id=rep.pk, approve=True, user=clerk, on=date(2025, 8, 5))
    return {"decisions": decisions, "request": req, "paid": first, "he": he, "report": rep}


def test_clean_books_exit_0_and_the_result_is_kept(books):
    code, out = run_verify()
    assert code == 0, out
    assert "账目核对无误" in out
    assert last().ok is True


def test_a_cap_row_that_is_not_the_sum_of_its_decisions(books, people):
    sql("UPDATE claims_capusage SET used = used + 100 WHERE person_id = %s AND scheme = 'INPATIENT'", [people["slh"].pk])
    row = CapUsage.objects.get(person=people["slh"], scheme="INPATIENT")
    code, out = run_verify()
    assert code == 1
    assert "【年度限额与核定不符】" in out
    assert f"{people['slh'].pk} 2025年「" in out and f"记录已使用 {row.used:,.2f} 元" in out


def test_an_unbalanced_entry_and_a_negative_day(books):
    sql("INSERT INTO funding_journalline (entry_id, account_id, amount) SELECT e.id, a.id, -200000 "
        "FROM funding_journalentry e, funding_account a WHERE a.code = 'EXPENDITURE' ORDER BY e.id LIMIT 1")
    code, out = run_verify()
    assert code == 1
    assert "【账户余额】凭证" in out and "借贷不平：分录合计 -200,000.00 元" in out
    assert "日终余额为 -" in out


def test_a_payable_on_two_request_lines(books):
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks first: then the table can change
        cur.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'funding_payableline'::regclass AND contype = 'u'")
        for (name,) in cur.fetchall():
            cur.execute(f'ALTER TABLE funding_payableline DROP CONSTRAINT "{name}"')
        # the live-line uniqueness is a partial unique index (cancelled lines left out)
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'funding_payableline' "
                    "AND indexdef LIKE 'CREATE UNIQUE%%' AND indexname NOT LIKE '%%pkey'")
        for (name,) in cur.fetchall():
            cur.execute(f'DROP INDEX "{name}"')
    line = books["paid"]
    sql("INSERT INTO funding_payableline (request_id, provider, source_key, payee_kind, payee_name, bank_name, bank_account, "
        "fund, spending, scheme, town_id, amount, status, withdrawn_reason) SELECT request_id, provider, source_key, payee_kind, "
        "payee_name, bank_name, bank_account, fund, spending, scheme, town_id, amount, 'pending', '' "
        "FROM funding_payableline WHERE id = %s", [line.pk])
    code, out = run_verify()
    assert code == 1
    assert f"【应付款与资金申请】应付款 {line.source_key} 出现在2条资金申请明细上" in out


def test_a_request_line_whose_source_is_no_longer_approved(books):
    waiting = books["decisions"][1]
    sql("UPDATE claims_bill SET status = 'DECIDED' WHERE id = %s", [waiting.bill_id])
    assert Bill.objects.get(pk=waiting.bill_id).status == "DECIDED"
    code, out = run_verify()
    assert code == 1
    assert f"明细 decision:{waiting.pk}:ASSISTANCE（待支付）的来源不是已审批待支付的款项" in out


def test_a_payment_that_does_not_map_to_its_line(books):
    pay = Payment.objects.get(line=books["paid"])
    sql("UPDATE funding_payment SET amount = amount + 1 WHERE id = %s", [pay.pk])
    code, out = run_verify()
    assert code == 1
    assert f"【支付】支付批次 {pay.batch.number} 明细号 {pay.pk} 金额" in out and "与申请明细金额" in out


def test_routes_a_and_b_both_for_one_person_year(books, towns, staff):
    s = TaxListSettlement.objects.create(year=2025, town=towns["SLH"], people=1, amount=Decimal("360.00"), payee_name="税务局",
                                         bank_name="国库", bank_account="1", confirmed_by=staff["district_clerk"],
                                         confirmed_on=date(2025, 9, 1))
    sql("UPDATE funding_subsidyroute SET route = 'A', report_id = NULL, settlement_id = %s WHERE person_id = %s",
        [s.pk, books["he"].pk])
    assert SubsidyRoute.objects.get(person=books["he"]).route == "A"
    code, out = run_verify()
    assert code == 1
    assert f"【资助参保途径重复】何秋 2025年既经途径二（自缴后资助，申报{books['report'].pk}）又经途径一（税务代缴）资助参保" in out


def test_the_last_result_is_on_healthz_and_the_finance_home_page(books, staff, login, client):
    sql("UPDATE claims_capusage SET used = used + 1 WHERE id = (SELECT min(id) FROM claims_capusage)")
    assert run_verify()[0] == 1
    body = client.get("/healthz").json()
    assert body["books"]["ok"] is False and body["books"]["detail"].startswith("账目核对发现问题：年度限额与核定不符1处")
    page = login(staff["finance"]).get(reverse("home")).content.decode()
    assert "账目核对" in page and "年度限额与核定不符1处" in page


def test_the_nightly_run_is_a_beat_schedule_row():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="core.verify_books")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("2", "30")
