"""Issue 16 end to end: one roster's late changes reach a paid hand bill, an underpaid hand bill, an
agreed one-stop line already paid to the institution and a bill whose payment failed — all at once.
Followed through re-decision (pressed twice), approval, notices, receivables and their recovery,
the top-up on the next fund request, the withdrawn line's money returned, ending with the books
proved consistent (every cap row, every account, every withdrawn line's money)."""

import io
import re
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from pypdf import PdfReader

from beneficiaries.models import RetroactiveChange
from claims.caps import COUNTING
from claims.caps import decision_usage as _decision_usage
from claims.models import Adjustment, Bill, CapUsage, Decision, SettlementLine
from claims.notices import notice_print
from claims.settlement import settlement_line_resolve
from funding import services
from funding.models import Account, JournalLine, PayableLine, Receivable, WithdrawnFunds

from .conftest import money

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def balance(code):
    return services.account_balance(Account.objects.get(code=code))


def compile_requests(user, today, month_m):
    """This month's fund request, and one for the settlement month if its payables are listed there."""
    out = []
    for y, m in ((today.year, today.month), (month_m.year, month_m.month)):
        try:
            out.append(services.fund_request_create(year=y, month=m, user=user))
        except services.FundingError:
            pass
    return out


def fund_and_pay(reqs, staff, today, fail_keys=()):
    for req in reqs:
        services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
        services.fund_request_record_transfer(request_id=req.pk, on=today, source_document=f"渝北财社拨{req.pk}",
                                              entered_by=staff["finance"], approved_by=staff["reviewer"])
        batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
        failures = {p.pk: "账户已销户" for p in batch.payments.select_related("line") if p.line.source_key in fail_keys}
        services.payment_batch_confirm(batch_id=batch.pk, paid_on=today, failures=failures, user=staff["reviewer"])


def assert_books_consistent(people):
    # every cap row equals the current decisions and the counted one-stop lines behind it
    for person in people:
        want = defaultdict(Decimal)
        for d in Decision.objects.filter(person=person, is_current=True, bill__status__in=COUNTING):
            for key, amount in _decision_usage(d).items():
                want[(d.year, key)] += amount
        for line in SettlementLine.objects.filter(person=person, duplicate=False).exclude(scheme=""):
            want[(line.settled_on.year, line.scheme)] += line.payable
        for row in CapUsage.objects.filter(person=person):
            assert row.used == want[(row.year, row.scheme)], (person.name, row.year, row.scheme)
    # every account's balance is its entries, never below zero for the bureau's own accounts
    for acc in Account.objects.all():
        total = JournalLine.objects.filter(account=acc).aggregate(s=Sum("amount"))["s"] or Decimal("0")
        assert balance(acc.code) == total
        if acc.kind == "own":
            assert total >= 0, acc.code
    # the money transferred for every withdrawn assistance line is held, applied or returned
    for line in PayableLine.objects.filter(status="withdrawn", fund="ASSISTANCE", request__status="funded"):
        if line.request.transferred_assistance is not None and line.withdrawn_at > line.request.status_changes.filter(
                to_status="funded").get().at:
            assert WithdrawnFunds.objects.filter(line=line).exists(), line.source_key
    # a settled institution-month: what was confirmed, plus top-ups, less recoveries, is what its lines pay
    for line in SettlementLine.objects.exclude(prior_payable=None):
        sm = line.settlement_month
        adj = Adjustment.objects.filter(settlement_line__settlement_month=sm)
        up = adj.filter(kind="TOP_UP").aggregate(s=Sum("amount"))["s"] or 0
        down = adj.filter(kind="RECOVERY").aggregate(s=Sum("amount"))["s"] or 0
        assert sm.lines.aggregate(s=Sum("payable"))["s"] == sm.agreed_total + up - down
    out = io.StringIO()
    call_command("verify_books", stdout=out)  # exits 1 (SystemExit) on any finding
    assert "账目核对无误" in out.getvalue()


def test_one_roster_reaches_hand_bills_a_one_stop_line_and_a_paid_decision_and_the_books_hold(
        make_person, decided_bill, approve, one_stop, apply_roster, staff, fund, login):
    today = timezone.localdate()
    month_m = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month: the roster's month
    before = month_m - timedelta(days=1)  # the last day of the month before it
    jia = make_person("甲已付", categories=("DIBAO",))  # paid 4,000.00, ends early → recover 4,000.00
    yi = make_person("乙少付", categories=("YINBING_ZHIPIN",))  # paid 3,500.00, 低保 earlier → top up 500.00
    bing = make_person("丙一站式", categories=("DIBAO",))  # one-stop 4,000.00 paid to YB01, ends early
    ding = make_person("丁未付", categories=("DIBAO",))  # approved 4,000.00, payment failed, ends early
    wu = make_person("戊无票", categories=("DIBAO",))  # ends early, nothing decided
    bills = {p: decided_bill(p, settled_on=month_m + timedelta(days=2)) for p in (jia, yi, ding)}
    first = {p: approve(b) for p, b in bills.items()}
    line = one_stop(bing, month_m + timedelta(days=4), "4000.00", confirm=True)

    fund("SPECIAL", "100000.00", on=today)
    reqs = compile_requests(staff["district_clerk"], today, month_m)
    fund_and_pay(reqs, staff, today, fail_keys={f"decision:{first[ding].pk}:ASSISTANCE"})
    line.settlement_month.refresh_from_db()
    assert line.settlement_month.status == "PAID"
    assert balance("EXPENDITURE") == money("4000.00")  # 丁's failed payment waits in 支出户
    notices = {p: notice_print(decision=first[p], user=staff["district_clerk"])[1] for p in (jia, yi)}

    # last month's civil roster arrives late
    apply_roster([
        (jia.id_number, jia.name, "低保", "双龙湖", "", "", before.isoformat()),
        (yi.id_number, yi.name, "低保", "双龙湖", before.replace(day=1).isoformat(), ""),
        (bing.id_number, bing.name, "低保", "双龙湖", "", "", before.isoformat()),
        (ding.id_number, ding.name, "低保", "双龙湖", "", "", before.isoformat()),
        (wu.id_number, wu.name, "低保", "双龙湖", "", "", before.isoformat()),
    ], month=month_m)
    changes = {c.person_id: c for c in RetroactiveChange.objects.all()}
    assert changes[wu.pk].status == "AUTO_CLOSED"
    assert {p.name: (changes[p.pk].status, changes[p.pk].decisions_reached, changes[p.pk].lines_reached)
            for p in (jia, yi, bing, ding)} == {
        "甲已付": ("OPEN", 1, 0), "乙少付": ("OPEN", 1, 0), "丙一站式": ("OPEN", 0, 1), "丁未付": ("OPEN", 1, 0)}
    assert sum(c.amount_estimate for c in changes.values()) == money("-11500.00")

    clerk = login(staff["district_clerk"])
    from django.urls import reverse

    for p in (jia, yi, bing, ding):
        url = reverse("claims:retroactive-detail", args=[changes[p.pk].pk])
        clerk.post(url, {"action": "redecide"})
        clerk.post(url, {"action": "redecide"})  # pressed twice
    assert Decision.objects.count() == 6
    # 丁's unpaid line left the request at once; the money transferred for it is held
    ding_line = PayableLine.objects.get(source_key=f"decision:{first[ding].pk}:ASSISTANCE")
    assert ding_line.status == "withdrawn" and WithdrawnFunds.objects.get(line=ding_line).status == "held"

    for p in (jia, yi, ding):
        approve(bills[p])
    settlement_line_resolve(line_id=line.pk, user=staff["reviewer"], resolution="NONE", note="结算日已无低保身份")
    for c in changes.values():
        c.refresh_from_db()
    assert {c.status for p, c in changes.items() if p != wu.pk} == {"REVIEWED"}

    # what each owes or is owed
    rec_jia = Receivable.objects.get(source_key=Adjustment.objects.get(decision__bill=bills[jia]).source_key)
    rec_bing = Receivable.objects.get(source_key=Adjustment.objects.get(settlement_line=line).source_key)
    assert (rec_jia.debtor_name, rec_jia.amount) == ("甲已付", money("4000.00"))
    assert (rec_bing.debtor_name, rec_bing.amount) == (line.institution.name, money("4000.00"))
    assert Adjustment.objects.get(decision__bill=bills[yi]).amount == money("500.00")
    assert not Adjustment.objects.filter(decision__bill=bills[ding]).exists()  # never paid: nothing to recover
    bills[ding].refresh_from_db()
    assert bills[ding].status == Bill.Status.REFUSED

    # the people are told
    pdf, n_jia = notice_print(decision=bills[jia].current_decision, user=staff["district_clerk"])
    t = text_of(pdf)
    assert notices[jia].doc_number in t and "多领取的人民币4,000.00元" in t
    pdf, n_yi = notice_print(decision=bills[yi].current_decision, user=staff["district_clerk"])
    t = text_of(pdf)
    assert notices[yi].doc_number in t and "本局将补发人民币500.00元" in t

    # the next fund request pays 乙's top-up; 丁's held money is returned to 财政专户
    nxt = services.fund_request_create(year=today.year, month=today.month, user=staff["district_clerk"])
    assert [(ln.payee_name, ln.amount) for ln in nxt.lines.all()] == [("乙少付", money("500.00"))]
    held = WithdrawnFunds.objects.get(line=ding_line)
    assert held.status == "held"  # 4,000.00 does not fit in a 500.00 request
    fund_and_pay([nxt], staff, today)
    services.withdrawn_funds_return(funds_id=held.pk, on=today, source_document="退库单", entered_by=staff["finance"],
                                    approved_by=staff["reviewer"])
    for rec in (rec_jia, rec_bing):
        services.receivable_recover(receivable_id=rec.pk, amount=rec.amount, on=today, source_document=f"缴款书{rec.pk}",
                                    entered_by=staff["finance"], approved_by=staff["reviewer"])
    # 专户: 100,000 − 15,500 (first transfer: 甲, 乙, 丁, YB01) − 500 (乙's top-up) + 4,000 (丁's money returned)
    assert balance("SPECIAL") == money("88000.00")
    # 支出户: 16,000 in − 12,000 paid (甲 4,000, 乙 3,500 + 500, YB01 4,000) − 4,000 returned + 8,000 recovered
    assert balance("EXPENDITURE") == money("8000.00")
    assert_books_consistent([jia, yi, bing, ding, wu])
