"""The payables contract (issue 10, finding 1): a fund request takes everything approved up to the end
of its month and not yet on a request, whatever month it was approved, settled or confirmed in — so
nothing approved is left unpaid for ever between months, and nothing is on two requests."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from claims.models import Decision, SettlementMonth
from claims.services import bill_decide, decision_approve
from claims.settlement import settlement_file_import, settlement_file_upload, settlement_month_confirm
from funding import services
from funding.models import PayableLine
from funding.payables import PROVIDERS

pytestmark = pytest.mark.django_db


def at(y, m, d, hour=15):
    return timezone.make_aware(datetime(y, m, d, hour, 0), timezone.get_current_timezone())


def approve(bill, staff, when):
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    d = decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    Decision.objects.filter(pk=d.pk).update(reviewed_at=when)  # approved on that day
    return d


def keys(req):
    return sorted(PayableLine.objects.filter(request=req).values_list("source_key", flat=True))


def test_claims_registers_its_provider_in_ready():
    from claims.selectors import payables
    from claims.services import payables_mark_paid

    assert PROVIDERS["claims"].payables is payables
    assert PROVIDERS["claims"].mark_paid is payables_mark_paid


def test_a_decision_approved_on_28_march_after_marchs_request_is_in_aprils(enter_bill, people, staff):
    clerk = staff["district_clerk"]
    early = approve(enter_bill(people["slh"], settled_on=date(2025, 3, 5)), staff, at(2025, 3, 10))
    march = services.fund_request_create(year=2025, month=3, user=clerk)
    assert keys(march) == [f"decision:{early.pk}:ASSISTANCE"]

    # approved on 28 March, after March's request was compiled
    late = approve(enter_bill(people["hx"], settled_on=date(2025, 3, 20)), staff, at(2025, 3, 28))
    april = services.fund_request_create(year=2025, month=4, user=clerk)
    assert keys(april) == [f"decision:{late.pk}:ASSISTANCE"]
    assert april.total_assistance == late.assistance > 0

    # never on two requests: May has nothing left to ask for
    with pytest.raises(services.FundingError, match="没有尚未申请"):
        services.fund_request_create(year=2025, month=5, user=clerk)
    # and a decision approved in April is not in a request compiled for March
    later = approve(enter_bill(people["slh"], settled_on=date(2025, 4, 2), in_policy="3000.00", basic="1000.00"), staff,
                    at(2025, 4, 3))
    with pytest.raises(services.FundingError, match="没有尚未申请"):
        services.fund_request_create(year=2025, month=3, user=clerk)
    assert keys(services.fund_request_create(year=2025, month=4, user=clerk)) == [f"decision:{later.pk}:ASSISTANCE"]


def _october_file(institution, person, user):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["结算编号", "公民身份号码", "姓名", "类型", "疾病", "入院日期", "结算日期", "医疗总费用", "政策范围内费用",
                "基本医保支付", "大病保险支付", "医疗救助垫付"])
    w.writerow(["O001", person.id_number, person.name, "住院", "", "", "2025-10-15", "10000.00", "10000.00", "5000.00",
                "0.00", "4000.00"])
    f = settlement_file_upload(institution=institution, month=date(2025, 10, 1), file_name="yb01-2025-10.csv",
                               data=buf.getvalue().encode("utf-8"), user=user)
    return settlement_file_import(file_id=f.pk, user=user)


def test_an_october_settlement_month_confirmed_in_november_is_in_novembers_request(institutions, people, staff):
    clerk = staff["district_clerk"]
    f = _october_file(institutions["YB01"], people["slh"], clerk)
    sm = settlement_month_confirm(month_id=f.settlement_month_id, user=staff["reviewer"])
    SettlementMonth.objects.filter(pk=sm.pk).update(confirmed_at=at(2025, 11, 5))
    assert sm.agreed_total == Decimal("4000.00")

    with pytest.raises(services.FundingError, match="没有尚未申请"):  # not confirmed by the end of October
        services.fund_request_create(year=2025, month=10, user=clerk)
    november = services.fund_request_create(year=2025, month=11, user=clerk)
    assert keys(november) == ["settlement:YB01:2025-10"]
    assert november.total_assistance == Decimal("4000.00")
    with pytest.raises(services.FundingError, match="没有尚未申请"):
        services.fund_request_create(year=2025, month=12, user=clerk)


def test_a_cancelled_request_frees_its_payables_for_the_next_month(enter_bill, people, staff):
    clerk = staff["district_clerk"]
    d = approve(enter_bill(people["slh"], settled_on=date(2025, 3, 5)), staff, at(2025, 3, 10))
    march = services.fund_request_create(year=2025, month=3, user=clerk)
    services.fund_request_cancel(request_id=march.pk, user=staff["reviewer"], reason="金额有误")
    assert keys(services.fund_request_create(year=2025, month=4, user=clerk)) == [f"decision:{d.pk}:ASSISTANCE"]
