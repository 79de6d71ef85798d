"""Issue 16, defects 1, 2 and 5: a change covers its whole period (up to the day the roster takes
effect) for identities ending and starting early, reaches hand bills and one-stop lines alike, and
a change that reaches nothing is closed by the system — the list holds the work."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from beneficiaries.models import RetroactiveChange
from claims.selectors import decisions_affected_by

from .conftest import money

pytestmark = pytest.mark.django_db


def test_an_identity_started_early_reaches_a_bill_of_the_rosters_month_decided_before_it(make_person, decided_bill,
                                                                                          apply_roster):
    # 杨建 is known as 因病致贫重病患者 (70% inpatient); November's roster makes him 低保 (80%) from 1 October
    yang = make_person("杨建", categories=("YINBING_ZHIPIN",))
    bill = decided_bill(yang, settled_on=date(2025, 11, 5))
    assert bill.current_decision.assistance == money("3500.00")
    apply_roster([(yang.id_number, "杨建", "低保", "双龙湖", "2025-10-01", "")])
    change = RetroactiveChange.objects.get(person=yang)
    assert change.kind == "STARTED_EARLIER"
    assert (change.period_start, change.period_end) == (date(2025, 10, 1), timezone.localdate())
    assert [d.bill_id for d in decisions_affected_by(change)] == [bill.pk]
    assert (change.status, change.decisions_reached, change.amount_estimate) == ("OPEN", 1, money("500.00"))


def test_a_new_identity_without_a_certification_date_starting_on_the_first_records_a_change(make_person, decided_bill,
                                                                                             apply_roster):
    # 胡婷: 低保 with no 认定日期 in November's roster starts on 1 November; her bill of 10 November
    hu = make_person("胡婷", categories=("YINBING_ZHIPIN",))
    bill = decided_bill(hu, settled_on=date(2025, 11, 10))
    apply_roster([(hu.id_number, "胡婷", "低保", "双龙湖", "", "")])
    change = RetroactiveChange.objects.get(person=hu)
    assert (change.kind, change.period_start, change.period_end) == ("STARTED_EARLIER", date(2025, 11, 1), timezone.localdate())
    assert [d.bill_id for d in decisions_affected_by(change)] == [bill.pk]
    assert change.amount_estimate == money("500.00")


def test_an_agreed_one_stop_line_is_reached_by_an_identity_ended_before_it(make_person, one_stop, apply_roster, staff,
                                                                            login):
    wang = make_person("王燕雨", categories=("DIBAO",))
    line = one_stop(wang, date(2025, 3, 2), "4000.00", confirm=True)
    assert (line.outcome, line.payable) == ("AGREED", money("4000.00"))
    apply_roster([(wang.id_number, "王燕雨", "低保", "双龙湖", "", "", "2025-02-28")], month=date(2025, 3, 1))
    change = RetroactiveChange.objects.get(person=wang)
    assert (change.status, change.decisions_reached, change.lines_reached) == ("OPEN", 0, 1)
    assert (change.amount_reached, change.amount_estimate) == (money("4000.00"), money("-4000.00"))
    page = login(staff["district_clerk"]).get(reverse("claims:retroactive-detail", args=[change.pk])).content.decode()
    assert "YB01-0001" in page and "4,000.00" in page
    assert "该期间没有已核定的手工报销" not in page


def test_exits_that_reach_no_decision_are_closed_by_the_system_and_say_so(make_person, decided_bill, approve, apply_roster,
                                                                          staff, login):
    keep = make_person("在册甲", categories=("DIBAO",))
    paid = make_person("已付乙", categories=("DIBAO",))
    quiet = [make_person(f"无票{i}", categories=("DIBAO",)) for i in range(3)]
    bill = decided_bill(paid, settled_on=date(2025, 11, 3))
    approve(bill)
    # a November snapshot without 乙 and the three others: their identities end on 31 October
    apply_roster([(keep.id_number, keep.name, "低保", "双龙湖", "", "")], mode="snapshot")
    changes = {c.person_id: c for c in RetroactiveChange.objects.all()}
    assert len(changes) == 4
    reached = changes[paid.pk]
    assert (reached.status, reached.decisions_reached, reached.amount_reached, reached.amount_estimate) == (
        "OPEN", 1, money("4000.00"), money("-4000.00"))
    for p in quiet:
        c = changes[p.pk]
        assert c.status == "AUTO_CLOSED" and c.reviewed_by is None and "没有已核定" in c.review_note
        assert [(h.to_status, h.by) for h in c.status_changes.all()] == [("OPEN", None), ("AUTO_CLOSED", None)]
    # the list staff work from holds only the change that reaches a decision, with what it reaches
    page = login(staff["district_clerk"]).get(reverse("beneficiaries:retroactive-list")).content.decode()
    assert "已付乙" in page and "无票0" not in page
    assert "4,000.00" in page and "-4,000.00" in page
    every = login(staff["district_clerk"]).get(reverse("beneficiaries:retroactive-list") + "?state=all").content.decode()
    assert "无票0" in every and "系统关闭" in every
