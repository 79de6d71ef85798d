"""Statutory returns on the hand-worked year of conftest.py: prepared by one, approved by another
once the tie-out passes; an approved return is locked and a late decision makes a new version that
says what changed; the tie-out refuses approval when the ledger and the decisions disagree; the
return as xlsx and PDF (read back)."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting.cuts import Period
from reporting.models import StatReturn
from reporting.returns import ReturnError, return_approve, return_cancel, return_prepare

pytestmark = pytest.mark.django_db
Q2 = Period(2025, quarter=2)


def total_row(ret) -> list:
    return next(r["values"] for r in ret.figures["rows"] if r["label"] == "合计")


def late_bill(staff, *, settled=date(2025, 5, 20), in_policy="1000.00", basic="500.00"):
    """李秀英's outpatient bill decided and approved after the quarter's return."""
    from beneficiaries.models import Person
    from claims.models import Institution
    from claims.services import bill_decide, bill_enter, decision_approve

    li = Person.objects.get(name="李秀英")
    bill = bill_enter(user=staff["district_clerk"], person=li, institution=Institution.objects.get(code="YB01"),
                      kind="OUTPATIENT", disease="", admitted_on=None, settled_on=settled, total_cost=Decimal(in_policy),
                      in_policy_cost=Decimal(in_policy), basic_paid=Decimal(basic), critical_paid=Decimal("0.00"))
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    return decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)


def test_prepared_by_one_approved_by_another_and_locked(year_2025, staff):
    ret = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    assert ret.status == StatReturn.Status.PREPARED and ret.version == 1 and ret.tie_out_ok
    # Q2: E1 (April, INPATIENT 4,000) and E3 (May, OUTPATIENT 280 + veterans' 60): 2 people, 2 person-times
    values = total_row(ret)
    assert values[0] == 2  # people
    cols = ret.figures["columns"]
    assert values[cols.index("普通疾病门诊医疗救助|金额")] == "280.00"
    assert values[cols.index("普通疾病住院医疗救助|金额")] == "4000.00"
    assert values[cols.index("合计|人次")] == 2 and values[cols.index("合计|金额")] == "4280.00"
    assert values[cols.index("优抚对象医疗补助|金额")] == "60.00"
    with pytest.raises(ReturnError, match="填表人不能审核"):
        return_approve(return_id=ret.pk, user=staff["district_clerk"], responsible="张局长")
    with pytest.raises(ReturnError, match="区医保审核或财务"):
        return_approve(return_id=ret.pk, user=staff["auditor"], responsible="张局长")
    ret = return_approve(return_id=ret.pk, user=staff["reviewer"], responsible="张局长")
    ret.refresh_from_db()
    assert (ret.status, ret.approved_by.username, ret.responsible) == ("APPROVED", "reviewer", "张局长")
    assert [h.to_status for h in ret.status_changes.all()] == ["PREPARED", "APPROVED"]
    with pytest.raises(Exception):  # noqa: B017 - the workflow refuses any move out of APPROVED but a correction
        return_cancel(return_id=ret.pk, user=staff["reviewer"], reason="试图作废已审核报表")


def test_a_late_decision_leaves_the_approved_return_unchanged_and_makes_a_new_version(year_2025, staff):
    v1 = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    return_approve(return_id=v1.pk, user=staff["reviewer"], responsible="张局长")
    frozen = StatReturn.objects.get(pk=v1.pk).figures
    d = late_bill(staff)  # settled in May, approved now
    assert d.assistance == Decimal("20.00")  # the outpatient cap of 400 less H1's 100 and E3's 280
    v1.refresh_from_db()
    assert v1.figures == frozen  # the approved return never changes
    with pytest.raises(ReturnError, match="更正说明"):
        return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    v2 = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"], correction_note="5月迟到核定1笔")
    assert (v2.version, v2.previous_id, v2.status) == (2, v1.pk, "PREPARED")
    changes = {(c["row"], c["column"]): (c["before"], c["after"]) for c in v2.changes}
    assert changes[("合计", "普通疾病门诊医疗救助金额")] == ("280.00", "300.00")
    assert changes[("合计", "合计人次")] == (2, 3)
    assert changes[("病故军人遗属", "合计金额")] == ("280.00", "300.00")
    return_approve(return_id=v2.pk, user=staff["reviewer"], responsible="张局长")
    v1.refresh_from_db()
    assert v1.status == "SUPERSEDED" and v1.figures == frozen
    # nothing changed since: no third version
    with pytest.raises(ReturnError, match="无需更正"):
        return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"], correction_note="再来一次")


def test_a_draft_overtaken_by_a_late_decision_cannot_be_approved(year_2025, staff):
    draft = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    late_bill(staff)
    with pytest.raises(ReturnError, match="勾稽核对未通过") as exc:
        return_approve(return_id=draft.pk, user=staff["reviewer"], responsible="张局长")
    assert "统计数与核定记录一致" in str(exc.value)
    draft.refresh_from_db()
    assert draft.status == "PREPARED" and not draft.tie_out_ok
    return_cancel(return_id=draft.pk, user=staff["district_clerk"], reason="数字已变化，重新编制")
    fresh = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    assert fresh.version == 2 and fresh.tie_out_ok


def test_the_tie_out_refuses_approval_when_the_ledger_and_the_decisions_disagree(year_2025, staff):
    from funding.services import entry_post, money_in

    f, r = staff["finance"], staff["reviewer"]
    money_in(account="EXPENDITURE", kind="INTEREST", amount=Decimal("1000.00"), on=date(2025, 4, 1), counterpart="BANK",
             source_document="利息单", description="利息", entered_by=f, approved_by=r)
    # a payment booked in May that no decision was marked paid for
    entry_post(on=date(2025, 5, 12), kind="PAY_PERSON", lines=[("EXPENDITURE", Decimal("-300.00")), ("PAYEE_PERSON", Decimal("300.00"))],
               counterpart="PAYEE_PERSON", source_document="手工凭证", description="无对应核定的支付", entered_by=f, approved_by=r)
    ret = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    assert not ret.tie_out_ok
    bad = [c for c in ret.tie_out if not c["ok"]]
    assert len(bad) == 1 and "账簿" in bad[0]["name"] and "核定记录0.00元，账簿300.00元" in bad[0]["detail"]
    with pytest.raises(ReturnError, match="勾稽核对未通过"):
        return_approve(return_id=ret.pk, user=staff["reviewer"], responsible="张局长")
    assert StatReturn.objects.get(pk=ret.pk).status == "PREPARED"


def test_the_funds_and_subsidy_returns_tie_out(year_2025, staff):
    from funding.services import money_in, money_transfer

    f, r = staff["finance"], staff["reviewer"]
    money_in(account="SPECIAL", kind="INCOME_CENTRAL", amount=Decimal("50000.00"), on=date(2025, 4, 2), counterpart="CENTRAL",
             source_document="渝财社〔2025〕1号", description="中央下拨", entered_by=f, approved_by=r)
    money_transfer(from_account="SPECIAL", to_account="EXPENDITURE", amount=Decimal("20000.00"), on=date(2025, 5, 2),
                   source_document="划拨单", description="专户划拨", entered_by=f, approved_by=r)
    ret = return_prepare(kind="FUNDS", period=Q2, user=f)
    rows = {row["label"]: row["values"] for row in ret.figures["rows"]}
    cols = ret.figures["columns"]
    special = rows["医疗救助资金 财政专户"]
    assert special[cols.index("本期收入|中央财政下拨")] == "50000.00"
    assert special[cols.index("本期划拨|划入（划出为负）")] == "-20000.00" and special[-1] == "30000.00"
    assert rows["合计"][-1] == "50000.00"
    assert ret.tie_out_ok, ret.tie_out
    with pytest.raises(ReturnError, match="填表人不能审核"):
        return_approve(return_id=ret.pk, user=f, responsible="张局长")
    return_approve(return_id=ret.pk, user=r, responsible="张局长")
    sub = return_prepare(kind="SUBSIDY", period=Q2, user=staff["district_clerk"])
    assert sub.tie_out_ok and total_row(sub)[-2:] == [0, "0.00"]


def test_the_return_as_a_government_return_in_xlsx_and_pdf(year_2025, staff, login, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from tests.document_jobs import download, press

    ret = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    return_approve(return_id=ret.pk, user=staff["reviewer"], responsible="张局长")
    client = login(staff["reviewer"])
    x = client.get(reverse("reporting:return-file", args=[ret.pk, "xlsx"]))
    assert x.status_code == 200 and "filename*=UTF-8''" in x["Content-Disposition"]
    ws = load_workbook(io.BytesIO(x.content)).active
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    text = "\n".join(cells)
    for words in ("医疗救助统计表", "2025年第二季度", "填报单位：重庆市渝北区医疗保障局", "计量单位：人、人次、元",
                  "单位负责人：张局长", "审核人：", "填表人：", "报出日期：", "勾稽核对：通过"):
        assert words in text, words
    assert not any(str(c).startswith("=") for c in cells)  # values, never formulas
    # the PDF is built by a task (issue 14): 生成 PDF on the return's page, then 下载 PDF on the job's page
    _, job = press(client, reverse("reporting:return-file", args=[ret.pk, "pdf"]), django_capture_on_commit_callbacks)
    p = download(client, job)
    assert "filename*=UTF-8''" in p["Content-Disposition"] and "%E7%AC%AC1%E7%89%88.pdf" in p["Content-Disposition"]
    reader = PdfReader(io.BytesIO(p.content))
    pdf = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    for words in ("医疗救助统计表", "2025年第二季度", "填报单位：重庆市渝北区医疗保障局", "单位负责人：张局长",
                  "勾稽核对：通过", "4,280.00", "2025年各月医疗救助金额与人次"):
        assert words in pdf, words
    # the charts' titles exist only in the chart images (SVG drawn by the same ECharts file as the
    # browser's); each chart's table beside it carries the figures
    assert "2025年第二季度按身份类别" in pdf and "病故军人遗属" in pdf
    assert client.get(reverse("reporting:return-file", args=[ret.pk, "exe"])).status_code == 404
