"""Every page in words (issue 11): each role walks every page it can reach on the demo data, reads every PDF and
xlsx linked from them, and nothing it sees is a server error, a raw code (a choices key, a label-table key), an
amount with more than two decimals (41209.2800000000, 0.7500) or an English word outside a fixed allow-list.

The crawl of tests/core/test_every_door.py, once per role from the home page; a kind of page (its address with
the numbers taken out) is read once across all roles, so the test stays fast enough for CI. Only what a user
sees is checked: the text of the page (not its markup, attributes or scripts), the cells of a sheet, the text
of a PDF.
"""

import io
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command

from tests.core.test_every_door import Links, pattern_of, text_of
from yfbz.core import display
from yfbz.core.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROLES = ("slh_clerk", "civil_officer", "veterans_officer", "district_clerk", "reviewer", "finance", "auditor", "leader",
         "security_admin")
MAX_URLS = 600
SKIP = ("/accounts/logout", "/admin/", "/static/", "/healthz", "/i18n/")
#: Read but not checked for words: the audit trail shows values as they were stored (the engine's raw
#: snapshot of a decision, source keys, the login-lock library's own field names). Its actions, field
#: names and coded values are in words (tests/core/test_words.py); the rest is listed in docs/status.md.
UNCHECKED = ("/audit/",)
#: English a Chinese office reads every day: file kinds, encodings, the product's own abbreviations.
ALLOWED_ENGLISH = {
    "PDF", "pdf", "Excel", "excel", "xlsx", "xls", "CSV", "csv", "UTF", "GBK", "ods", "TOTP", "SHA", "IP", "ID",
    "JPEG", "JPG", "PNG", "jpeg", "jpg", "png",  # kinds of scanned papers
    "Chromium", "Chrome", "Edge", "Firefox", "WPS", "App", "PostgreSQL", "Redis", "Celery", "MB", "KB", "GB",
    "POLICY",  # POLICY.md, the product's rule book, cited as the source of an interpretation (D1–D8)
}
AMOUNT = re.compile(r"(?<![\d.])\d+\.\d{3,}(?![\d.])")
#: an amount in yuan with one decimal (a float from SQLite printed as it came: 41209.3元)
ONE_DECIMAL_YUAN = re.compile(r"(?<![\d.])\d[\d,]*\.\d(?!\d)\s*元")
#: a reason shown by its number ("R103 年度救助限额已用完", "原因代码 204") instead of its words
REASON_CODE = re.compile(r"(?<![A-Za-z0-9_])R[1-3]\d\d(?!\d)|原因代码[：:\s]*\d+")
#: a run of letters, digits and underscores; it is English when it has three letters in a row and no digit
#: (institution codes such as SLH01 and document numbers are identifiers, not words)
TOKEN = re.compile(r"[A-Za-z0-9_]+")


class Visible(HTMLParser):
    """The text a user sees: text nodes outside script and style (option texts included)."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(resp) -> str:
    if "text/html" in resp.get("Content-Type", ""):
        v = Visible()
        v.feed(resp.content.decode("utf-8", errors="replace"))
        return "\n".join(v.parts)
    if "json" in resp.get("Content-Type", ""):
        return ""  # machine-read (progress endpoints): codes are their vocabulary
    return text_of(resp)


def raw_codes() -> re.Pattern:
    """Every code a user must never read: the keys of every choices field of the project's models, and of
    every label table of the display layer, that differ from their label."""
    codes = set()
    for model in apps.get_models():
        if not model.__module__.startswith(("beneficiaries", "claims", "funding", "reporting", "yfbz", "adoption")):
            continue
        for field in model._meta.get_fields():
            for key, text in getattr(field, "flatchoices", None) or []:
                if isinstance(key, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,}", key) and key != str(text):
                    codes.add(key)
    for kind in display.kinds():  # static tables and data (benefit groups: OUT_700, MAJ_37 …)
        codes |= {k for k in display.labels(kind) if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,}", k)}
    alternation = "|".join(sorted((re.escape(c) for c in codes), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternation})(?![A-Za-z0-9_])")


def crawl(client, start, checked: set[str]):
    """(url, response) of every page reachable from ``start`` whose kind was not read yet."""
    queue, visited = [start], set()
    while queue and len(visited) < MAX_URLS:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        resp = client.get(url)
        yield url, resp
        if resp.status_code != 200 or "text/html" not in resp.get("Content-Type", ""):
            continue
        html = resp.content.decode("utf-8", errors="replace")
        yield from pdf_jobs(client, html, checked)
        parser = Links()
        parser.feed(html)
        for href in parser.hrefs:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc not in ("", "testserver"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(SKIP) or path in visited or "page=" in path:
                continue
            key = pattern_of(path)
            if key in checked:
                continue
            checked.add(key)
            queue.append(path)


#: a document's button (issue 14: a PDF built by a task): a POST form marked ``data-pdf-job`` and its hidden fields
PDF_JOB_FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*\bdata-pdf-job\b[^>]*>(.*?)</form>', re.S)


def pdf_jobs(client, html: str, checked: set[str]):
    """Press each kind of document button once (the job runs when the request commits: tasks inline) and read
    the job's page and its PDF: the documents a user gets only through a job are read too."""
    for action, inner in PDF_JOB_FORM.findall(html):
        key = "POST " + pattern_of(action)
        if key in checked:
            continue
        checked.add(key)
        fields = dict(re.findall(r'<input type="hidden" name="(?!csrfmiddlewaretoken)([^"]+)" value="([^"]*)"', inner))
        sent = client.post(action, fields)
        if sent.status_code != 302 or not re.fullmatch(r"/exports/\d+/", sent["Location"]):
            yield f"POST {action}", sent
            continue
        page = client.get(sent["Location"])
        yield sent["Location"], page
        link = re.search(r'href="(/exports/\d+/file/)"', page.content.decode("utf-8", errors="replace"))
        if link:
            yield link.group(1), client.get(link.group(1))


def findings(text: str, codes: re.Pattern, allowed: set[str]) -> list[str]:
    out = [f"代码 {m.group()}" for m in codes.finditer(text)]
    out += [f"原因代码 {m.group()}" for m in REASON_CODE.finditer(text)]
    out += [f"金额 {m.group()}" for m in AMOUNT.finditer(text)]
    out += [f"金额 {m.group()}" for m in ONE_DECIMAL_YUAN.finditer(text)]
    out += [f"英文 {w}" for w in TOKEN.findall(text)
            if w not in allowed and re.search(r"[A-Za-z]{3}", w) and not re.search(r"\d", w)]
    return out


def check_every_page(client) -> tuple[int, dict]:
    """(pages read, {role and address: what is wrong}) over the demo data already loaded."""
    codes = raw_codes()
    allowed = ALLOWED_ENGLISH | set(User.objects.values_list("username", flat=True))
    checked: set[str] = set()
    problems, pages = {}, 0
    for username in ROLES:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        client.force_login(user)
        for url, resp in crawl(client, "/", checked):
            pages += 1
            if resp.status_code >= 500:
                problems[f"{username} {url}"] = [f"服务器错误 {resp.status_code}"]
                continue
            if resp.status_code != 200:
                continue
            if url.startswith(UNCHECKED):
                continue
            found = findings(visible_text(resp), codes, allowed)
            if found:
                problems[f"{username} {url}"] = sorted(set(found))[:8]
    return pages, problems


def test_every_page_pdf_and_xlsx_each_role_reaches_is_in_words_with_two_decimal_amounts(client):
    call_command("demo_data", people=300, stdout=io.StringIO())
    pages, problems = check_every_page(client)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert pages > 40, f"the crawl read too few pages to mean anything: {pages}"
    from yfbz.core.models import ExportJob

    built = set(ExportJob.objects.filter(status=ExportJob.Status.DONE).values_list("kind", flat=True))
    assert {"reporting.return_pdf", "funding.request_pdf", "funding.month_report_pdf"} <= built, built  # and read
