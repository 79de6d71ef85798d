"""Who sees what when a town changes district (docs/areas.md, docs/roles.md): scoping follows the
record's own town on the record's own date. A town clerk and the district staff of the old district
keep the records made before the move and no longer see later ones; the new district's staff see the
later ones; the city level (市级医保) sees both; the people of a town that left stay visible to the old
district, read-only."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from beneficiaries.models import Person
from claims.models import Bill, Decision, Notice
from reporting.models import Fact
from yfbz.areas import services as areas
from yfbz.areas.models import Area
from yfbz.core.roles import Role
from yfbz.core.scoping import check_changeable

pytestmark = pytest.mark.django_db

MOVE = date(2025, 7, 1)


@pytest.fixture
def border(make_person, decided_bill, enter_bill, make_user, staff, towns):
    """A 统景 person with a bill before and one after 统景 moves to 北碚区 on 1 July 2025 (entered and
    decided by 北碚's staff), and a 双龙湖 person who stays; the users on both sides of the border."""
    from claims.services import bill_decide

    tj = make_person("统景人", town="TJ", categories=("TEKUN",))
    slh = make_person("双龙湖人", town="SLH")
    before = decided_bill(tj, settled_on=date(2025, 3, 10), in_policy="5000.00", basic="0.00")
    ours = decided_bill(slh, settled_on=date(2025, 8, 3), in_policy="5000.00", basic="0.00")
    areas.move_town(towns["TJ"], "BB", MOVE, source="划归北碚区")
    bb = Area.objects.get(code="BB")
    bb_district = make_user("bb_district", Role.DISTRICT_CLERK, district=bb)
    after = enter_bill(tj, settled_on=date(2025, 8, 10), in_policy="1000.00", basic="0.00", user=bb_district)
    bill_decide(bill_id=after.pk, user=bb_district)
    after.refresh_from_db()
    users = {
        "tj_clerk": make_user("tj_clerk", Role.TOWN_CLERK, town="TJ"),  # the old district's clerk of 统景
        "tj_clerk_bb": make_user("tj_clerk_bb", Role.TOWN_CLERK, town="TJ", district=bb),  # 北碚's, after
        "slh_clerk": staff["slh_clerk"],
        "district": staff["district_clerk"],  # 渝北区 (the bureau's district)
        "bb_district": bb_district,
        "bb_reviewer": make_user("bb_reviewer", Role.DISTRICT_REVIEWER, district=bb),
        "city": make_user("city", Role.CITY),
    }
    return {"tj": tj, "slh": slh, "before": before, "after": after, "ours": ours, "users": users}


def bills_seen(user):
    return set(Bill.objects.visible_to(user).values_list("pk", flat=True))


def test_the_old_districts_clerk_keeps_the_records_before_the_move_and_loses_the_later_ones(border):
    u, before, after = border["users"], border["before"], border["after"]
    assert bills_seen(u["tj_clerk"]) == {before.pk}
    assert set(Decision.objects.visible_to(u["tj_clerk"]).values_list("bill_id", flat=True)) == {before.pk}
    # the 北碚 side's clerk of 统景 sees only what came after
    assert bills_seen(u["tj_clerk_bb"]) == {after.pk}
    assert bills_seen(u["slh_clerk"]) == {border["ours"].pk}


def test_district_staff_see_their_districts_records_and_the_city_sees_every_district(border):
    u, before, after, ours = border["users"], border["before"], border["after"], border["ours"]
    assert bills_seen(u["district"]) == {before.pk, ours.pk}
    assert bills_seen(u["bb_district"]) == {after.pk}
    assert bills_seen(u["city"]) == {before.pk, after.pk, ours.pk}
    assert Decision.objects.visible_to(u["bb_district"]).get().bill_id == after.pk


def test_a_person_whose_town_left_stays_visible_read_only_to_the_old_district(border):
    u, tj, slh = border["users"], border["tj"], border["slh"]
    assert set(Person.objects.visible_to(u["district"])) == {tj, slh}
    assert set(Person.objects.changeable_by(u["district"])) == {slh}
    with pytest.raises(PermissionDenied, match="已划出本区"):
        check_changeable(u["district"], tj)
    check_changeable(u["district"], slh)
    assert set(Person.objects.visible_to(u["bb_district"])) == {tj}
    assert set(Person.objects.changeable_by(u["bb_district"])) == {tj}


def test_the_pages_follow_the_records_town_and_date(border, login):
    u, before, after = border["users"], border["before"], border["after"]
    client = login(u["tj_clerk"])
    assert client.get(reverse("claims:bill-detail", args=[before.pk])).status_code == 200
    assert client.get(reverse("claims:bill-detail", args=[after.pk])).status_code == 404
    page = login(u["district"]).get(reverse("claims:bill-list")).content.decode()
    assert f"/claims/bills/{before.pk}/" in page and f"/claims/bills/{after.pk}/" not in page
    page = login(u["city"]).get(reverse("claims:bill-list")).content.decode()
    assert f"/claims/bills/{before.pk}/" in page and f"/claims/bills/{after.pk}/" in page


def test_statistics_facts_follow_the_district_of_their_date(border, staff):
    from claims.services import decision_approve
    from reporting.build import refresh

    for bill, reviewer in ((border["before"], staff["reviewer"]), (border["after"], border["users"]["bb_reviewer"])):
        decision_approve(bill_id=bill.pk, user=reviewer, confirm_provisional=True)
    while refresh()["changes"]:
        pass
    u, before, after = border["users"], border["before"], border["after"]
    assert set(Fact.objects.visible_to(u["tj_clerk"]).values_list("bill_id", flat=True)) == {before.pk}
    assert after.pk in set(Fact.objects.visible_to(u["bb_district"]).values_list("bill_id", flat=True))
    assert after.pk not in set(Fact.objects.visible_to(u["district"]).values_list("bill_id", flat=True))
    assert Notice.objects.visible_to(u["tj_clerk"]).filter(decision__bill=after).count() == 0


def test_with_one_district_over_every_town_nothing_changes_for_district_staff(staff, people):
    # the shipped tree (every town under 渝北区 from always): the district sees every row, as before
    q = Person.objects.visible_to(staff["district_clerk"])
    assert q.count() == Person.objects.count()
    assert "WHERE" not in str(q.query)


def test_the_old_district_reads_the_departed_persons_page_but_cannot_change_it(border, login, towns):
    u, tj, slh = border["users"], border["tj"], border["slh"]
    client = login(u["district"])
    page = client.get(reverse("beneficiaries:person-detail", args=[tj.pk])).content.decode()
    assert "该人员所在镇街已划出本区" in page and "统景人" in page
    resp = client.post(reverse("beneficiaries:person-town", args=[tj.pk]),
                       {"town": towns["SLH"].pk, "on": "2026-02-01", "source_ref": "迁移证明"})
    assert resp.status_code == 403
    assert tj.town_spans.count() == 0  # nothing written
    assert "该人员所在镇街已划出本区" not in client.get(reverse("beneficiaries:person-detail", args=[slh.pk])).content.decode()


def test_a_roster_sent_after_a_town_left_is_the_new_districts_to_review(border, upload_file, staff, login):
    """The every-door crawl found the 统景 clerk (渝北's) reading a row of a roster sent after 统景 left:
    a roster row is dated by its roster's month, like a bill by its settlement date."""
    from beneficiaries import services as rosters
    from beneficiaries.models import RosterRow
    from tests.beneficiaries.conftest import ids, roster_xlsx

    u = border["users"]
    march, august = ids(2, start=300), ids(2, start=400)
    before = upload_file(roster_xlsx([(march[0], "三月统景", "低保", "统景镇", "", ""),
                                      (march[1], "三月双龙湖", "低保", "双龙湖街道", "", "")]), month=date(2025, 3, 1)).upload
    after = upload_file(roster_xlsx([(august[0], "八月统景", "低保", "统景镇", "", ""),
                                     (august[1], "八月双龙湖", "低保", "双龙湖街道", "", "")]), month=date(2025, 8, 1)).upload
    for upload in (before, after):
        rosters.roster_submit(upload=upload, user=staff["civil_officer"])

    def rows(user):
        return set(RosterRow.objects.visible_to(user).filter(upload__in=[before, after], row_number__isnull=False).values_list("name", flat=True))

    assert rows(u["tj_clerk"]) == {"三月统景"}
    assert rows(u["tj_clerk_bb"]) == {"八月统景"}
    assert rows(u["bb_district"]) == {"八月统景"}
    assert rows(u["district"]) == {"三月统景", "三月双龙湖", "八月双龙湖"}
    assert rows(u["city"]) == {"三月统景", "三月双龙湖", "八月统景", "八月双龙湖"}
    client = login(u["tj_clerk"])
    assert client.get(reverse("beneficiaries:roster-detail", args=[after.pk])).status_code == 404
    assert "三月统景" in client.get(reverse("beneficiaries:roster-detail", args=[before.pk])).content.decode()
    # the old district's clerk cannot review the new district's rows; 北碚's clerk of 统景 can
    assert rosters.roster_rows_review(upload=after, user=u["tj_clerk"], accept=True) == 0
    assert rosters.roster_rows_review(upload=after, user=u["tj_clerk_bb"], accept=True) == 2  # 八月统景, 统景人 ended
