"""The fund request in a real browser, and the subsidy run through a real Celery worker and Redis."""

import time
from datetime import date
from decimal import Decimal

import pytest

from funding import services
from funding.models import Enrolment, FundRequest, SubsidyResult, SubsidyRun


def _approved_selfpaid(make_person, staff, name="自缴浏览器"):
    p = make_person(name, categories=("DIBAO",))
    rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400"), bank_name="农行",
                                   bank_account="622800009", account_holder=name, user=staff["slh_clerk"], today=date(2025, 3, 2))
    return services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 3))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_fund_request_is_compiled_checked_funded_and_printed_in_the_browser(staff, make_person, page, browser_login, fund):
    rep = _approved_selfpaid(make_person, staff)
    fund("SPECIAL", "3000.00")
    browser_login("district_clerk")
    page.goto("/funding/")
    assert page.get_by_test_id("balance-SPECIAL").inner_text().replace(",", "") == "3000.00"
    form = page.get_by_test_id("request-create")
    form.locator("input[name=year]").fill("2025")
    form.locator("input[name=month]").fill("3")
    form.locator("button").click()
    page.wait_for_load_state()
    from yfbz.core.display import money

    assert page.get_by_test_id("total-assistance").inner_text() == f"{money(rep.amount)} 元"
    assert page.get_by_test_id("status").inner_text() == "草稿"
    # the clerk who compiled it cannot approve it (asked first, with the amount)
    page.get_by_test_id("submit").click()
    assert f"医疗救助资金 {money(rep.amount)} 元" in page.get_by_test_id("confirm-text").inner_text()
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_load_state()
    assert "编制人不能审核自己编制的资金申请" in page.content()

    page.context.clear_cookies()
    browser_login("reviewer")
    req = FundRequest.objects.get()
    page.goto(f"/funding/requests/{req.pk}/")
    page.get_by_test_id("submit").click()
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "已审核报送"

    page.context.clear_cookies()
    browser_login("finance")
    page.goto(f"/funding/requests/{req.pk}/")
    transfer = page.get_by_test_id("transfer")
    transfer.locator("input[name=on]").fill("2025-03-20")
    transfer.locator("input[name=source_document]").fill("渝北财社〔2025〕12号")
    transfer.locator("button").click()
    assert f"支出户 {money(rep.amount)} 元" in page.get_by_test_id("confirm-text").inner_text()
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "财政已划拨"
    # 打印申请表 is a job (issue 14): the button leads to the job's page, where the clerk downloads the PDF
    page.get_by_test_id("pdf").click()
    page.get_by_test_id("export-download").wait_for()
    assert "已完成" in page.get_by_test_id("export-status").inner_text()
    with page.expect_download() as dl:
        page.get_by_test_id("export-download").click()
    pdf = open(dl.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF")
    page.goto("/funding/")
    assert page.get_by_test_id("balance-EXPENDITURE").inner_text().replace(",", "") == str(rep.amount)
    assert page.get_by_test_id("balance-SPECIAL").inner_text().replace(",", "") == str(Decimal("3000.00") - rep.amount)


@pytest.mark.worker
def test_the_subsidy_run_goes_through_a_real_worker(celery_worker_real, staff, make_person):
    p = make_person("工人测试", categories=("TEKUN",))
    Enrolment.objects.create(person=p, year=2025, kind="RESIDENT_T1")
    run = services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    for _ in range(300):
        run.refresh_from_db()
        if run.status in ("done", "failed"):
            break
        time.sleep(0.1)
    assert run.status == "done", run.error
    assert SubsidyResult.objects.get(person=p, year=2025).amount > 0
    assert SubsidyRun.objects.get(pk=run.pk).count_eligible == 1
