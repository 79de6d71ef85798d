"""Policy per area (docs/areas.md): every policy row applies to the city, a district or a set of towns
from its date, and the engine takes the rows of the areas of the person's town on the bill's date.
The shipped 2号 rows are the policy of the towns of former 渝北; a town of former 江北 that arrives has
no policy until the administrator enters 江北's rules (provisional), and until then its people's bills
are decided with a reason saying so, never with 渝北's figures."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from beneficiaries.towns import person_town_change
from claims.models import Decision
from yfbz.areas import services as areas
from yfbz.areas.models import Area
from yfbz.policy.models import GroupMembership, SchemeRule
from yfbz.rules.codes import Reason

pytestmark = pytest.mark.django_db

ARRIVAL = date(2025, 1, 1)
MOVE = date(2025, 6, 1)


@pytest.fixture
def jiangbei(towns):
    """观音桥街道 of former 江北 arrives in the bureau's district on 1 January 2025, in the set 原江北区镇街."""
    group = Area.objects.create(code="JB_TOWNS", name="原江北区镇街", kind=Area.Kind.GROUP)
    return areas.add_town("GYQ", "观音桥街道", "街道", "YB", ARRIVAL, previous_district="JB", groups=[group])


def jiangbei_rules(ratio="0.5000"):
    """The administrator enters former 江北's rules as data: 渝北's rows copied to 原江北区镇街 with
    江北's ratio, provisional until confirmed."""
    group = Area.objects.get(code="JB_TOWNS")
    for model in (GroupMembership, SchemeRule):
        for row in model.objects.filter(area__code="YB_TOWNS"):
            row.pk = None
            row.area = group
            row.status = "provisional"
            if model is SchemeRule:
                row.ratio_level1 = row.ratio_level2 = row.ratio_level3 = Decimal(ratio)
            row.save()


def test_the_shipped_policy_is_the_policy_of_the_towns_of_former_yubei():
    assert SchemeRule.objects.exists()
    assert set(SchemeRule.objects.values_list("area__code", flat=True)) == {"YB_TOWNS"}


def test_a_person_moving_between_towns_with_different_policies_one_bill_before_and_one_after(
    jiangbei, make_person, decided_bill, towns
):
    jiangbei_rules("0.5000")
    p = make_person("迁居人", town="SLH", categories=("DIBAO",))
    before = decided_bill(p, settled_on=date(2025, 3, 10), in_policy="5000.00", basic="0.00")
    person_town_change(p, jiangbei, MOVE, source_ref="迁移证明")
    after = decided_bill(p, settled_on=date(2025, 7, 10), in_policy="5000.00", basic="0.00")
    d1, d2 = Decision.objects.get(bill=before), Decision.objects.get(bill=after)
    assert d1.town == towns["SLH"] and d2.town == jiangbei
    # before: 2号 (渝北's figures, confirmed); after: 江北's provisional ratio of 50 %
    assert d1.ratio != Decimal("0.5000") and d1.assistance == Decimal("5000.00") * d1.ratio
    assert d2.ratio == Decimal("0.5000") and d2.assistance == Decimal("2500.00")
    assert "JB_TOWNS" in d2.policy_version and "JB_TOWNS" not in d1.policy_version
    assert Reason.PROVISIONAL_RULE.value in d2.reasons and Reason.PROVISIONAL_RULE.value not in d1.reasons


def test_an_area_with_no_policy_of_its_own_gets_a_decision_saying_so_not_yubeis_figures(
    jiangbei, make_person, decided_bill, staff, login
):
    p = make_person("观音桥人", town="SLH", categories=("DIBAO",))
    person_town_change(p, jiangbei, MOVE, source_ref="迁移证明")
    bill = decided_bill(p, settled_on=date(2025, 7, 10), in_policy="5000.00", basic="0.00")
    d = Decision.objects.get(bill=bill)
    assert d.assistance == Decimal("0.00") and d.scheme == ""
    assert d.reasons == [Reason.NO_POLICY_FOR_AREA.value]
    assert "尚无本局医疗救助政策" in d.explanation
    page = login(staff["district_clerk"]).get(reverse("claims:bill-detail", args=[bill.pk])).content.decode()
    assert "尚无本局医疗救助政策" in page
    # the same person, the same day, back in a town of former 渝北: 2号 applies
    q = make_person("双龙湖人", town="SLH", categories=("DIBAO",))
    other = decided_bill(q, settled_on=date(2025, 7, 10), in_policy="5000.00", basic="0.00")
    assert Decision.objects.get(bill=other).assistance > 0


def test_a_later_city_wide_row_supersedes_the_areas_own(jiangbei, make_person, decided_bill):
    """A future city-wide notice is one more policy row for the city area."""
    city = Area.objects.get(code="CQ")
    for row in SchemeRule.objects.filter(area__code="YB_TOWNS"):
        row.pk = None
        row.area = city
        row.effective_from = date(2025, 9, 1)
        row.ratio_level1 = row.ratio_level2 = row.ratio_level3 = Decimal("0.9000")
        row.save()
    p = make_person("市级人", town="SLH", categories=("DIBAO",))
    early = decided_bill(p, settled_on=date(2025, 8, 10), in_policy="1000.00", basic="0.00")
    late = decided_bill(p, settled_on=date(2025, 9, 10), in_policy="1000.00", basic="0.00")
    assert Decision.objects.get(bill=early).ratio != Decimal("0.9000")
    assert Decision.objects.get(bill=late).ratio == Decimal("0.9000")


def test_a_towns_sets_are_dated_a_bill_before_leaving_a_set_keeps_its_policy(jiangbei, make_person, decided_bill, towns,
                                                                             login, staff):
    """双龙湖 leaves 原渝北区镇街 on 1 June 2025 and joins 原江北区镇街 that day (镇街组合 with dates): a bill
    before is decided under 2号, a bill after under 江北's rules; the areas page shows the dates."""
    from yfbz.areas.tree import area_tree

    jiangbei_rules("0.5000")
    areas.group_leave("YB_TOWNS", towns["SLH"], MOVE, source="示例通知")
    areas.group_join("JB_TOWNS", towns["SLH"], MOVE, source="示例通知")
    tree = area_tree()
    codes = {g: tree.area(g).code for g in tree.group_towns}
    assert [codes[g] for g in tree.groups_of(towns["SLH"].pk, date(2025, 5, 31))] == ["YB_TOWNS"]
    assert [codes[g] for g in tree.groups_of(towns["SLH"].pk, MOVE)] == ["JB_TOWNS"]

    p = make_person("双龙湖人", town="SLH", categories=("DIBAO",))
    before = Decision.objects.get(bill=decided_bill(p, settled_on=date(2025, 5, 20), in_policy="5000.00", basic="0.00"))
    after = Decision.objects.get(bill=decided_bill(p, settled_on=date(2025, 6, 20), in_policy="5000.00", basic="0.00"))
    assert "JB_TOWNS" not in before.policy_version and before.ratio != Decimal("0.5000")
    assert "JB_TOWNS" in after.policy_version and after.ratio == Decimal("0.5000")

    with pytest.raises(areas.AreaError, match="不在“原渝北区镇街”中"):
        areas.group_leave("YB_TOWNS", towns["SLH"], date(2025, 8, 1))
    page = login(staff["district_clerk"]).get(reverse("areas:tree")).content.decode()
    assert "双龙湖街道（至2025-05-31）" in page and "双龙湖街道（2025-06-01起）" in page
