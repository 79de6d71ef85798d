"""The database path (bills entered and decided through claims.services, identities and caps read
from the database, policy from yfbz.policy) gives the same decisions as `simulate` for
tests/samples/scenario-example.json."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from beneficiaries.models import Category, Identity, Person, PersonAttribute
from claims.models import Bill, CapUsage, Institution
from claims.services import bill_decide, bill_enter

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "scenario-example.json"


def load_scenario_into_db(data, towns, user):
    cats = {c.code: c for c in Category.objects.all()}
    people = {}
    for p in data["persons"]:
        idn = p["id_number"]
        person = Person.objects.create(
            id_number=idn, name=p["name"], birth_date=date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14])),
            sex="M" if int(idn[16]) % 2 else "F", town=towns["SLH"],
        )
        if (p.get("attributes") or {}).get("needs_maintenance_treatment"):
            PersonAttribute.objects.create(
                person=person, attribute="needs_maintenance_treatment", valid_from=date(1900, 1, 1), source="情景文件"
            )
        for i in p["identities"]:
            Identity.objects.create(
                person=person, category=cats[i["category"]], valid_from=date.fromisoformat(i["valid_from"]),
                valid_to=date.fromisoformat(i["valid_to"]) if i.get("valid_to") else None,
            )
        people[idn] = person
    insts = {
        i["code"]: Institution.objects.create(code=i["code"], name=i["name"], level=i["level"]) for i in data["institutions"]
    }
    bills = []
    for b in data["bills"]:
        bills.append(
            bill_enter(
                user=user, person=people[b["id_number"]], institution=insts[b["institution"]], kind=b["kind"],
                disease=b.get("disease") or "",
                admitted_on=date.fromisoformat(b["admitted_on"]) if b.get("admitted_on") else None,
                settled_on=date.fromisoformat(b["settled_on"]), total_cost=Decimal(b["total_cost"]),
                in_policy_cost=Decimal(b["in_policy_cost"]), basic_paid=Decimal(b["basic_paid"]),
                critical_paid=Decimal(b.get("critical_paid") or "0"), note=b["ref"],
            )
        )
    return bills


def test_database_decisions_equal_simulate_for_the_scenario_example(staff, towns):
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    out = StringIO()
    call_command("simulate", str(SAMPLE), stdout=out)
    simulated = {b["ref"]: b for b in json.loads(out.getvalue())["bills"]}

    bills = load_scenario_into_db(data, towns, staff["district_clerk"])
    for bill in bills:  # in settlement order, as the scenario runs them
        d = bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
        sim = simulated[bill.note]
        assert (d.scheme or None) == sim["scheme"], bill.note
        assert (d.category or None) == sim["category"], bill.note
        assert str(d.assistance) == sim["assistance"], bill.note
        assert str(d.base) == sim["base"], bill.note
        assert (None if d.cap_left_after is None else str(d.cap_left_after)) == sim["cap_left"], bill.note
        assert str(d.youfu_subsidy) == sim["youfu_subsidy"], bill.note
        assert [f"R{r}" for r in d.reasons] == [r.split()[0] for r in sim["reasons"]], bill.note
        assert d.policy_version == sim["policy_version"], bill.note
        assert d.provisional == bool(sim["provisional"]), bill.note
    # the database keeps the year's cap use exactly: TEKUN's two stays used the whole 10,000
    tekun = Person.objects.get(id_number=data["persons"][0]["id_number"])
    assert CapUsage.objects.get(person=tekun, year=2025, scheme="INPATIENT").used == Decimal("10000.00")
    assert Bill.objects.filter(status=Bill.Status.DECIDED).count() == len(bills)
