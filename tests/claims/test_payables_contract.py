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


def _second_october_file(institution, person, user):
    data = ("结算编号,公民身份号码,姓名,类型,疾病,入院日期,结算日期,医疗总费用,政策范围内费用,基本医保支付,大病保险支付,医疗救助垫付\n"
            f"O002,{person.id_number},{person.name},住院,,,2025-10-20,1000.00,1000.00,500.00,0.00,400.00\n").encode()
    f = settlement_file_upload(institution=institution, month=date(2025, 10, 1), file_name="yb01-2025-10-补.csv", data=data,
                               user=user)
    return settlement_file_import(file_id=f.pk, user=user)


def test_a_reviewer_reopens_a_confirmed_month_and_its_next_confirmation_is_requested_anew(institutions, people, staff):
    from claims.services import ClaimsError, payables_mark_paid
    from claims.settlement import settlement_month_reopen
    from yfbz.core.books import verify
    from yfbz.core.workflow import history_of

    clerk, reviewer = staff["district_clerk"], staff["reviewer"]
    f = _october_file(institutions["YB01"], people["slh"], clerk)
    sm = settlement_month_confirm(month_id=f.settlement_month_id, user=reviewer)
    SettlementMonth.objects.filter(pk=sm.pk).update(confirmed_at=at(2025, 11, 5))
    november = services.fund_request_create(year=2025, month=11, user=clerk)
    assert keys(november) == ["settlement:YB01:2025-10"]

    with pytest.raises(ClaimsError, match="请填写重新打开的原因"):
        settlement_month_reopen(month_id=sm.pk, user=reviewer, reason=" ")
    sm = settlement_month_reopen(month_id=sm.pk, user=reviewer, reason="机构补报一笔住院结算")
    assert sm.status == "OPEN" and sm.source_key == "settlement:YB01:2025-10:r1"
    line = PayableLine.objects.get(source_key="settlement:YB01:2025-10")
    assert line.status == "withdrawn" and "机构补报一笔住院结算" in line.withdrawn_reason
    last = list(history_of(sm))[-1]
    assert (last.from_status, last.to_status, last.reason, last.by) == ("CONFIRMED", "OPEN", "机构补报一笔住院结算", reviewer)

    # the missing file comes in, the month is confirmed again in December: December's request asks for it
    _second_october_file(institutions["YB01"], people["slh"], clerk)
    sm = settlement_month_confirm(month_id=sm.pk, user=reviewer)
    SettlementMonth.objects.filter(pk=sm.pk).update(confirmed_at=at(2025, 12, 3))
    assert sm.agreed_total == Decimal("4000.00") + Decimal("400.00")
    with pytest.raises(services.FundingError, match="没有尚未申请"):
        services.fund_request_create(year=2025, month=11, user=clerk)
    december = services.fund_request_create(year=2025, month=12, user=clerk)
    assert keys(december) == ["settlement:YB01:2025-10:r1"] and december.total_assistance == Decimal("4400.00")
    assert verify().ok, verify().findings

    # paid: the month can no longer be reopened; the old key can never be marked paid
    with pytest.raises(ClaimsError, match="已重新打开"):
        payables_mark_paid(source_keys=["settlement:YB01:2025-10"], paid_on=date(2025, 12, 20), user=staff["finance"])
    assert payables_mark_paid(source_keys=["settlement:YB01:2025-10:r1"], paid_on=date(2025, 12, 20), user=staff["finance"]) == 1
    with pytest.raises(ClaimsError, match="只有已确认待支付的月份可以重新打开"):
        settlement_month_reopen(month_id=sm.pk, user=reviewer, reason="再改")
    assert [h.to_status for h in history_of(sm)] == ["CONFIRMED", "OPEN", "CONFIRMED", "PAID"]
