"""Policy that can be said as data, through the database (issue 10 item 7): dated person attributes
recorded by one person and confirmed by another, designated institutions, category age rules."""

from datetime import date
from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(db):
    from claims.models import Institution

    return Institution.objects.create(code="H901", name="测试二级医院", level=2)


def outpatient_bill(staff, person, inst, on):
    from claims.services import bill_decide, bill_enter

    bill = bill_enter(
        user=staff["district_clerk"], person=person, institution=inst, kind="OUTPATIENT", settled_on=on,
        total_cost=Decimal("1000.00"), in_policy_cost=Decimal("1000.00"), basic_paid=Decimal("500.00"),
    )
    return bill_decide(bill_id=bill.pk, user=staff["district_clerk"])


def test_needs_maintenance_from_july_moves_a_dibao_person_from_out_400_to_out_700(
    staff, make_person, make_user, hospital
):
    from django.contrib.auth.models import Group
    from django.core.exceptions import PermissionDenied, ValidationError

    from beneficiaries.services import person_attribute_decide, person_attribute_propose
    from yfbz.core.roles import Role

    both = make_user("clerk_and_reviewer", Role.DISTRICT_CLERK)
    both.groups.add(Group.objects.get(name=Role.DISTRICT_REVIEWER.value))
    p = make_person("赵低保", categories=("DIBAO",))
    span = person_attribute_propose(
        person=p, attribute="needs_maintenance_treatment", valid_from=date(2025, 7, 1), valid_to=None,
        source="区卫健委认定〔2025〕17号", user=both,
    )
    # proposed, not yet confirmed: it does not count
    assert outpatient_bill(staff, p, hospital, date(2025, 7, 2)).group == "OUT_400"
    with pytest.raises(PermissionDenied):
        person_attribute_decide(span_id=span.pk, approve=True, user=staff["district_clerk"])
    with pytest.raises(ValidationError, match="经办与审核分离"):
        person_attribute_decide(span_id=span.pk, approve=True, user=both)
    person_attribute_decide(span_id=span.pk, approve=True, user=staff["reviewer"])
    june = outpatient_bill(staff, p, hospital, date(2025, 6, 30))
    july = outpatient_bill(staff, p, hospital, date(2025, 7, 3))
    assert june.group == "OUT_400"
    # D4: OUT_700's limit less all the outpatient scheme paid this year (350 + 50)
    assert (july.group, july.assistance) == ("OUT_700", Decimal("300.00"))


def test_overlapping_spans_of_one_attribute_are_refused(staff, make_person):
    from django.core.exceptions import ValidationError

    from beneficiaries.services import person_attribute_propose

    p = make_person("钱低保", categories=("DIBAO",))
    kw = {"person": p, "attribute": "needs_maintenance_treatment", "source": "认定书", "user": staff["district_clerk"]}
    person_attribute_propose(valid_from=date(2025, 1, 1), valid_to=date(2025, 6, 30), **kw)
    with pytest.raises(ValidationError, match="重叠"):
        person_attribute_propose(valid_from=date(2025, 6, 1), valid_to=None, **kw)
    person_attribute_propose(valid_from=date(2025, 7, 1), valid_to=None, **kw)


def test_the_person_page_records_and_confirms_an_attribute(staff, make_person, client):
    from beneficiaries.models import PersonAttribute

    p = make_person("孙低保", categories=("DIBAO",))
    client.force_login(staff["district_clerk"])
    client.post(f"/people/{p.pk}/attributes", {
        "action": "propose", "attribute": "needs_maintenance_treatment", "valid_from": "2025-07-01", "source": "认定书7号",
    })
    span = PersonAttribute.objects.get(person=p)
    assert span.status == "PROPOSED"
    client.force_login(staff["reviewer"])
    page = client.get(f"/people/{p.pk}/").content.decode()
    assert "需院外维持治疗的重病患者" in page and "待复核" in page
    client.post(f"/people/{p.pk}/attributes", {"action": "confirm", "span": span.pk})
    span.refresh_from_db()
    assert span.status == "CONFIRMED" and span.confirmed_by == staff["reviewer"]


def test_a_bill_at_an_institution_not_designated_on_its_date_gets_no_major_disease_assistance(staff, make_person):
    from claims.models import Institution
    from claims.services import bill_decide, bill_enter
    from yfbz.rules import Reason

    p = make_person("李孤儿", categories=("SANJU_GUER",))
    inst = Institution.objects.create(code="H902", name="市外医院", level=2, designated_to=date(2025, 5, 31))

    def stay(on):
        bill = bill_enter(
            user=staff["district_clerk"], person=p, institution=inst, kind="INPATIENT", settled_on=on, disease="肺癌",
            total_cost=Decimal("30000.00"), in_policy_cost=Decimal("30000.00"), basic_paid=Decimal("10000.00"),
        )
        return bill_decide(bill_id=bill.pk, user=staff["district_clerk"])

    may, june = stay(date(2025, 5, 20)), stay(date(2025, 6, 20))
    assert (may.scheme, may.assistance) == ("MAJOR_DISEASE", Decimal("15000.00"))
    assert june.scheme == "INPATIENT"  # the ordinary inpatient scheme still pays (80 %, capped)
    major = next(c for c in june.considered if c["scheme"] == "MAJOR_DISEASE")
    assert Reason.NOT_DESIGNATED_INSTITUTION in major["reasons"]


def test_the_roster_warning_for_an_age_category_comes_from_policy_data(db):
    from beneficiaries.models import Category
    from beneficiaries.rosters.checking import _category_min_ages

    cats = {c.pk: c for c in Category.objects.all()}
    ages = {cats[pk].code: age for pk, age in _category_min_ages(cats, date(2025, 3, 31)).items()}
    assert ages == {"NONGCUN_60": 60}


def test_ending_an_attribute_is_proposed_then_confirmed_with_a_history(staff, make_person):
    from beneficiaries.services import (
        person_attribute_decide,
        person_attribute_propose,
        person_attribute_propose_end,
    )
    from yfbz.core.workflow import history_of
    from yfbz.policy.inputs import person_for_engine

    p = make_person("周低保", categories=("DIBAO",))
    span = person_attribute_propose(
        person=p, attribute="needs_maintenance_treatment", valid_from=date(2025, 1, 1), valid_to=None,
        source="认定书1号", user=staff["district_clerk"],
    )
    person_attribute_decide(span_id=span.pk, approve=True, user=staff["reviewer"])
    person_attribute_propose_end(span_id=span.pk, valid_to=date(2025, 8, 31), source="复查不再需要", user=staff["district_clerk"])
    # the end awaits review: the span still counts with no end
    assert "needs_maintenance_treatment" in person_for_engine(p).attributes_on(date(2025, 10, 1))
    person_attribute_decide(span_id=span.pk, approve=True, user=staff["reviewer"])
    engine = person_for_engine(p)
    assert "needs_maintenance_treatment" in engine.attributes_on(date(2025, 8, 31))
    assert "needs_maintenance_treatment" not in engine.attributes_on(date(2025, 9, 1))
    assert [(h.from_status, h.to_status) for h in history_of(span)] == [
        ("", "PROPOSED"), ("PROPOSED", "CONFIRMED"), ("CONFIRMED", "ENDING"), ("ENDING", "CONFIRMED"),
    ]
