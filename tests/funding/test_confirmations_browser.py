"""Confirmations before irreversible steps, in Chromium (issue 11): 结账 (month close), 冲销 (reversal), payment
(the bank batch) and approval. For each: the dialog appears saying what will happen and to how much money; 取消
does nothing; 确定 does the step once; and the server refuses the same form sent a second time (a double click,
a second tab, the back button), saying why in Chinese — the dialog lives in the browser, the refusal on the server.

Screenshots of each question go to $YFBZ_SCREENS_DIR (default /tmp/yfbz-screens) as test artefacts."""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from funding import services
from funding.models import EntryProposal, PaymentBatch, Period
from tests.claims.conftest import decided_bill, enter_bill, institutions  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("YFBZ_SCREENS_DIR", "/tmp/yfbz-screens"))


def form_of(page, button_testid_or_selector: str) -> dict:
    """The form a submit button sends (action and fields, the CSRF token included), read before it is sent, to
    send it a second time as a double click or a second tab would."""
    sel = button_testid_or_selector
    locator = page.get_by_test_id(sel) if not sel.startswith(("form", "button", "[")) else page.locator(sel)
    return locator.first.evaluate(
        """(el) => { const form = el.form || el.closest('form');
                     const fields = {}; new FormData(form).forEach((v, k) => { fields[k] = v; });
                     if (el.name) { fields[el.name] = el.value; }
                     return {action: form.action, fields: fields}; }"""
    )


def ask(page, click, expect: str, shot: str) -> None:
    """Click what asks first; the dialog shows ``expect``; a screenshot is saved."""
    click()
    dialog = page.get_by_test_id("confirm-dialog")
    dialog.wait_for(state="visible")
    assert expect in page.get_by_test_id("confirm-text").inner_text()
    from tests.core.test_screens import _compress

    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"confirm-{shot}.png"
    page.screenshot(path=str(path))
    _compress(path)


def cancel(page) -> None:
    page.get_by_test_id("confirm-no").click()
    page.get_by_test_id("confirm-dialog").wait_for(state="hidden")


def confirm(page) -> None:
    with page.expect_navigation():
        page.get_by_test_id("confirm-yes").dblclick()  # a double click on 确定 sends the form once
    page.wait_for_load_state()


def again(page, sent: dict) -> str:
    """The same form sent a second time (same session, same CSRF token): the page the server answers with."""
    resp = page.request.post(sent["action"], form=sent["fields"])  # follows the redirect: the page with the message
    assert resp.status == 200, resp.status
    return resp.text()


def test_month_close_asks_first_and_a_second_close_is_refused(staff, page, browser_login, fund):
    fund("SPECIAL", "3000.00", on=date(2025, 3, 3))
    browser_login("finance")
    page.goto("/funding/report/?year=2025&month=3")
    ask(page, lambda: page.get_by_test_id("period-close").click(), "2025年3月结账：本月收入 3,000.00 元", "month-close")
    sent = form_of(page, "period-close")
    cancel(page)
    assert not Period.objects.filter(year=2025, month=3, closed_at__isnull=False).exists()

    ask(page, lambda: page.get_by_test_id("period-close").click(), "结账后本月不能再记账", "month-close")
    confirm(page)
    assert "已结账" in page.content()
    closed = Period.objects.get(year=2025, month=3)
    assert closed.closed_at is not None and closed.closed_by.username == "finance"

    html = again(page, sent)
    assert "2025年3月已结账" in html
    assert Period.objects.get(year=2025, month=3).closed_at == closed.closed_at  # not closed twice


def test_a_reversal_asks_first_and_a_second_request_for_it_is_refused(staff, page, browser_login, fund):
    entry = fund("SPECIAL", "1200.00", on=date(2025, 3, 3))
    browser_login("finance")
    page.goto("/funding/ledger/")
    row = page.locator("tr", has=page.locator(f"text={entry.number}"))
    row.locator("input[name=reason]").fill("金额录错")
    button = row.locator("button", has_text="冲销")
    ask(page, button.click, f"冲销凭证 {entry.number}", "reversal")
    assert "1,200.00 元" in page.get_by_test_id("confirm-text").inner_text()
    sent = button.evaluate("""(el) => { const fields = {}; new FormData(el.form).forEach((v, k) => { fields[k] = v; });
                                        return {action: el.form.action, fields: fields}; }""")
    cancel(page)
    assert not EntryProposal.objects.filter(reverses=entry).exists()

    ask(page, button.click, "经另一人审核后记一张金额相反的冲销凭证", "reversal")
    confirm(page)
    assert f"已提出冲销 {entry.number}" in page.content()
    assert EntryProposal.objects.filter(reverses=entry).count() == 1

    html = again(page, sent)
    assert f"凭证 {entry.number} 已有待审核的冲销" in html
    assert EntryProposal.objects.filter(reverses=entry).count() == 1  # one request, not two


def _funded_request(staff, make_person, fund):
    """A fund request funded by the finance bureau, with one line to pay (a self-paid subsidy with an account)."""
    p = make_person("付款测试", categories=("DIBAO",))
    rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400"), bank_name="农行",
                                   bank_account="622800009", account_holder=p.name, user=staff["slh_clerk"], today=date(2025, 3, 2))
    services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 3))
    fund("SPECIAL", "3000.00", on=date(2025, 3, 3))
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="渝北财社〔2025〕12号",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    return req


def test_payment_asks_first_and_a_second_batch_of_the_same_lines_is_refused(staff, make_person, page, browser_login, fund):
    from yfbz.core.display import money

    req = _funded_request(staff, make_person, fund)
    line = req.lines.get()
    browser_login("finance")
    page.goto(f"/funding/requests/{req.pk}/")
    ask(page, page.get_by_test_id("make-batch").click, f"医疗救助资金待支付 1 笔 {money(line.amount)} 元", "payment-batch")
    sent = form_of(page, "make-batch")
    cancel(page)
    assert not PaymentBatch.objects.filter(request=req).exists()

    ask(page, page.get_by_test_id("make-batch").click, "导出银行支付文件", "payment-batch")
    confirm(page)
    batch = PaymentBatch.objects.get(request=req)
    assert batch.number in page.content()

    html = again(page, sent)
    assert "没有待支付且有银行账号的明细" in html
    assert PaymentBatch.objects.filter(request=req).count() == 1  # paid once


def test_approval_asks_first_and_a_second_approval_is_refused(staff, people, decided_bill, page, browser_login):  # noqa: F811
    from claims.models import Bill, BillStatusChange

    bill = decided_bill(people["slh"])
    amount = bill.current_decision.assistance
    browser_login("reviewer")
    page.goto(f"/claims/bills/{bill.pk}/")
    box = page.get_by_test_id("confirm-provisional")
    if box.count():
        box.check()
    from yfbz.core.display import money

    ask(page, page.get_by_test_id("approve").click, f"{money(amount)} 元", "approval")
    sent = form_of(page, "approve")
    cancel(page)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.DECIDED

    ask(page, page.get_by_test_id("approve").click, "审批同意", "approval")
    confirm(page)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED
    moves = BillStatusChange.objects.filter(bill=bill).count()

    html = again(page, sent)
    assert f"票据{bill.pk}当前为“已审批”，没有待审批的核定" in html
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED
    assert BillStatusChange.objects.filter(bill=bill).count() == moves  # approved once
