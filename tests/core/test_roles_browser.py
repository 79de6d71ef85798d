"""One browser session per role: log in through the real login page and see what the role should."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# role user → (text of the role shown on the home page, can open the people list, sees 李回兴 of 回兴)
EXPECTED = {
    "slh_clerk": ("镇街经办员", True, False),
    "hx_clerk": ("镇街经办员", True, True),
    "civil_officer": ("部门数据员", True, False),
    "veterans_officer": ("部门数据员", True, True),
    "district_clerk": ("区医保经办", True, True),
    "reviewer": ("区医保审核", True, True),
    "finance": ("财务", True, True),
    "auditor": ("审计", True, True),
    "sysadmin": ("系统管理员", True, True),
}


def test_each_role_logs_in_and_sees_what_it_should(staff, people, page, browser_login):
    for username, (role_text, sees_list, sees_huixing) in EXPECTED.items():
        page.context.clear_cookies()
        browser_login(username)
        assert page.get_by_test_id("roles").inner_text() == role_text, username
        page.goto("/people/")
        if sees_list:
            table = page.get_by_test_id("person-table").inner_text()
            assert ("李回兴" in table) == sees_huixing, username
            if username == "slh_clerk":
                assert "张双龙" in table and "王无镇" not in table
        # the audit trail is for auditors only (三权分立: not the administrators it records, issue 9)
        resp = page.goto("/audit/")
        assert (resp.status == 200) == (username == "auditor"), username


def test_a_wrong_password_is_refused_in_chinese(staff, page, browser_login):
    browser_login("slh_clerk", password="wrong")
    assert "用户名或密码不正确" in page.content()
