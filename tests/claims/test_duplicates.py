"""Duplicates (issue 10, finding 3): bill 151 re-entered exactly (same person, hospital, dates,
amounts) was decided again and paid twice with no warning. Now a bill matching an approved one is
refused; one matching a bill not yet approved is entered only with a written reason, shown on the
form with the bill it matches; a one-stop settlement line already decided as a bill pays nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from claims.models import Bill, SettlementLine
from claims.services import DUPLICATE_NEEDS_REASON, ClaimsError, bill_decide, bill_enter, decision_approve
from claims.settlement import settlement_file_import, settlement_file_upload

from .test_settlement import csv_bytes
from .test_views import bill_post

pytestmark = pytest.mark.django_db


def _approve(bill, staff):
    if bill.status == Bill.Status.ENTERED:
        bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    bill.refresh_from_db()
    return bill


def _enter_151(institutions, people, staff, login):
    client = login(staff["district_clerk"])
    data = bill_post(people["slh"], institution=institutions["YB01"].pk)
    client.post(reverse("claims:bill-new"), {**data, "save": "1"})
    return Bill.objects.get(), data, client


def test_bill_151_re_entered_exactly_after_approval_is_refused(institutions, people, staff, login):
    first, data, client = _enter_151(institutions, people, staff, login)
    _approve(first, staff)
    assert first.status == Bill.Status.APPROVED
    resp = client.post(reverse("claims:bill-new"), {**data, "save": "1", "duplicate_reason": "再录一次"})
    body = resp.content.decode()
    assert resp.status_code == 200 and f"票据{first.pk}" in body and "已审批" in body and "不能再次录入" in body
    assert Bill.objects.count() == 1
    with pytest.raises(ClaimsError, match="不能再次录入"):  # the service refuses too, whatever the form
        bill_enter(user=staff["district_clerk"], **{**_fields(first), "duplicate_reason": "理由"})


def _fields(bill):
    return {f: getattr(bill, f) for f in ("person", "institution", "kind", "disease", "admitted_on", "settled_on",
                                          "total_cost", "in_policy_cost", "basic_paid", "critical_paid")}


def test_bill_151_re_entered_before_approval_shows_the_match_and_needs_a_reason(institutions, people, staff, login):
    first, data, client = _enter_151(institutions, people, staff, login)
    assert first.status == Bill.Status.DECIDED
    resp = client.post(reverse("claims:bill-new"), {**data, "save": "1"})
    errors = resp.context["form"].errors["duplicate_reason"][0]
    assert f"票据{first.pk}" in errors and "14,000.00" in errors and "请在“重复录入理由”中写明理由" in errors
    assert Bill.objects.count() == 1
    with pytest.raises(ClaimsError) as caught:
        bill_enter(user=staff["district_clerk"], **_fields(first))
    assert caught.value.template is DUPLICATE_NEEDS_REASON

    resp = client.post(reverse("claims:bill-new"), {**data, "save": "1", "duplicate_reason": "同日两次住院，票据号不同"})
    second = Bill.objects.exclude(pk=first.pk).get()
    assert (second.duplicate_of, second.duplicate_reason) == (first, "同日两次住院，票据号不同")
    page = client.get(reverse("claims:bill-detail", args=[second.pk])).content.decode()
    assert "同日两次住院，票据号不同" in page and f"票据{first.pk}" in page


def test_a_different_amount_or_day_is_no_duplicate(institutions, people, staff, login):
    first, data, client = _enter_151(institutions, people, staff, login)
    _approve(first, staff)
    client.post(reverse("claims:bill-new"), {**data, "save": "1", "in_policy_cost": "13999.00"})
    client.post(reverse("claims:bill-new"), {**data, "save": "1", "settled_on": "2025-04-10"})
    assert Bill.objects.count() == 3 and not Bill.objects.exclude(duplicate_reason="").exists()


def test_a_settlement_line_already_approved_as_a_bill_pays_nothing(institutions, people, staff, login):
    first, data, client = _enter_151(institutions, people, staff, login)
    _approve(first, staff)
    p = people["slh"]
    row = ["S151", p.id_number, p.name, "住院", "", "2025-04-01", "2025-04-09", "15800.00", "14000.00", "9000.00", "0.00",
           "4000.00"]
    f = settlement_file_upload(institution=institutions["YB01"], month=date(2025, 4, 1), file_name="dup.csv",
                               data=csv_bytes([row]), user=staff["district_clerk"])
    settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    line = SettlementLine.objects.get()
    assert line.outcome == "DISPUTED" and line.dispute == "DUPLICATE" and line.payable == Decimal("0.00")
    assert f"手工报销票据{first.pk}" in line.dispute_text


def test_a_bill_matching_an_agreed_settlement_line_is_refused(institutions, people, staff, login):
    p = people["slh"]
    row = ["S152", p.id_number, p.name, "住院", "", "2025-04-01", "2025-04-09", "15800.00", "14000.00", "9000.00", "0.00",
           "4000.00"]
    f = settlement_file_upload(institution=institutions["YB01"], month=date(2025, 4, 1), file_name="ok.csv",
                               data=csv_bytes([row]), user=staff["district_clerk"])
    settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    assert SettlementLine.objects.get().outcome == "AGREED"
    client = login(staff["district_clerk"])
    resp = client.post(reverse("claims:bill-new"), {**bill_post(p, institution=institutions["YB01"].pk), "save": "1"})
    assert "一站式结算S152" in resp.content.decode() and not Bill.objects.exists()
