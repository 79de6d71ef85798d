"""Every decision, one-stop line, subsidy result and statistic fact records the town it was made
under, so a town changing district (or a person changing town) leaves earlier records where they
were (docs/areas.md)."""

from datetime import date
from decimal import Decimal

import pytest

from beneficiaries.towns import person_town_change
from claims.models import Decision
from claims.services import decision_approve
from yfbz.areas import services as areas
from yfbz.areas.tree import area_tree

pytestmark = pytest.mark.django_db

MOVE = date(2025, 7, 1)


def approve(bill, staff):
    return decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)


def test_a_town_moving_mid_year_keeps_its_earlier_decisions_and_statistics_in_the_old_district(
    make_person, decided_bill, enter_bill, one_stop, staff, towns, make_user
):
    from claims.services import bill_decide
    from reporting.build import refresh
    from reporting.cuts import Period
    from reporting.selectors import table
    from yfbz.areas.models import Area
    from yfbz.core.roles import Role

    p = make_person("统景人", town="TJ", categories=("TEKUN",))
    before = decided_bill(p, settled_on=date(2025, 3, 10), in_policy="5000.00", basic="0.00")
    approve(before, staff)
    line_before = one_stop(p, date(2025, 4, 10), "4000.00", confirm=True)
    areas.move_town(towns["TJ"], "BB", MOVE, source="划归北碚区")
    bb = Area.objects.get(code="BB")  # after the move, 北碚's staff enter, decide and approve
    bb_clerk, bb_reviewer = make_user("bb_clerk", Role.DISTRICT_CLERK, district=bb), make_user("bb_rev", Role.DISTRICT_REVIEWER, district=bb)
    after = enter_bill(p, settled_on=date(2025, 8, 10), in_policy="1000.00", basic="0.00", user=bb_clerk)
    bill_decide(bill_id=after.pk, user=bb_clerk)
    approve(after, {"reviewer": bb_reviewer})

    d1, d2 = Decision.objects.get(bill=before), Decision.objects.get(bill=after)
    assert d1.town == d2.town == towns["TJ"] == line_before.town
    tree = area_tree()
    assert tree.area(tree.district_of(d1.town_id, d1.settled_on)).code == "YB"
    assert tree.area(tree.district_of(d2.town_id, d2.settled_on)).code == "BB"

    while refresh()["changes"]:
        pass
    by_district = {r.key: r for r in table(Period(2025), "district").rows}
    assert set(by_district) == {"YB", "BB"}
    assert by_district["YB"].amount == d1.assistance + line_before.payable == Decimal("8000.00")
    assert by_district["BB"].amount == d2.assistance == Decimal("800.00")
    assert by_district["YB"].person_times == 2 and by_district["BB"].person_times == 1


def test_a_person_moving_between_towns_keeps_each_record_in_its_own_town(make_person, decided_bill, one_stop, staff, towns):
    from funding.models import SubsidyResult
    from funding.services.subsidies import enrolment_set, subsidy_run_execute, subsidy_run_start

    p = make_person("搬家人", town="SLH", categories=("DIBAO",))
    early = decided_bill(p, settled_on=date(2025, 5, 2), in_policy="3000.00", basic="1000.00")
    person_town_change(p, towns["HX"], date(2025, 6, 1), source_ref="迁移证明")
    late = decided_bill(p, settled_on=date(2025, 6, 2), in_policy="3000.00", basic="1000.00")
    line = one_stop(p, date(2025, 5, 20), "100.00")
    assert Decision.objects.get(bill=early).town == towns["SLH"] and early.town == towns["SLH"]
    assert Decision.objects.get(bill=late).town == towns["HX"] and late.town == towns["HX"]
    assert line.town == towns["SLH"]
    enrolment_set(person=p, year=2025, kind="RESIDENT_T1", user=staff["district_clerk"])
    subsidy_run_execute(run_id=subsidy_run_start(year=2025, user=staff["district_clerk"]).pk)
    assert SubsidyResult.objects.get(person=p, year=2025).town == towns["HX"]  # where they live on 31 December
