"""Issue 10, finding 2 through the reconciliation's door: confirming a town's 代缴明细 settlement records
route (a) for every person settled (``SubsidyRoute``), so routes (a) and (b) stay exclusive per person and
year; a person paid by route (b) since the file was reconciled is flagged and never paid twice."""

from datetime import date
from decimal import Decimal

import pytest

from beneficiaries.models import Category
from funding import services
from funding.models import SubsidyRoute, TaxCategoryWording, TaxListSettlement, TaxReconciliationLine
from funding.services import FundingError
from tests.funding import test_tax_detail as _tax
from tests.funding import test_verify_books as _verify

pytestmark = pytest.mark.django_db
year_run = _tax.year_run  # the fixture: 2025's run for seven people of two towns

SLH = {"payee_name": "国家税务总局重庆市渝北区税务局", "bank_name": "国库", "bank_account": "0001"}


def imported(p, staff):
    TaxCategoryWording.objects.create(wording="城乡低保户（A类）", category=Category.objects.get(code="DIBAO"))
    return services.tax_reconciliation_import(year=2025, file_name="代缴明细2025.xlsx", data=_tax.detail(p),
                                              user=staff["district_clerk"])


def self_paid(person, staff, approve=True):
    rep = services.selfpaid_report(person=person, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"),
                                   bank_name="重庆农商行", bank_account="6214000011112222", account_holder=person.name,
                                   user=staff["slh_clerk"], today=date(2025, 7, 1))
    if approve:
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 8, 5))
    return rep


def routes():
    return dict(SubsidyRoute.objects.filter(year=2025).values_list("person__name", "route"))


def test_confirming_the_settlement_puts_everyone_settled_on_route_a_and_closes_route_b(year_run, staff):
    p, a = year_run, year_run["amount"]
    waiting = self_paid(p["dibao"], staff, approve=False)  # reported by the town, not yet decided
    rec = imported(p, staff)
    # reported for route (b) already: not agreed at import (both routes), so not settled by route (a)
    assert TaxReconciliationLine.objects.get(reconciliation=rec, kind="BOTH_ROUTES", name="低保甲")
    s = services.tax_reconciliation_settle(reconciliation_id=rec.pk, town_id=p["wording"].town_id, **SLH,
                                           user=staff["reviewer"], on=date(2025, 9, 1))
    assert (s.people, s.amount, s.flagged) == (1, a["wording"], [])
    assert routes() == {"写法辛": "A"}
    assert SubsidyRoute.objects.get(person=p["wording"]).settlement == s
    # route (b) is closed to a person settled by route (a): neither reported nor approved
    with pytest.raises(FundingError, match="写法辛2025年已由「税务代缴（途径一）」资助参保"):
        self_paid(p["wording"], staff)
    services.selfpaid_decide(report_id=waiting.pk, approve=True, user=staff["district_clerk"], on=date(2025, 9, 2))
    assert routes() == {"写法辛": "A", "低保甲": "B"}
    code, out = _verify.run_verify()
    assert code == 0, out


def test_a_person_paid_by_route_b_after_the_reconciliation_is_flagged_and_not_settled_again(year_run, staff):
    p, a = year_run, year_run["amount"]
    rec = imported(p, staff)
    assert {ln.name for ln in TaxReconciliationLine.objects.filter(reconciliation=rec, kind="AGREED")} == {"低保甲", "写法辛"}
    # the town reports 低保甲 as self-paid and the district approves it after the file was reconciled
    self_paid(p["dibao"], staff)
    s = services.tax_reconciliation_settle(reconciliation_id=rec.pk, town_id=p["dibao"].town_id, **SLH,
                                           user=staff["reviewer"], on=date(2025, 9, 1))
    assert (s.people, s.amount, s.flagged) == (1, a["wording"], ["低保甲"])  # 低保甲 not paid a second time
    line = TaxReconciliationLine.objects.get(reconciliation=rec, name="低保甲", row_no=4)
    assert line.kind == "BOTH_ROUTES"
    assert line.explanation.startswith("确认结算时此人2025年已按途径二（个人自缴后资助）资助，未计入本次税务代缴结算")
    rec.refresh_from_db()
    assert rec.counts["AGREED"] == 1 and rec.counts["BOTH_ROUTES"] == 2 and rec.agreed_total == a["wording"]
    assert routes() == {"低保甲": "B", "写法辛": "A"}
    code, out = _verify.run_verify()
    assert code == 0, out


def test_nothing_left_but_a_route_b_person_is_refused_naming_them_and_writes_nothing(year_run, staff):
    p = year_run
    rec = services.tax_reconciliation_import(year=2025, file_name="a.xlsx", data=_tax.detail(p),
                                             user=staff["district_clerk"])
    self_paid(p["dibao"], staff)
    with pytest.raises(FundingError, match="没有尚未结算的金额（另有低保甲已按途径二资助，不能再按税务代缴结算）"):
        services.tax_reconciliation_settle(reconciliation_id=rec.pk, town_id=p["dibao"].town_id, **SLH,
                                           user=staff["reviewer"])
    assert not TaxListSettlement.objects.exists() and routes() == {"低保甲": "B"}
