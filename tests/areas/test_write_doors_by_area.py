"""Write doors across a border (docs/areas.md): a bill, a decision, a correction or a subsidy change
about a person whose town, on the day it concerns, was no longer under the user's district is refused
with a Chinese message naming the person, the day, the town and the district that governs it; the
records stay readable; the same write for a day before the move, or by the new district's staff,
goes through."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from claims.models import Bill
from claims.services import bill_decide, decision_approve
from yfbz.areas import services as areas
from yfbz.areas.models import Area
from yfbz.core.errors import OUTSIDE_AREA, OutsideArea
from yfbz.core.roles import Role

pytestmark = pytest.mark.django_db

MOVE = date(2025, 7, 1)
REFUSED = "统景人2025年08月10日所在的统景镇当日隶属北碚区，不属渝北区，不能{what}"


@pytest.fixture
def moved(make_person, enter_bill, make_user, towns, staff):
    """统景人 of 统景镇, which moves to 北碚区 on 1 July 2025; a bill entered before the move for August."""
    tj = make_person("统景人", town="TJ", categories=("DIBAO",))
    pending = enter_bill(tj, settled_on=date(2025, 8, 10), in_policy="1000.00", basic="0.00")
    areas.move_town(towns["TJ"], "BB", MOVE, source="划归北碚区")
    bb = Area.objects.get(code="BB")
    return {"tj": tj, "pending": pending, "bb_clerk": make_user("bb_clerk", Role.DISTRICT_CLERK, district=bb),
            "bb_reviewer": make_user("bb_reviewer", Role.DISTRICT_REVIEWER, district=bb)}


def test_entering_a_bill_after_the_town_left_is_refused_and_before_it_goes_through(moved, enter_bill, staff):
    with pytest.raises(OutsideArea) as exc:
        enter_bill(moved["tj"], settled_on=date(2025, 8, 10), in_policy="900.00", basic="0.00")
    assert exc.value.template is OUTSIDE_AREA
    assert str(exc.value).startswith(REFUSED.format(what="录入票据")) and "由北碚区办理" in str(exc.value)
    assert Bill.objects.filter(person=moved["tj"]).count() == 1  # nothing written
    assert enter_bill(moved["tj"], settled_on=date(2025, 6, 30), in_policy="900.00", basic="0.00").town.code == "TJ"
    assert enter_bill(moved["tj"], settled_on=date(2025, 8, 11), in_policy="900.00", basic="0.00", user=moved["bb_clerk"])


def test_deciding_and_approving_are_the_new_districts(moved, staff):
    bill = moved["pending"]
    with pytest.raises(OutsideArea, match="不能核定"):
        bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    bill_decide(bill_id=bill.pk, user=moved["bb_clerk"])
    with pytest.raises(OutsideArea, match="不能审批"):
        decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    decision_approve(bill_id=bill.pk, user=moved["bb_reviewer"])
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED


def test_the_bill_form_says_why_in_chinese_and_reading_stays_possible(moved, login, staff, institutions):
    from tests.claims.test_views import bill_post

    client = login(staff["district_clerk"])
    data = bill_post(moved["tj"], institution=institutions["YB01"].pk, admitted_on="2025-08-01", settled_on="2025-08-10")
    resp = client.post(reverse("claims:bill-new"), {**data, "save": "1"})
    assert resp.status_code == 200 and REFUSED.format(what="录入票据") in resp.content.decode()
    assert Bill.objects.filter(person=moved["tj"]).count() == 1
    # the person stays readable; the August bill is 北碚's (not even shown), so its doors answer 404
    page = client.get(reverse("beneficiaries:person-detail", args=[moved["tj"].pk]))
    assert page.status_code == 200 and "统景人" in page.content.decode()
    assert client.post(reverse("claims:bill-redecide", args=[moved["pending"].pk]), {"reason": "补录"}).status_code == 404
    assert not moved["pending"].decisions.exists()


def test_an_identity_correction_for_a_day_after_the_move_is_refused(moved, staff):
    from beneficiaries.corrections import correction_propose
    from beneficiaries.models import Category

    tekun = Category.objects.get(code="TEKUN")
    with pytest.raises(ValidationError, match="不能提出身份更正"):
        correction_propose(person=moved["tj"], action="START", user=staff["district_clerk"], category=tekun,
                           valid_from=date(2025, 9, 1), reason="部门更正函", document_ref="民政更〔2025〕1号")
    # a period while 统景 was 渝北's: the history is the bureau's to correct
    c = correction_propose(person=moved["tj"], action="START", user=staff["district_clerk"], category=tekun,
                           valid_from=date(2025, 2, 1), valid_to=date(2025, 5, 31), reason="部门更正函",
                           document_ref="民政更〔2025〕2号")
    assert c.pk


def test_a_subsidy_change_for_a_year_the_town_ends_under_another_district_is_refused(moved, staff):
    from funding.services.subsidies import enrolment_set

    with pytest.raises(OutsideArea, match="不能登记参保"):
        enrolment_set(person=moved["tj"], year=2025, kind="RESIDENT_T1", user=staff["district_clerk"])
    enrolment_set(person=moved["tj"], year=2024, kind="RESIDENT_T1", user=staff["district_clerk"])
    enrolment_set(person=moved["tj"], year=2025, kind="RESIDENT_T1", user=moved["bb_clerk"])


def test_the_subsidy_page_offers_the_lists_of_the_towns_under_the_district_on_the_years_31_december(moved, staff):
    """Seen on the demo data in Chromium: the 2026 subsidy page of 渝北's finance officer offered 下载 links
    for the five towns that left on 2026-01-25 (each an empty sheet for them: the lists are by the town on
    31 December). A year's page offers the towns under the user's district that day; the new district's
    clerk gets the town for the years it is theirs."""
    from django.test import Client

    c = Client()
    c.force_login(staff["finance"])
    assert "统景镇" in c.get("/funding/subsidy/?year=2024").content.decode()  # 统景 was 渝北's on 2024-12-31
    page = c.get("/funding/subsidy/?year=2025").content.decode()
    assert "统景镇" not in page and "双龙湖街道" in page
    c.force_login(moved["bb_clerk"])
    assert "统景镇" in c.get("/funding/subsidy/?year=2025").content.decode()
