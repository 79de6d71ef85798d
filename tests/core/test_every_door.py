"""Every door at once: a town clerk walks every page a district clerk can reach and never sees
another town's person.

With the demo data loaded (people in every town, rosters, bills, settlement lines, decision
notices, subsidy lists, fund requests), a district clerk (who sees everything) crawls the site
from the home page, following every link: lists, detail pages, filters, xlsx exports, PDFs,
JSON progress endpoints. Then the 双龙湖 town clerk requests each of those addresses. Whatever
the answer (a page, a refusal, a file), it must not contain the ID number of any person of
another town, nor a name that only people of other towns bear. HTML, xlsx cells and PDF text
are all searched. This catches a door that a later page forgets to scope, without the test
having to know the page.
"""

import io
import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command

from beneficiaries.models import Person
from yfbz.core.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SAMPLES_PER_PATTERN = 3  # detail pages of the same kind: a few are enough
MAX_URLS = 400
SKIP = ("/accounts/logout", "/admin/", "/static/", "/healthz")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href and not href.startswith(("#", "javascript:", "mailto:")):
                self.hrefs.append(href)


def pattern_of(path: str) -> str:
    """/claims/bills/12/ and /claims/bills/13/ are the same kind of page."""
    return re.sub(r"\d+", "N", urlsplit(path).path) + ("?" + "&".join(sorted(k for k in _query_keys(path))) if "?" in path else "")


def _query_keys(path):
    query = urlsplit(path).query
    return {part.split("=", 1)[0] for part in query.split("&") if part}


def text_of(resp) -> str:
    body = b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content
    ctype = resp.get("Content-Type", "")
    if "spreadsheetml" in ctype or body[:2] == b"PK":
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    if "pdf" in ctype or body[:4] == b"%PDF":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    return body.decode("utf-8", errors="replace")


def crawl(client, start="/"):
    seen, queue, per_pattern = [], [start], defaultdict(int)
    visited = set()
    while queue and len(seen) < MAX_URLS:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        resp = client.get(url)
        if resp.status_code != 200:
            continue
        seen.append(url)
        if "text/html" not in resp.get("Content-Type", ""):
            continue
        parser = Links()
        parser.feed(resp.content.decode("utf-8", errors="replace"))
        for href in parser.hrefs:
            absolute = urljoin(url, href)
            parts = urlsplit(absolute)
            if parts.netloc not in ("", "testserver"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(SKIP) or path in visited or "page=" in path:
                continue
            key = pattern_of(path)
            if per_pattern[key] >= SAMPLES_PER_PATTERN:
                continue
            per_pattern[key] += 1
            queue.append(path)
    return seen


def test_a_town_clerk_reaches_no_other_towns_person_by_any_page_the_district_can_open(client):
    call_command("demo_data", people=800, stdout=io.StringIO())
    district = User.objects.get(username="district_clerk")
    clerk = User.objects.get(username="slh_clerk")

    ours = Person.objects.filter(town=clerk.town)
    theirs = Person.objects.exclude(town=clerk.town)
    assert ours.exists() and theirs.exists()
    foreign_ids = set(theirs.values_list("id_number", flat=True))
    our_names = set(ours.values_list("name", flat=True))
    foreign_names = {n for n in theirs.values_list("name", flat=True) if n not in our_names and len(n) >= 3}

    client.force_login(district)
    urls = crawl(client)
    assert len(urls) > 30, f"the crawl found too few pages to mean anything: {urls}"
    # the district clerk does see other towns' people on these pages (else the test proves nothing)
    district_text = "\n".join(text_of(client.get(u)) for u in urls[:60])
    assert any(n in district_text for n in foreign_names)

    client.force_login(clerk)
    leaks = []
    for url in urls:
        resp = client.get(url)
        if resp.status_code in (302, 403, 404):
            continue
        text = text_of(resp)
        leaked_ids = [i for i in foreign_ids if i in text]
        leaked_names = [n for n in foreign_names if n in text]
        if leaked_ids or leaked_names:
            leaks.append((url, resp.status_code, leaked_ids[:3], leaked_names[:3]))
    assert leaks == [], f"pages showing other towns' people to the 双龙湖 clerk: {leaks}"
