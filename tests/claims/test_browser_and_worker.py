"""In a real browser: a district clerk enters a bill and sees the engine's decision, a reviewer
approves it, the notice prints. And a batch of notices and a settlement file through a real Celery
worker and Redis."""

import io
import re
import time
from datetime import date

import pytest
from pypdf import PdfReader

from claims.models import Bill, NoticeBatch, NoticePrint, SettlementFile
from claims.services import decision_approve


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clerk_enters_a_bill_reviewer_approves_and_the_notice_prints(staff, people, institutions, page, browser_login):
    person = people["slh"]
    browser_login("district_clerk")
    page.goto("/claims/")
    page.get_by_test_id("new-bill").click()
    form = page.get_by_test_id("bill-form")
    form.locator("input[name=id_number]").fill(person.id_number)
    form.locator("select[name=institution]").select_option(str(institutions["YB01"].pk))
    form.locator("select[name=kind]").select_option("INPATIENT")
    form.locator("input[name=admitted_on]").fill("2025-04-01")
    form.locator("input[name=settled_on]").fill("2025-04-09")
    form.locator("input[name=total_cost]").fill("15800.00")
    form.locator("input[name=in_policy_cost]").fill("14000.00")
    form.locator("input[name=basic_paid]").fill("9000.00")
    form.locator("input[name=critical_paid]").fill("0.00")
    form.locator("input[name=account_holder]").fill(person.name)
    form.locator("input[name=bank_name]").fill("重庆农村商业银行")
    form.locator("input[name=bank_account]").fill("6228480000000001")
    form.locator("button[name=preview]").click()
    page.wait_for_load_state()
    assert "医疗救助 4,000.00 元" in page.get_by_test_id("preview-amount").inner_text()
    page.get_by_test_id("save-bill").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("bill-status").inner_text() == "已核定待审批"
    assert "4,000.00" in page.get_by_test_id("decision-amount").inner_text()
    assert page.get_by_test_id("approve").count() == 0  # the clerk who entered it cannot approve it
    bill = Bill.objects.get()

    page.context.clear_cookies()
    browser_login("reviewer")
    page.goto(f"/claims/bills/{bill.pk}/")
    page.get_by_test_id("approve").click()
    assert "4,000.00 元" in page.get_by_test_id("confirm-text").inner_text()  # asked first, with the amount
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("bill-status").inner_text() == "已审批"
    page.get_by_test_id("print-notice").click()  # a POST: the notice is made by a task (inline here)
    page.wait_for_load_state()
    assert "已完成" in page.get_by_test_id("batch-status").inner_text()
    resp = page.request.get(page.get_by_test_id("batch-download").get_attribute("href"))
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.body())).pages))
    assert "张双龙" in text and "肆仟元整" in text and "医疗救助待遇核定通知书" in text
    assert NoticePrint.objects.filter(notice__decision__bill=bill, by__username="reviewer").count() == 1
    page.goto(f"/claims/bills/{bill.pk}/")
    assert "文号" in page.content() and "reviewer" in page.content()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_notice_batch_and_a_settlement_file_run_through_a_real_worker(celery_worker_real, decided_bill, make_person, staff, institutions):
    from claims.notices import notice_batch_create
    from claims.settlement import settlement_file_upload
    from claims.tasks import settlement_import

    ids = [decision_approve(bill_id=decided_bill(make_person(f"工人{i}")).pk, user=staff["reviewer"]).pk for i in range(3)]
    batch = notice_batch_create(user=staff["district_clerk"], decision_ids=ids)  # queued on commit
    person = make_person("结算工人")
    data = ("结算编号,公民身份号码,姓名,类型,结算日期,政策范围内费用,基本医保支付,医疗救助垫付\n"
            f"W1,{person.id_number},结算工人,住院,2025-03-10,10000,5000,4000\n").encode()
    f = settlement_file_upload(institution=institutions["YB01"], month=date(2025, 3, 1), file_name="w.csv", data=data,
                               user=staff["district_clerk"])
    settlement_import.delay(f.pk, staff["district_clerk"].pk)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        f.refresh_from_db()
        if batch.status in ("DONE", "FAILED") and f.status in ("DONE", "FAILED"):
            break
        time.sleep(0.3)
    assert batch.status == NoticeBatch.Status.DONE, batch.error
    assert len(PdfReader(io.BytesIO(bytes(batch.pdf))).pages) == 3
    assert f.status == SettlementFile.Status.DONE and f.lines_agreed == 1
    # a second delivery of the same task does nothing twice
    settlement_import.delay(f.pk, staff["district_clerk"].pk).get(timeout=30)
    assert f.lines.count() == 1
