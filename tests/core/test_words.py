"""Codes reach users only in words (issue 11): the audit trail's actions, field names and coded values;
a self-paid check's refusal; the bill page's reasons."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def test_the_audit_log_names_actions_fields_and_coded_values_in_chinese(people, staff, login):
    from funding.models import Enrolment

    e = Enrolment.objects.create(person=people["slh"], year=2025, kind="RESIDENT_T1")
    e.kind = "EMPLOYEE_INDIVIDUAL"
    e.save()
    client = login(staff["auditor"])
    page = client.get(reverse("audit-log"), {"object": "2025 "}).content.decode()
    assert "新增" in page and "修改" in page
    assert "参保类型" in page and "城乡居民医保一档 → 以个人身份参加职工医保" in page
    for raw in ("RESIDENT_T1", "EMPLOYEE_INDIVIDUAL", ">create<", ">update<", "None"):
        assert raw not in page, raw
    rows = list(load_workbook(io.BytesIO(client.get(reverse("audit-export"), {"object": "2025 "}).content)).active
                .iter_rows(min_row=2, values_only=True))
    assert {r[3] for r in rows} == {"新增", "修改"}
    assert any("参保类型：城乡居民医保一档 → 以个人身份参加职工医保" in (r[6] or "") for r in rows)


def test_a_self_paid_report_with_nothing_to_pay_says_why_in_words(make_person, staff):
    from funding import services
    from funding.services import FundingError

    p = make_person("无身份", town="SLH", categories=())
    rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"),
                                   bank_name="农行", bank_account="6228000000000009", account_holder="无身份",
                                   user=staff["slh_clerk"], today=date(2025, 3, 1))
    with pytest.raises(FundingError) as exc:
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 20))
    assert "原因代码" not in str(exc.value) and not any(ch.isdigit() for ch in str(exc.value).split("无可资助金额")[1])
    assert "当年无享受资助参保的身份" in str(exc.value)
