"""The demo data shows the move of the five northern towns to 北碚区 and an arriving town of former
江北 with its own example policy, provisional (docs/areas.md)."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from claims.models import Bill, Decision
from yfbz.areas.tree import area_tree
from yfbz.core.models import User
from yfbz.rules.codes import Reason

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_demo_moves_five_towns_and_brings_in_an_arriving_town_with_its_provisional_policy():
    out = io.StringIO()
    call_command("demo_data", people=120, stdout=out)
    tree = area_tree()
    bb, yb = tree.by_code("BB").id, tree.by_code("YB").id
    codes = {tid: code for tid, (code, _n) in tree.towns.items()}
    north = [t for t, c in codes.items() if c in ("TJ", "DW", "XL", "CZ", "DS")]
    assert len(north) == 5
    assert all(tree.district_of(t, date(2026, 1, 24)) == yb and tree.district_of(t, date(2026, 1, 25)) == bb for t in north)
    gyq = next(t for t, c in codes.items() if c == "GYQ")
    assert tree.district_of(gyq, date(2025, 6, 1)) == tree.by_code("JB").id
    assert tree.district_of(gyq, date(2026, 2, 1)) == yb

    bill = Bill.objects.get(note="演示数据：划入镇街")
    d = Decision.objects.get(bill=bill, is_current=True)
    assert d.ratio == Decimal("0.6000") and Reason.PROVISIONAL_RULE.value in d.reasons
    assert "JB_TOWNS" in d.policy_version

    # the staff on both sides of the border
    city, bb_clerk = User.objects.get(username="city"), User.objects.get(username="bb_clerk")
    assert Bill.objects.visible_to(city).count() == Bill.objects.count()
    assert set(Bill.objects.visible_to(bb_clerk).values_list("town__code", flat=True)) <= {"TJ", "DW", "XL", "CZ", "DS"}
    # re-runnable
    call_command("demo_data", people=120, stdout=out)
    assert Bill.objects.filter(note="演示数据：划入镇街").count() == 1
