"""A page offers no link its reader may not follow: the 部门救助结果 menu entry led the district clerk to a
403 (the results are for the departments and the district bureau's wide roles), and the alert list linked a
town clerk to 依申请救助 without the permission to open it (found by bench/pages.py's crawl, issue 14)."""

from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from tests.core.test_every_page_in_words import Links

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["slh_clerk", "district_clerk", "civil_officer", "reviewer", "finance", "auditor"])
def test_the_home_page_and_the_alert_list_link_only_to_pages_their_reader_may_open(staff, login, role):
    client = login(staff[role])
    forbidden = {}
    for start in ("/", reverse("monitoring:alert-list")):
        resp = client.get(start)
        if resp.status_code != 200:
            continue
        parser = Links()
        parser.feed(resp.content.decode())
        for href in parser.hrefs:
            parts = urlsplit(urljoin(start, href))
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(("/accounts/logout", "/static/")):
                continue
            url = parts.path + (f"?{parts.query}" if parts.query else "")
            if client.get(url).status_code == 403:
                forbidden[url] = start
    assert forbidden == {}, forbidden
