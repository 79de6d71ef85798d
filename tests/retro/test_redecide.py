"""Issue 16, defects 2 and 3: re-deciding what a change reaches is idempotent, a change is reviewed
when its re-decisions are approved, and a one-stop line whose eligibility changes is disputed again
with the reason — the institution's money follows (recovered from it, or topped up to it)."""

from datetime import date

import pytest
from django.urls import reverse

from beneficiaries.models import RetroactiveChange
from claims.models import Adjustment, Bill, CapUsage, Decision
from claims.selectors import payables
from claims.services import ClaimsError, payables_mark_paid
from claims.settlement import settlement_line_resolve
from funding.models import Receivable

from .conftest import money

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_then_ended(make_person, decided_bill, approve, apply_roster, staff):
    """A 低保 person's bill (4,000.00) approved and paid; a November roster ends the identity on 31 October."""
    person = make_person("周已付", categories=("DIBAO",))
    bill = decided_bill(person, settled_on=date(2025, 11, 3))
    d1 = approve(bill)
    payables_mark_paid(source_keys=[f"decision:{d1.pk}"], paid_on=date(2025, 11, 20), user=staff["finance"])
    apply_roster([(person.id_number, person.name, "低保", "双龙湖", "", "", "2025-10-31")])
    return person, bill, d1, RetroactiveChange.objects.get(person=person)


def test_pressing_redecide_twice_makes_one_decision_and_the_change_is_reviewed_on_approval(paid_then_ended, staff, login,
                                                                                           approve):
    person, bill, d1, change = paid_then_ended
    url = reverse("claims:retroactive-detail", args=[change.pk])
    client = login(staff["district_clerk"])
    client.post(url, {"action": "redecide"})
    client.post(url, {"action": "redecide"})  # the second press while the first waits for approval
    assert Decision.objects.filter(bill=bill).count() == 2
    d2 = bill.decisions.get(is_current=True)
    assert (d2.assistance, d2.assistance_difference, d2.retroactive_change_id) == (money("0.00"), money("-4000.00"), change.pk)
    change.refresh_from_db()
    assert change.status == "REDECIDING" and change.reviewed_at is None  # not reviewed before the reviewer approves
    approve(bill)
    change.refresh_from_db()
    assert (change.status, change.reviewed_by) == ("REVIEWED", staff["reviewer"])
    assert "追回4,000.00元" in change.review_note
    rec = Receivable.objects.get(source_key=Adjustment.objects.get(decision=d2).source_key)
    assert (rec.amount, rec.debtor_name) == (money("4000.00"), "周已付")
    # a reviewed change is never decided again
    assert "不再重新核定" in client.post(url, {"action": "redecide"}, follow=True).content.decode()
    assert Decision.objects.filter(bill=bill).count() == 2


def test_a_redecision_pending_is_not_the_base_of_the_next_difference(paid_then_ended, staff):
    from claims.services import bill_decide

    person, bill, d1, change = paid_then_ended
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="身份追溯终止")
    d3 = bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="再次核对")
    # measured against what was approved and paid (4,000.00), not against the pending 0.00
    assert d3.assistance_difference == money("-4000.00")


def test_an_agreed_line_of_a_paid_month_is_disputed_again_and_recovered_from_the_institution(make_person, one_stop,
                                                                                              apply_roster, staff, login):
    wang = make_person("王燕雨", categories=("DIBAO",))
    line = one_stop(wang, date(2025, 3, 2), "4000.00", confirm=True)
    sm = line.settlement_month
    payables_mark_paid(source_keys=[sm.source_key], paid_on=date(2025, 4, 10), user=staff["finance"])
    assert CapUsage.objects.get(person=wang, year=2025, scheme="INPATIENT").used == money("4000.00")
    apply_roster([(wang.id_number, "王燕雨", "低保", "双龙湖", "", "", "2025-02-28")], month=date(2025, 3, 1))
    change = RetroactiveChange.objects.get(person=wang)
    login(staff["district_clerk"]).post(reverse("claims:retroactive-detail", args=[change.pk]), {"action": "redecide"})
    line.refresh_from_db()
    assert (line.outcome, line.dispute, line.resolution, line.prior_payable) == ("DISPUTED", "NOT_ELIGIBLE", "", money("4000.00"))
    assert "身份追溯变化" in line.dispute_text and "低保对象身份提前终止" in line.dispute_text
    assert CapUsage.objects.get(person=wang, year=2025, scheme="INPATIENT").used == money("0.00")
    change.refresh_from_db()
    assert change.status == "REDECIDING"
    # the reviewer settles it (nothing payable): 4,000.00 is recovered from the institution
    with pytest.raises(ClaimsError):
        settlement_line_resolve(line_id=line.pk, user=staff["reviewer"], resolution="ADVANCED", note="机构坚持")
    settlement_line_resolve(line_id=line.pk, user=staff["reviewer"], resolution="NONE", note="身份已终止")
    adj = Adjustment.objects.get(settlement_line=line)
    assert (adj.kind, adj.payee_kind, adj.amount) == ("RECOVERY", "INSTITUTION", money("4000.00"))
    rec = Receivable.objects.get(source_key=adj.source_key)
    assert (rec.debtor_name, rec.amount) == (line.institution.name, money("4000.00"))
    change.refresh_from_db()
    assert change.status == "REVIEWED" and "追回4,000.00元" in change.review_note


def test_a_line_refused_for_no_identity_becomes_payable_when_the_identity_starts_earlier(make_person, one_stop, apply_roster,
                                                                                          staff):
    # 陈补: known as 因病致贫 only from December; her October line was disputed: no identity on that date
    chen = make_person("陈补", categories=("YINBING_ZHIPIN",), valid_from=date(2025, 12, 1))
    line = one_stop(chen, date(2025, 10, 8), "4000.00")
    assert line.dispute == "NOT_ELIGIBLE"
    settlement_line_resolve(line_id=line.pk, user=staff["reviewer"], resolution="NONE", note="结算日无身份")
    from claims.settlement import settlement_month_confirm

    settlement_month_confirm(month_id=line.settlement_month_id, user=staff["reviewer"])
    # the civil roster of October finds she was 低保 from 1 September
    apply_roster([(chen.id_number, "陈补", "低保", "双龙湖", "2025-09-01", "")], month=date(2025, 10, 1))
    change = RetroactiveChange.objects.get(person=chen)
    assert (change.status, change.lines_reached, change.amount_estimate) == ("OPEN", 1, money("4000.00"))
    from claims.services import retroactive_change_redecide

    retroactive_change_redecide(change_id=change.pk, user=staff["district_clerk"])
    line.refresh_from_db()
    assert line.pending and line.decided == money("4000.00") and line.prior_payable == money("0.00")
    settlement_line_resolve(line_id=line.pk, user=staff["reviewer"], resolution="ENGINE")
    adj = Adjustment.objects.get(settlement_line=line)
    assert (adj.kind, adj.amount) == ("TOP_UP", money("4000.00"))
    # the top-up is paid to the institution through the next fund request
    due = [p for p in payables(year=adj.created_at.year, month=adj.created_at.astimezone().month) if p.source_key == adj.source_key]
    assert [(p.payee_kind, p.payee_name, p.amount, p.spending) for p in due] == [
        ("INSTITUTION", line.institution.name, money("4000.00"), "INSTITUTION")]
    payables_mark_paid(source_keys=[adj.source_key], paid_on=date(2026, 1, 5), user=staff["finance"])
    adj.refresh_from_db()
    assert adj.paid_on == date(2026, 1, 5)
    assert CapUsage.objects.get(person=chen, year=2025, scheme="INPATIENT").used == money("4000.00")


def test_a_bill_sent_back_during_a_change_stays_that_changes_until_decided_and_approved(paid_then_ended, staff, approve):
    from claims.services import bill_decide, bill_return, retroactive_change_redecide

    person, bill, d1, change = paid_then_ended
    retroactive_change_redecide(change_id=change.pk, user=staff["district_clerk"])
    bill_return(bill_id=bill.pk, user=staff["reviewer"], reason="核对出院日期")
    change.refresh_from_db()
    assert change.status == "REDECIDING"
    d3 = bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    assert d3.retroactive_change_id == change.pk and d3.supersedes_id is not None
    approve(bill)
    change.refresh_from_db()
    bill.refresh_from_db()
    assert change.status == "REVIEWED" and bill.status == Bill.Status.REFUSED
    assert Adjustment.objects.get(decision=d3).amount == money("4000.00")
