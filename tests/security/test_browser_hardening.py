"""Browser hardening (issue 9, finding 1: stored XSS through scanned papers; no CSP).

A scan must be a PDF, JPEG or PNG by its bytes; every stored file is served as a download with the
type we sniffed and nosniff; every response carries a Content-Security-Policy with no inline script,
and no template holds an inline script or event handler (so the policy costs nothing)."""

import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from claims.models import Bill, BillAttachment
from claims.services import ClaimsError, Upload, bill_attach

pytestmark = pytest.mark.django_db
HOSTILE = Path(__file__).resolve().parent.parent / "samples" / "hostile"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def bill(enter_bill, people):
    return enter_bill(people["slh"])


def _bill_form(person, inst, attachments):
    return {
        "id_number": person.id_number, "institution": inst.pk, "kind": "INPATIENT", "admitted_on": "2025-04-01",
        "settled_on": "2025-04-09", "total_cost": "1000", "in_policy_cost": "800", "basic_paid": "400", "critical_paid": "0",
        "account_holder": person.name, "bank_name": "农行", "bank_account": "6228", "attachments": attachments,
    }


@pytest.mark.parametrize("name", ["page.html", "image.svg"])
def test_an_html_page_or_svg_sent_as_a_scan_is_refused_and_nothing_is_saved(name, staff, people, institutions, login):
    data = (HOSTILE / name).read_bytes()
    f = io.BytesIO(data)
    f.name = name.replace(".html", ".pdf")  # the name lies; the bytes tell
    resp = login(staff["district_clerk"]).post(reverse("claims:bill-new"), _bill_form(people["slh"], institutions["YB01"], [f]))
    assert resp.status_code == 200
    assert "不是PDF、JPEG或PNG文件" in resp.content.decode()
    assert not Bill.objects.exists() and not BillAttachment.objects.exists()


def test_the_service_refuses_a_scan_whatever_content_type_the_browser_claimed(bill, staff):
    with pytest.raises(ClaimsError, match="不是PDF"):
        bill_attach(bill=bill, upload=Upload("scan.pdf", "application/pdf", b"<html><script>x</script></html>"), user=staff["district_clerk"])
    att = bill_attach(bill=bill, upload=Upload("scan.png", "text/html", PNG), user=staff["district_clerk"])
    assert att.content_type == "image/png"  # the sniffed type, not the browser's


def test_every_stored_file_is_served_as_a_download_never_inline(bill, staff, login):
    good = bill_attach(bill=bill, upload=Upload("票据一.pdf", "application/pdf", PDF), user=staff["district_clerk"])
    # a paper stored before this check existed, with the browser's type
    old = BillAttachment.objects.create(bill=bill, file_name="x.html", content_type="text/html", size=20, sha256="0",
                                        data=b"<script>alert(1)</script>", uploaded_by=staff["district_clerk"])
    client = login(staff["reviewer"])
    resp = client.get(reverse("claims:attachment", args=[good.pk]))
    assert resp["Content-Type"] == "application/pdf"
    assert resp["Content-Disposition"].startswith("attachment;")
    assert resp["X-Content-Type-Options"] == "nosniff"
    resp = client.get(reverse("claims:attachment", args=[old.pk]))
    assert resp["Content-Type"] == "application/octet-stream"
    assert resp["Content-Disposition"].startswith("attachment;")


def test_every_page_carries_a_content_security_policy_without_inline_script(staff, login):
    resp = login(staff["district_clerk"]).get(reverse("home"))
    csp = resp["Content-Security-Policy"]
    script = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert login(staff["district_clerk"]).get("/accounts/login/").has_header("Content-Security-Policy")


def test_no_template_holds_an_inline_script_or_event_handler():
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        for m in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in m.group(1) and 'type="application/json"' not in m.group(1):
                offenders.append(f"{path.name}: inline <script>")
        for m in re.finditer(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.name}: event handler {m.group(0).strip()}")
        if "javascript:" in text:
            offenders.append(f"{path.name}: javascript: URL")
    assert offenders == [], "CSP allows no inline script: move it to static/js/ " + str(offenders)


def test_each_upload_form_states_its_limit(staff, login):
    pages = {
        reverse("beneficiaries:roster-list"): ("civil_officer", "200 MB"),
        reverse("claims:settlement-list"): ("district_clerk", "100 MB"),
        reverse("claims:bill-new"): ("district_clerk", "10 MB"),
        reverse("funding:subsidy"): ("district_clerk", "100 MB"),
    }
    for url, (who, limit) in pages.items():
        page = login(staff[who]).get(url).content.decode()
        assert limit in page, f"{url} does not state the limit {limit}"


def test_a_data_file_over_its_limit_is_refused_before_it_is_stored(staff, login, monkeypatch):
    from beneficiaries.models import RosterUpload
    from yfbz.core import uploads

    monkeypatch.setitem(uploads.DATA_LIMITS, "roster", 1024)
    big = io.BytesIO(b"a,b\n" * 1000)
    big.name = "big.csv"
    resp = login(staff["civil_officer"]).post(reverse("beneficiaries:roster-list"), {
        "department": staff["civil_officer"].department_id, "month": "2025-03", "mode": "snapshot", "file": big})
    assert "超过" in resp.content.decode()
    assert not RosterUpload.objects.exists()
    assert date.today()  # keep the import used
