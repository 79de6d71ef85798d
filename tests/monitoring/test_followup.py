"""The follow-up loop: alerts reach the person's town, the town records what it did, a referral reaches
the department's officer and comes back; the district sees open, late and closed per town and
department; every page scoped by town (and department)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from beneficiaries.models import Category, Department
from monitoring.followup import add_working_days
from monitoring.models import Alert, AlertKind, Referral
from tests.conftest import valid_id

from .conftest import csv_bytes, row

pytestmark = pytest.mark.django_db

STRANGER = valid_id(date(1971, 4, 4), 902)


@pytest.fixture
def alerts(make_person, institutions, run_import, staff):
    dibao_hx = make_person("钱回兴", town="HX", categories=("DIBAO",))
    data = csv_bytes([
        row("F001", STRANGER, "孙居民", town="双龙湖街道", total="50000.00", in_policy="40000.00", basic="20000.00", critical="5000.00"),
        row("F002", dibao_hx, town="回兴"),
    ])
    code, out = run_import(data, apply=True)
    assert code == 0 and out["alerts"] == {"YJWJ": 1, "FDZZ": 1, "YBZP": 1}
    return {"ybzp": Alert.objects.get(kind=AlertKind.YBZP), "hx": dibao_hx}


def test_alerts_reach_only_their_town(alerts, staff):
    from django.test import Client

    c = Client()
    c.force_login(staff["slh_clerk"])
    body = c.get("/monitoring/").content.decode()
    assert "孙居民" in body and "钱回兴" not in body
    assert STRANGER not in body  # masked
    hx_alert = Alert.objects.filter(town__code="HX").first()
    assert c.get(f"/monitoring/alerts/{hx_alert.pk}/").status_code == 404
    resp = c.post(f"/monitoring/alerts/{hx_alert.pk}/action/", {"action": "CONTACTED", "done_on": "2025-07-01"})
    assert resp.status_code == 404 and hx_alert.follow_ups.count() == 0
    c.force_login(staff["hx_clerk"])
    body = c.get("/monitoring/").content.decode()
    assert "钱回兴" in body and "孙居民" not in body


def test_the_loop_through_a_referral_to_a_department_and_back(alerts, staff):
    from django.test import Client

    alert = alerts["ybzp"]
    civil = Department.objects.get(code="CIVIL")
    today = timezone.localdate()
    town = Client()
    town.force_login(staff["slh_clerk"])
    town.post(f"/monitoring/alerts/{alert.pk}/action/", {"action": "CONTACTED", "done_on": today.isoformat(), "note": "电话联系本人"})
    alert.refresh_from_db()
    assert alert.status == Alert.Status.FOLLOWING
    town.post(f"/monitoring/alerts/{alert.pk}/action/",
              {"action": "REFERRED", "done_on": today.isoformat(), "department": civil.pk, "note": "疑似符合低保边缘条件"})
    alert.refresh_from_db()
    assert alert.status == Alert.Status.REFERRED
    referral = Referral.objects.get(alert=alert)
    assert referral.department == civil and referral.status == Referral.Status.WAITING
    assert referral.due_on == add_working_days(today, 20)

    dept = Client()
    dept.force_login(staff["veterans_officer"])  # another department sees nothing of it
    assert "孙居民" not in dept.get("/monitoring/referrals/").content.decode()
    assert dept.get(f"/monitoring/referrals/{referral.pk}/").status_code == 404
    dept.force_login(staff["civil_officer"])
    home = dept.get("/").content.decode()
    assert "待认定的转介" in home
    assert "孙居民" in dept.get("/monitoring/referrals/").content.decode()
    dibian = Category.objects.filter(department=civil).exclude(code="DIBAO").first()
    resp = dept.post(f"/monitoring/referrals/{referral.pk}/outcome/", {
        "certified": "yes", "certified_from": today.isoformat(), "category": dibian.pk, "decided_on": today.isoformat()})
    assert resp.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CERTIFIED and referral.certified_from == today and referral.category == dibian
    alert.refresh_from_db()
    assert alert.status == Alert.Status.FOLLOWING  # back to the town
    assert alert.due_on == add_working_days(today, 10)

    town.post(f"/monitoring/alerts/{alert.pk}/action/", {"action": "HELPED_APPLY", "done_on": today.isoformat()})
    alert.refresh_from_db()
    assert alert.status == Alert.Status.CLOSED
    assert [h.to_status for h in alert.status_changes.order_by("at", "id")] == ["OPEN", "FOLLOWING", "REFERRED", "FOLLOWING", "CLOSED"]
    detail = town.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert "已认定" in detail and "已协助申请救助" in detail and "act-form" not in detail  # closed: no more actions


def test_refusals_name_what_is_missing(alerts, staff):
    from django.test import Client

    alert = alerts["ybzp"]
    c = Client()
    c.force_login(staff["slh_clerk"])
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    c.post(f"/monitoring/alerts/{alert.pk}/action/", {"action": "CONTACTED", "done_on": future})
    c.post(f"/monitoring/alerts/{alert.pk}/action/", {"action": "REFERRED", "done_on": "2025-07-01"})
    c.post(f"/monitoring/alerts/{alert.pk}/action/", {"action": "DECLINED", "done_on": "2025-07-01"})
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN and alert.follow_ups.count() == 0
    body = c.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert "晚于今天" in body or alert.follow_ups.count() == 0
    resp = c.post(f"/monitoring/alerts/{alert.pk}/action/", {"action": "CONTACTED", "done_on": "not-a-date"})
    assert resp.status_code == 400


def test_the_district_sees_open_late_and_closed_per_town_and_department(alerts, staff):
    from django.test import Client

    hx_alerts = Alert.objects.filter(town__code="HX")
    hx_alerts.update(due_on=timezone.localdate() - timedelta(days=1))  # past the deadline
    c = Client()
    c.force_login(staff["district_clerk"])
    body = c.get("/monitoring/overview/").content.decode()
    assert "回兴街道" in body and "双龙湖街道" in body
    from monitoring.followup import overview

    towns = {t["town__name"]: t for t in overview(staff["district_clerk"])["towns"]}
    assert towns["回兴街道"]["open"] == 2 and towns["回兴街道"]["late"] == 2
    assert towns["双龙湖街道"]["open"] == 1 and towns["双龙湖街道"]["late"] == 0
    late = c.get("/monitoring/?status=late").content.decode()
    assert "钱回兴" in late and "孙居民" not in late
    # the town clerk's own figures only
    mine = {t["town__name"] for t in overview(staff["slh_clerk"])["towns"]}
    assert mine == {"双龙湖街道"}


def test_alert_pages_name_institutions_not_their_codes(make_person, institutions, run_import, staff):
    from django.test import Client

    person = make_person("吴机构", town="SLH", categories=("DIBAO",))
    code, out = run_import(csv_bytes([
        row("N001", person, inst="YB01"),                      # the file gives only the code
        row("N002", person, inst="ZZ99", settled="2025-06-20"),  # a code the bureau does not know
    ]), apply=True)
    assert code == 0 and out["alerts"]["YJWJ"] >= 1
    c = Client()
    c.force_login(staff["slh_clerk"])
    alert = Alert.objects.filter(kind=AlertKind.YJWJ, person=person).order_by("pk").first()
    page = c.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert "渝北区人民医院" in page
    assert ">YB01<" not in page and "YB01" not in page.split('data-testid="figures"')[1]
    assert "ZZ99（本系统未登记的机构）" in page
    assert alert.figures["医疗机构"] == "渝北区人民医院"
