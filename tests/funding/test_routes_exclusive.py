"""Routes (a) and (b) of the contribution subsidy are exclusive per person and year, in the database
(issue 10, finding 2). The 何秋 story: the town reported 何秋 as self-paid and the district approved
360.00; then an enrolment import said 是否自行缴费 = 否 — 何秋 must not land on the
town's tax-system list and be subsidised twice."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from openpyxl import Workbook

from funding import services
from funding.models import Enrolment, SubsidyRoute, TaxListSettlement
from funding.selectors import tax_list
from funding.services import FundingError
from funding.services.imports import enrolment_import

pytestmark = pytest.mark.django_db
YEAR = 2025  # the seed policy has contribution standards for 2025 (T1 400.00: 低保 90% = 360.00, as in the story)


def enrolment_file(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["公民身份号码", "姓名", "参保类型", "是否自行缴费"])
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def heqiu(make_person, staff, django_capture_on_commit_callbacks):
    """何秋 (低保, 双龙湖) and a neighbour 邻居 on the town's list; the year's subsidy run done."""
    he = make_person("何秋", categories=("DIBAO",))
    neighbour = make_person("邻居", categories=("DIBAO",))
    data = enrolment_file([(he.id_number, he.name, "一档", "否"), (neighbour.id_number, neighbour.name, "一档", "否")])
    enrolment_import(year=YEAR, data=data, user=staff["district_clerk"])
    with django_capture_on_commit_callbacks(execute=True):
        services.subsidy_run_start(year=YEAR, user=staff["district_clerk"])
    return he, neighbour


def approve_self_paid(person, staff):
    rep = services.selfpaid_report(person=person, year=YEAR, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"),
                                   bank_name="重庆农商行", bank_account="6214000011112222", account_holder=person.name,
                                   user=staff["slh_clerk"], today=date(YEAR, 7, 1))
    return services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(YEAR, 8, 5))


def confirm_list(towns, staff):
    return services.tax_list_confirm(year=YEAR, town_id=towns["SLH"].pk, payee_name="国家税务总局重庆市渝北区税务局",
                                     bank_name="国库", bank_account="270000001", user=staff["district_clerk"],
                                     on=date(YEAR, 9, 1))


def names(qs):
    return sorted(r.person.name for r in qs)


def test_heqiu_approved_by_route_b_stays_off_the_tax_list_after_an_enrolment_import(heqiu, staff, towns):
    he, neighbour = heqiu
    assert names(tax_list(staff["district_clerk"], year=YEAR, town_id=towns["SLH"].pk)) == ["何秋", "邻居"]
    rep = approve_self_paid(he, staff)
    assert (rep.status, rep.amount) == ("approved", Decimal("360.00"))
    assert SubsidyRoute.objects.get(person=he, year=YEAR).route == SubsidyRoute.Route.SELF_PAID

    # the insurance system's export says 否 for 何秋 again
    done = enrolment_import(year=YEAR, data=enrolment_file([(he.id_number, he.name, "一档", "否")]),
                            user=staff["district_clerk"])
    assert done.kept_self_paid == 1
    assert Enrolment.objects.get(person=he, year=YEAR).self_paid is True
    # and even with the flag cleared by hand in the database, the list leaves route (b) people out
    Enrolment.objects.filter(person=he, year=YEAR).update(self_paid=False)
    assert names(tax_list(staff["district_clerk"], year=YEAR, town_id=towns["SLH"].pk)) == ["邻居"]

    s = confirm_list(towns, staff)
    neighbour_amount = tax_list(staff["district_clerk"], year=YEAR, town_id=towns["SLH"].pk).get().amount
    assert (s.people, s.amount) == (1, neighbour_amount)
    assert SubsidyRoute.objects.get(person=neighbour, year=YEAR).route == SubsidyRoute.Route.TAX


def test_a_person_settled_by_the_tax_list_cannot_be_reported_self_paid(heqiu, staff, towns):
    he, _ = heqiu
    confirm_list(towns, staff)
    with pytest.raises(FundingError, match="途径一（税务代缴）和途径二（自缴后资助）不能同时享受") as exc:
        approve_self_paid(he, staff)
    assert "何秋2025年已由「税务代缴（途径一）」资助参保" in str(exc.value)


def test_route_b_approval_refused_when_route_a_was_recorded_after_the_report(heqiu, staff, towns):
    he, _ = heqiu
    rep = services.selfpaid_report(person=he, year=YEAR, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"),
                                   bank_name="重庆农商行", bank_account="6214000011112222", account_holder=he.name,
                                   user=staff["slh_clerk"], today=date(YEAR, 7, 1))
    # a reported person is not on the list; route (a) written behind the service's back (a bad import)
    settlement = TaxListSettlement.objects.create(year=YEAR, town=towns["SLH"], people=1, amount=Decimal("360.00"),
                                                  payee_name="税务局", bank_name="国库", bank_account="1",
                                                  confirmed_by=staff["district_clerk"], confirmed_on=date(YEAR, 7, 2))
    SubsidyRoute.objects.create(person=he, year=YEAR, route=SubsidyRoute.Route.TAX, settlement=settlement)
    with pytest.raises(FundingError, match="不能同时享受"):
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(YEAR, 8, 5))
    rep.refresh_from_db()
    assert rep.status == "reported"  # nothing half-applied


def test_the_database_refuses_both_routes_for_one_person_and_year(heqiu, staff, towns):
    he, _ = heqiu
    rep = approve_self_paid(he, staff)
    settlement = TaxListSettlement.objects.create(year=YEAR, town=towns["SLH"], people=1, amount=Decimal("360.00"),
                                                  payee_name="税务局", bank_name="国库", bank_account="1",
                                                  confirmed_by=staff["district_clerk"], confirmed_on=date(YEAR, 9, 1))
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO funding_subsidyroute (person_id, year, route, settlement_id, created_at) "
                    "VALUES (%s, %s, 'A', %s, now())", [he.pk, YEAR, settlement.pk])
    assert SubsidyRoute.objects.get(person=he, year=YEAR).report_id == rep.pk
