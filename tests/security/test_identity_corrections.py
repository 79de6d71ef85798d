"""Identity corrections outside a roster: proposed with a reason and a document by a district clerk,
confirmed by a reviewer who did not propose it; the identity they make is shown as a correction on the
person page, in the audit trail and counted apart from roster changes."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from beneficiaries.corrections import correction_decide, correction_propose, monthly_identity_changes
from beneficiaries.models import Category, Identity, IdentityCorrection

pytestmark = pytest.mark.django_db


@pytest.fixture
def tekun():
    return Category.objects.get(code="TEKUN")


def test_a_correction_proposed_in_the_page_and_confirmed_by_a_reviewer_makes_a_correction_identity(
        people, staff, login, tekun):
    person = people["slh"]
    clerk = login(staff["district_clerk"])
    url = reverse("beneficiaries:person-correction", args=[person.pk])
    resp = clerk.post(url, {"action": "START", "category": tekun.pk, "valid_from": "2026-02-01",
                            "reason": "复议决定给予特困身份", "document_ref": "渝北民复〔2026〕3号"})
    assert resp.status_code == 302
    c = IdentityCorrection.objects.get()
    assert c.status == "PROPOSED" and not Identity.objects.filter(person=person, category=tekun).exists()
    # the proposer cannot confirm
    clerk.post(url, {"action": "confirm", "correction": c.pk})
    c.refresh_from_db()
    assert c.status == "PROPOSED"
    reviewer = login(staff["reviewer"])
    page = reviewer.get(reverse("beneficiaries:person-detail", args=[person.pk])).content.decode()
    assert "复议决定给予特困身份" in page and 'data-testid="correction-confirm"' in page
    reviewer.post(url, {"action": "confirm", "correction": c.pk})
    c.refresh_from_db()
    assert c.status == "CONFIRMED" and c.decided_by == staff["reviewer"]
    ident = Identity.objects.get(person=person, category=tekun)
    assert ident.source == Identity.Source.CORRECTION and ident.source_ref == f"身份更正{c.pk}号（渝北民复〔2026〕3号）"
    assert ident.valid_from == date(2026, 2, 1)
    page = reviewer.get(reverse("beneficiaries:person-detail", args=[person.pk])).content.decode()
    assert "名单外更正" in page and f"身份更正{c.pk}号" in page
    # in the audit trail, with who
    entry = LogEntry.objects.get_for_object(ident).get(action=LogEntry.Action.CREATE)
    assert entry.actor == staff["reviewer"]
    assert [h.to_status for h in c.status_changes.order_by("at", "id")] == ["PROPOSED", "CONFIRMED"]


def test_ending_an_identity_by_correction(people, staff):
    person = people["slh"]
    ident = person.identities.get()
    c = correction_propose(person=person, action="END", identity=ident, valid_to=date(2026, 1, 31),
                           reason="民政局来函：认定有误", document_ref="渝北民函〔2026〕9号", user=staff["district_clerk"])
    correction_decide(correction_id=c.pk, user=staff["reviewer"], confirm=True)
    ident.refresh_from_db()
    assert ident.valid_to == date(2026, 1, 31)


def test_a_reason_and_a_document_are_required_and_dates_are_plausible(people, staff, tekun):
    kw = {"person": people["slh"], "action": "START", "category": tekun, "user": staff["district_clerk"]}
    with pytest.raises(ValidationError, match="原因"):
        correction_propose(valid_from=date(2026, 1, 1), reason="", document_ref="x", **kw)
    with pytest.raises(ValidationError, match="依据文件"):
        correction_propose(valid_from=date(2026, 1, 1), reason="r", document_ref="", **kw)
    with pytest.raises(ValidationError, match="1900年至2100年"):
        correction_propose(valid_from=date(1, 1, 1), reason="r", document_ref="d", **kw)
    with pytest.raises(ValidationError, match="已有"):
        correction_propose(**{**kw, "category": Category.objects.get(code="DIBAO")}, valid_from=date(2026, 1, 1),
                           reason="r", document_ref="d")


def test_only_a_district_clerk_proposes_and_only_another_reviewer_confirms(people, staff, tekun):
    with pytest.raises(PermissionDenied):
        correction_propose(person=people["slh"], action="START", category=tekun, valid_from=date(2026, 1, 1),
                           reason="r", document_ref="d", user=staff["slh_clerk"])
    c = correction_propose(person=people["slh"], action="START", category=tekun, valid_from=date(2026, 1, 1),
                           reason="r", document_ref="d", user=staff["district_clerk"])
    with pytest.raises(PermissionDenied):
        correction_decide(correction_id=c.pk, user=staff["district_clerk"], confirm=True)
    with pytest.raises(ValidationError, match="原因"):
        correction_decide(correction_id=c.pk, user=staff["reviewer"], confirm=False)
    correction_decide(correction_id=c.pk, user=staff["reviewer"], confirm=False, note="依据不足")
    assert IdentityCorrection.objects.get().status == "REJECTED"
    assert not Identity.objects.filter(category=tekun).exists()


def test_corrections_are_counted_apart_from_roster_changes(people, staff, tekun):
    c = correction_propose(person=people["hx"], action="START", category=tekun, valid_from=date(2026, 1, 1),
                           reason="r", document_ref="d", user=staff["district_clerk"])
    correction_decide(correction_id=c.pk, user=staff["reviewer"], confirm=True)
    month = timezone.localdate().month
    counts = monthly_identity_changes(timezone.localdate().year)
    assert counts[month]["CORRECTION"] == 1
    assert counts[month]["ROSTER"] == 3  # the three people of the fixture (made like a roster would)


def test_the_reviewers_home_page_lists_corrections_waiting(people, staff, login, tekun):
    correction_propose(person=people["slh"], action="START", category=tekun, valid_from=date(2026, 1, 1),
                       reason="r", document_ref="d", user=staff["district_clerk"])
    page = login(staff["reviewer"]).get("/").content.decode()
    assert "待确认的名单外身份更正" in page
