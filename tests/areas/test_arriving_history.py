"""A town that arrives brings its people's history through ``load_history`` (docs/areas.md, step 3;
docs/adoption.md): a history file naming 观音桥街道, which arrives from former 江北 on 1 June 2025.
The bills its old district decided before the arrival come in with --historic (as the old system
decided them), count against the caps from the first day, and the bureau's first own decision after
the arrival is made under former 江北's rules with what is left of the cap. The same bills in the
default mode (the bureau deciding them itself) are refused whole, in Chinese, with the hint."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError

from beneficiaries.models import Person
from claims.models import Bill, CapUsage, Decision
from tests.adoption.conftest import write
from tests.areas.test_policy_by_area import jiangbei_rules
from yfbz.areas import services as areas
from yfbz.areas.models import Area

pytestmark = pytest.mark.django_db

ARRIVAL = date(2025, 6, 1)
ID = "500112196203150436"


def history(historic: bool) -> dict:
    bill = {"ref": "JB1", "id_number": ID, "institution": "CQ01", "kind": "INPATIENT", "disease": None,
            "admitted_on": "2025-04-01", "settled_on": "2025-04-09", "total_cost": "15800.00",
            "in_policy_cost": "14000.00", "basic_paid": "9000.00", "critical_paid": "0.00"}
    if historic:
        bill.update({"scheme": "INPATIENT", "category": "DIBAO", "assistance": "3500.00"})
    return {
        "persons": [{"id_number": ID, "name": "江观音", "town": "观音桥街道",
                     "identities": [{"category": "DIBAO", "valid_from": "2023-05-01", "valid_to": None}]}],
        "institutions": [{"code": "CQ01", "name": "重庆医科大学附属第一医院", "level": 3}],
        "bills": [bill],
    }


@pytest.fixture
def arriving(towns):
    group = Area.objects.create(code="JB_TOWNS", name="原江北区镇街", kind=Area.Kind.GROUP)
    town = areas.add_town("GYQ", "观音桥街道", "街道", "YB", ARRIVAL, previous_district="JB", groups=[group])
    jiangbei_rules("0.6000")
    return town


def test_an_arriving_towns_history_counts_against_the_caps_from_the_first_day(arriving, load, tmp_path, decided_bill):
    load(write(tmp_path, history(historic=True)), historic=True)
    person = Person.objects.get(id_number=ID)
    assert person.town == arriving
    old = Decision.objects.get(bill__person=person)
    assert old.historic and old.town == arriving and old.assistance == Decimal("3500.00")
    assert CapUsage.objects.get(person=person, year=2025, scheme="INPATIENT").used == Decimal("3500.00")

    # the bureau's first own bill after the arrival: 江北's rules (provisional), the cap already used counted
    new = Decision.objects.get(bill=decided_bill(person, settled_on=date(2025, 7, 10), in_policy="5000.00", basic="0.00"))
    assert "JB_TOWNS" in new.policy_version and new.provisional
    assert CapUsage.objects.get(person=person, year=2025, scheme="INPATIENT").used == Decimal("3500.00") + new.assistance


def test_the_same_history_in_the_default_mode_is_refused_whole_with_the_hint(arriving, load, tmp_path):
    with pytest.raises(CommandError) as exc:
        load(write(tmp_path, history(historic=False)))
    message = str(exc.value)
    assert exc.value.returncode == 2 and "bills[0]" in message
    assert "观音桥街道当日隶属江北区，不属渝北区，不能录入票据" in message and "--historic" in message
    assert not Person.objects.filter(id_number=ID).exists() and not Bill.objects.exists()
