"""Every page in Chinese whatever the browser's language: the locale middleware chose the language a browser
asked for, so an en-US browser got the admin (“Select … to view”, “Welcome”, “Filter”), Django's own form
errors and the dates in English."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "de-DE", "zh-TW", ""])
def test_the_admin_and_djangos_messages_are_chinese_for_any_browser(admin_user, accept):
    c = Client(HTTP_ACCEPT_LANGUAGE=accept)
    login = c.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert "This field is required" not in login
    c.force_login(admin_user)
    html = c.get("/admin/claims/decision/").content.decode()
    assert "选择" in html and "Select " not in html and "Welcome" not in html, accept
    assert '<html lang="zh-hans"' in html
