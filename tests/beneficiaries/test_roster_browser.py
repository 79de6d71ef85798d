"""In a real browser: a department officer uploads a roster, each town accepts its own rows, the
district confirms, and the identities start."""

from datetime import date

import pytest

from beneficiaries.models import Identity

from .conftest import ids, roster_xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_user(page, browser_login, username):
    page.context.clear_cookies()
    browser_login(username)


def test_upload_then_town_review_then_district_confirm(staff, page, browser_login, tmp_path):
    a, b, c = ids(3)
    path = tmp_path / "民政2025年3月.xlsx"
    path.write_bytes(roster_xlsx([
        (a, "双龙甲", "城市低保", "双龙湖", "2025-03-02", ""),
        (b, "回兴乙", "低保", "回兴街道", "", ""),
        (c[:17] + ("1" if c[17] != "1" else "2"), "号错丙", "低保", "回兴", "", ""),  # wrong check character
    ]))

    switch_user(page, browser_login, "civil_officer")
    page.goto("/people/rosters/")
    page.fill("input[name=month]", "2025-03")
    page.set_input_files("input[name=file]", str(path))
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=roster-summary]")
    assert page.get_by_test_id("roster-status").inner_text() == "已校验"
    summary = page.get_by_test_id("roster-summary").inner_text()
    assert "3\t2\t1\t2" in summary  # rows, valid, invalid, new
    assert "校验位错误" in page.get_by_test_id("row-table").inner_text()
    page.get_by_test_id("submit-review").click()
    assert page.get_by_test_id("roster-status").inner_text() == "镇街审核中"
    roster_url = page.url

    for clerk, own, other in (("slh_clerk", "双龙甲", "回兴乙"), ("hx_clerk", "回兴乙", "双龙甲")):
        switch_user(page, browser_login, clerk)
        page.goto(roster_url)
        rows = page.get_by_test_id("row-table").inner_text()
        assert own in rows and other not in rows, clerk
        assert page.get_by_test_id("my-pending").inner_text() == "1"
        page.get_by_test_id("accept-all").click()
        # an irreversible step asks first, saying how many rows (issue 11)
        assert "全部 1 行" in page.get_by_test_id("confirm-text").inner_text()
        page.get_by_test_id("confirm-yes").click()
        page.wait_for_load_state()
        assert "已接受1行" in page.content()

    switch_user(page, browser_login, "district_clerk")
    page.goto(roster_url)
    page.get_by_test_id("confirm").click()
    asked = page.get_by_test_id("confirm-text").inner_text()
    assert "新增 2 个身份" in asked and "生效后不能撤回" in asked
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_function("document.querySelector('[data-testid=roster-status]').innerText === '已确认'")
    starts = dict(Identity.objects.values_list("person__name", "valid_from"))
    assert starts == {"双龙甲": date(2025, 3, 2), "回兴乙": date(2025, 3, 1)}
    history = page.get_by_test_id("history").inner_text()
    assert "district_clerk" in history and "civil_officer" in history
