"""A correction outside a roster that reaches back before today is a retroactive change like a roster's:
the decisions of the period it touches are found, measured, and decided again or closed with a reason
(应退尽退、应补尽补). Before, only rosters raised retroactive changes: a correction ending an identity
last year left the assistance paid in that year untouched and unseen."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from beneficiaries.corrections import correction_decide, correction_propose
from beneficiaries.models import Category, RetroactiveChange

pytestmark = pytest.mark.django_db


def _end(person, staff, valid_to):
    ident = person.identities.get()
    c = correction_propose(person=person, action="END", identity=ident, valid_to=valid_to,
                           reason="民政局来函：认定有误", document_ref="渝北民函〔2025〕9号", user=staff["district_clerk"])
    return correction_decide(correction_id=c.pk, user=staff["reviewer"], confirm=True)


def test_ending_an_identity_in_the_past_raises_a_change_that_reaches_the_paid_decision(
        people, staff, decided_bill, login):
    from claims.services import decision_approve, retroactive_change_redecide

    person = people["slh"]
    paid = decided_bill(person, settled_on=date(2025, 4, 9))
    decision_approve(bill_id=paid.pk, user=staff["reviewer"])
    before = decided_bill(person, settled_on=date(2025, 2, 9))
    decision_approve(bill_id=before.pk, user=staff["reviewer"])
    paid.refresh_from_db()
    assert paid.current_decision.assistance > 0

    correction = _end(person, staff, date(2025, 3, 31))

    change = RetroactiveChange.objects.get(person=person)
    assert change.correction == correction and change.roster_upload is None
    assert change.kind == "ENDED_EARLIER" and change.status == "OPEN"
    assert change.period_start == date(2025, 4, 1) and change.period_end == timezone.localdate()
    assert change.decisions_reached == 1 and change.amount_reached == paid.current_decision.assistance
    assert change.amount_estimate == -paid.current_decision.assistance  # to be recovered
    assert [h.to_status for h in change.status_changes.all()] == ["OPEN"]

    # the district sees it in the list, its source in words, and decides the reached bill again
    clerk = login(staff["district_clerk"])
    page = clerk.get(reverse("beneficiaries:retroactive-list")).content.decode()
    assert f"身份更正{correction.pk}号（渝北民函〔2025〕9号）" in page
    detail = clerk.get(reverse("claims:retroactive-detail", args=[change.pk])).content.decode()
    assert "名单外更正" in detail and "更正确认之日" in detail
    new = retroactive_change_redecide(change_id=change.pk, user=staff["district_clerk"]).decisions
    assert [d.bill_id for d in new] == [paid.pk]
    assert new[0].assistance == Decimal("0.00") and f"身份更正{correction.pk}号" in new[0].redecision_reason


def test_a_correction_that_touches_nothing_decided_is_closed_by_the_system(people, staff):
    _end(people["slh"], staff, date(2025, 3, 31))
    change = RetroactiveChange.objects.get(person=people["slh"])
    assert change.status == "AUTO_CLOSED" and change.decisions_reached == 0


def test_a_past_start_raises_a_change_and_a_future_end_raises_none(people, staff):
    tekun = Category.objects.get(code="TEKUN")
    c = correction_propose(person=people["slh"], action="START", category=tekun, valid_from=date(2025, 6, 1),
                           reason="复议决定给予特困身份", document_ref="渝北民复〔2026〕3号", user=staff["district_clerk"])
    correction_decide(correction_id=c.pk, user=staff["reviewer"], confirm=True)
    change = RetroactiveChange.objects.get(person=people["slh"])
    assert change.kind == "STARTED_EARLIER" and change.category == tekun
    assert change.period_start == date(2025, 6, 1) and change.correction_id == c.pk

    later = timezone.localdate() + timedelta(days=30)
    _end(people["hx"], staff, later)
    assert not RetroactiveChange.objects.filter(person=people["hx"]).exists()
