"""A person's page shows their warnings, referrals and applications (monitoring contributes the panel
through yfbz.core.hooks; beneficiaries imports no monitoring), each as the user may see it."""

import pytest
from django.test import Client
from django.utils import timezone

from beneficiaries.models import Department
from monitoring.followup import alert_act
from monitoring.models import Alert, AlertKind

from .conftest import csv_bytes, row

pytestmark = pytest.mark.django_db


def test_the_person_page_shows_warnings_referrals_and_applications(make_person, institutions, run_import, staff):
    from tests.monitoring.test_applications import register

    person = make_person("钱监测", town="SLH", categories=("DIBAO",))
    code, out = run_import(csv_bytes([row("P001", person, total="90000.00", in_policy="80000.00", basic="40000.00",
                                          critical="10000.00")]), apply=True)
    assert code == 0 and out["alerts"]["FDZZ"] == 1
    alert = Alert.objects.get(kind=AlertKind.FDZZ, person=person)
    alert_act(alert_id=alert.pk, user=staff["slh_clerk"], action="REFERRED", done_on=timezone.localdate(),
              department=Department.objects.get(code="CIVIL"), note="家庭困难")
    town = Client()
    town.force_login(staff["slh_clerk"])
    register(town, person, institutions["YB01"])

    page = town.get(f"/people/{person.pk}/").content.decode()
    assert 'data-testid="monitoring-panel"' in page
    assert "负担仍重" in page and "已转部门认定" in page  # the warning and its status
    assert "监测预警" in page and "待部门认定" in page  # the referral
    assert "医疗救助申请" in page and "待镇街审核资料" in page and "委托代办" in page  # the application
    assert f"/monitoring/alerts/{alert.pk}/" in page

    # a department officer sees the referral to their department, not the town's application
    dept = Client()
    dept.force_login(staff["civil_officer"])
    page = dept.get(f"/people/{person.pk}/").content.decode()
    assert "待部门认定" in page and "医疗救助申请" not in page


def test_a_person_with_nothing_shows_empty_tables(make_person, staff):
    person = make_person("孙平安", town="SLH", categories=("DIBAO",))
    c = Client()
    c.force_login(staff["slh_clerk"])
    page = c.get(f"/people/{person.pk}/").content.decode()
    assert "高额费用监测预警" in page and "为其登记医疗救助申请" in page
