"""Bills move ENTERED → DECIDED → APPROVED | REFUSED → PAID through one door; the enterer never
approves; provisional rules need the reviewer's tick; every move is recorded."""

from datetime import date
from decimal import Decimal

import pytest

from claims.models import Adjustment, Bill, BillStatusChange, CapUsage
from claims.selectors import payables
from claims.services import (
    ClaimsError,
    bill_decide,
    bill_return,
    decision_approve,
    decision_refuse,
    payables_mark_paid,
)

pytestmark = pytest.mark.django_db


def test_the_clerk_who_entered_a_bill_cannot_approve_it_even_with_the_reviewer_role(decided_bill, people, staff):
    from django.contrib.auth.models import Group

    clerk = staff["district_clerk"]
    clerk.groups.add(Group.objects.get(name="区医保审核"))
    bill = decided_bill(people["slh"])
    clerk = type(clerk).objects.get(pk=clerk.pk)  # fresh role cache
    with pytest.raises(ClaimsError, match="不能审批"):
        decision_approve(bill_id=bill.pk, user=clerk)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.DECIDED


def test_a_town_clerk_cannot_approve(decided_bill, people, staff):
    bill = decided_bill(people["slh"])
    with pytest.raises(ClaimsError, match="审核人员"):
        decision_approve(bill_id=bill.pk, user=staff["slh_clerk"])


def test_approval_makes_the_assistance_payable_and_every_move_is_recorded(decided_bill, people, staff):
    bill = decided_bill(people["slh"])  # DIBAO, level 2, base 5000 → 80% = 4000
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED
    assert d.assistance == Decimal("4000.00")
    today = d.reviewed_at.astimezone()
    due = payables(year=today.year, month=today.month)
    assert [(p.source_key, p.amount, p.fund, p.payee_kind) for p in due] == [
        (f"decision:{d.pk}:ASSISTANCE", Decimal("4000.00"), "ASSISTANCE", "PERSON")
    ]
    assert due[0].bank_account == "6228480000000001" and due[0].town_id == people["slh"].town_id
    moves = list(BillStatusChange.objects.filter(bill=bill).values_list("from_status", "to_status", "by__username"))
    assert moves == [("", "ENTERED", "district_clerk"), ("ENTERED", "DECIDED", "district_clerk"),
                     ("DECIDED", "APPROVED", "reviewer")]


def test_marking_paid_twice_pays_once_and_the_bill_becomes_paid(decided_bill, people, staff):
    bill = decided_bill(people["slh"])
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    key = f"decision:{d.pk}:ASSISTANCE"
    assert payables_mark_paid(source_keys=[key], paid_on=date(2025, 5, 1), user=staff["finance"]) == 1
    assert payables_mark_paid(source_keys=[key], paid_on=date(2025, 5, 2), user=staff["finance"]) == 0
    bill.refresh_from_db()
    d.refresh_from_db()
    assert bill.status == Bill.Status.PAID and d.assistance_paid_on == date(2025, 5, 1)
    at = d.reviewed_at.astimezone()
    assert payables(year=at.year, month=at.month) == []


def test_an_unknown_payable_key_refuses_the_whole_call(decided_bill, people, staff):
    bill = decided_bill(people["slh"])
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    with pytest.raises(ClaimsError, match="无法识别"):
        payables_mark_paid(source_keys=[f"decision:{d.pk}:ASSISTANCE", "bogus:1"], paid_on=date(2025, 5, 1),
                           user=staff["finance"])
    d.refresh_from_db()
    assert d.assistance_paid_on is None


def test_a_decision_that_pays_nothing_is_refused_on_approval(decided_bill, people, staff, make_person):
    student = make_person("钱学生", categories=("KUNNAN_DAXUESHENG",), birth=date(2004, 3, 1))
    bill = decided_bill(student)
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    bill.refresh_from_db()
    assert bill.status == Bill.Status.REFUSED


def test_the_reviewer_refusing_releases_the_cap(decided_bill, people, staff):
    bill = decided_bill(people["slh"])
    cap = CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT")
    assert cap.used == Decimal("4000.00")
    decision_refuse(bill_id=bill.pk, user=staff["reviewer"], code="PAPERS_NOT_GENUINE", reason="票据非原件")
    cap.refresh_from_db()
    assert cap.used == Decimal("0.00")


def test_returning_a_bill_releases_the_cap_and_it_can_be_decided_again(decided_bill, people, staff):
    bill = decided_bill(people["slh"])
    bill_return(bill_id=bill.pk, user=staff["reviewer"], reason="住院天数录错")
    assert CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT").used == Decimal("0.00")
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    assert CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT").used == Decimal("4000.00")


def test_a_major_disease_decision_under_the_provisional_rule_needs_the_reviewers_tick(decided_bill, make_person, staff):
    edge = make_person("孙边缘", categories=("DIBAO_BIANYUAN",))
    bill = decided_bill(edge, disease="肺癌")  # MAJ_37 only: provisional (POLICY.md §8.1)
    d = bill.current_decision
    assert d.scheme == "MAJOR_DISEASE" and d.provisional
    with pytest.raises(ClaimsError, match="暂行规则"):
        decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)
    d.refresh_from_db()
    assert d.provisional_confirmed


def test_redeciding_a_paid_bill_after_an_identity_was_ended_retroactively_opens_a_recovery(decided_bill, people, staff):
    from beneficiaries.models import Identity

    bill = decided_bill(people["slh"])
    d1 = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    payables_mark_paid(source_keys=[f"decision:{d1.pk}:ASSISTANCE"], paid_on=date(2025, 5, 1), user=staff["finance"])
    Identity.objects.filter(person=people["slh"]).update(valid_to=date(2025, 3, 31))  # roster correction
    d2 = bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="低保身份追溯终止于2025-03-31")
    assert d2.supersedes_id == d1.pk and d2.assistance == Decimal("0.00")
    assert d2.assistance_difference == Decimal("-4000.00")
    assert CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT").used == Decimal("0.00")
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    adj = Adjustment.objects.get(decision=d2)
    assert (adj.kind, adj.fund, adj.amount) == ("RECOVERY", "ASSISTANCE", Decimal("4000.00"))
    bill.refresh_from_db()
    assert bill.status == Bill.Status.REFUSED


def test_redeciding_upwards_pays_only_the_top_up(decided_bill, people, staff):
    from beneficiaries.models import Category, Identity

    bill = decided_bill(people["slh"], institution="CQ01")  # level 3: DIBAO 75% of 5000 = 3750
    d1 = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    assert d1.assistance == Decimal("3750.00")
    payables_mark_paid(source_keys=[f"decision:{d1.pk}"], paid_on=date(2025, 5, 1), user=staff["finance"])
    # found later: the person was also TEKUN on that date (80% at level 3 for IN_80_75 is 75% too),
    # so correct the entry instead: the institution was level 2
    bill.institution = bill.institution.__class__.objects.get(code="YB01")
    Bill.objects.filter(pk=bill.pk).update(institution=bill.institution)
    Identity.objects.create(person=people["slh"], category=Category.objects.get(code="TEKUN"), valid_from=date(2025, 1, 1))
    d2 = bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="医疗机构录入错误")
    assert d2.assistance == Decimal("4000.00") and d2.assistance_payable == Decimal("250.00")
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    d2.refresh_from_db()
    at = d2.reviewed_at.astimezone()
    due = payables(year=at.year, month=at.month)
    assert [(p.source_key, p.amount) for p in due] == [(f"decision:{d2.pk}:ASSISTANCE", Decimal("250.00"))]
    assert Adjustment.objects.get(decision=d2).kind == "TOP_UP"


def test_a_redecision_needs_a_reason(decided_bill, people, staff):
    bill = decided_bill(people["slh"])
    with pytest.raises(ClaimsError, match="原因"):
        bill_decide(bill_id=bill.pk, user=staff["district_clerk"])


def test_a_payment_of_a_decision_superseded_after_it_was_listed_is_recorded_and_carried_over(decided_bill, people, staff):
    bill = decided_bill(people["slh"])
    d1 = decision_approve(bill_id=bill.pk, user=staff["reviewer"])  # 4000 listed for payment
    d2 = bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="住院费用录入错误")
    # the bank had already paid the listed 4000: funding marks the old key paid
    assert payables_mark_paid(source_keys=[f"decision:{d1.pk}:ASSISTANCE"], paid_on=date(2025, 5, 1), user=staff["finance"]) == 1
    d2.refresh_from_db()
    assert d2.prior_paid_assistance == Decimal("4000.00") and d2.assistance_payable == Decimal("0.00")
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID  # nothing more due: the same 4000 was paid once


def test_a_retroactive_identity_change_redecides_the_decisions_in_its_period(decided_bill, people, staff, departments):
    from beneficiaries.models import Category, Identity, RetroactiveChange, RosterUpload
    from claims.services import retroactive_change_redecide

    in_period = decided_bill(people["slh"], settled_on=date(2025, 4, 9))
    outside = decided_bill(people["slh"], settled_on=date(2025, 2, 9))
    decision_approve(bill_id=in_period.pk, user=staff["reviewer"])
    Identity.objects.filter(person=people["slh"]).update(valid_to=date(2025, 3, 31))
    upload = RosterUpload.objects.create(department=departments["CIVIL"], month=date(2025, 4, 1), file_name="r.xlsx",
                                         sha256="x" * 64, uploaded_by=staff["district_clerk"])
    change = RetroactiveChange.objects.create(
        person=people["slh"], category=Category.objects.get(code="DIBAO"), period_start=date(2025, 4, 1),
        period_end=date(2025, 4, 30), kind="ENDED_EARLIER", roster_upload=upload)
    new = retroactive_change_redecide(change_id=change.pk, user=staff["district_clerk"]).decisions
    assert [d.bill_id for d in new] == [in_period.pk]
    assert new[0].assistance == Decimal("0.00") and "身份追溯变化" in new[0].redecision_reason
    outside.refresh_from_db()
    assert outside.current_decision.supersedes_id is None


def test_the_veterans_subsidy_is_a_separate_payable_from_its_own_fund(decided_bill, people, staff):
    from yfbz.policy.models import YoufuRule
    from yfbz.policy.services import bump_revision

    YoufuRule.objects.create(category="", ratio=Decimal("0.5"), threshold=Decimal("0"), annual_cap=Decimal("3000.00"),
                             effective_from=date(2025, 1, 2), source="测试：区级示例限额")
    bump_revision()
    bill = decided_bill(people["hx"])  # BINGGU_YISHU, IN_75: 5000 × 75% = 3750; youfu 50% of the 1250 left
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    assert (d.assistance, d.youfu_subsidy) == (Decimal("3750.00"), Decimal("625.00"))
    at = d.reviewed_at.astimezone()
    due = {p.fund: (p.source_key, p.amount, p.scheme) for p in payables(year=at.year, month=at.month)}
    assert due == {
        "ASSISTANCE": (f"decision:{d.pk}:ASSISTANCE", Decimal("3750.00"), "INPATIENT"),
        "YOUFU": (f"decision:{d.pk}:YOUFU", Decimal("625.00"), "YOUFU"),
    }
    payables_mark_paid(source_keys=[f"decision:{d.pk}:ASSISTANCE"], paid_on=date(2025, 5, 1), user=staff["finance"])
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED  # the subsidy is still owed
    payables_mark_paid(source_keys=[f"decision:{d.pk}:YOUFU"], paid_on=date(2025, 5, 2), user=staff["finance"])
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID
    assert CapUsage.objects.get(person=people["hx"], year=2025, scheme="YOUFU").used == Decimal("625.00")


def test_a_bill_that_breaks_a_rule_of_the_model_is_refused_in_chinese_naming_the_field(enter_bill, people):
    with pytest.raises(ClaimsError, match="政策范围内费用不能大于医疗总费用"):
        enter_bill(people["slh"], in_policy="14000.00", total="12000.00")
    assert not Bill.objects.exists()
