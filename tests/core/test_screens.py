"""A browser walk per role on the demo data (issue 11): each member of staff logs in with the printed
demo login and walks their main journey in Chromium; every main page and document is saved as a
screenshot (test artefacts in $YFBZ_SCREENS_DIR, default /tmp/yfbz-screens; docs/screens.md shows the
committed copies from docs/screens/, made by this test with YFBZ_SCREENS_DIR=docs/screens).

Journeys: town clerk reviews last month's roster (accept all, asked first); the reviewer confirms it and
approves a bill; the district clerk enters a bill person first (the card from the ID number) and opens
the duty board; finance sees its waiting work and the fund request and month report; the department
officer sees their rosters; the leader the dashboard; the notice and the fund request form as PDFs."""

import io
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("YFBZ_SCREENS_DIR", "/tmp/yfbz-screens"))
WIDTH = 1280


def shot(page, name: str) -> Path:
    """A 1280-wide screenshot of the visible page (the first 1,000 px of a long one), palette-compressed."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    height = min(page.evaluate("document.documentElement.scrollHeight"), 1000)
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": WIDTH, "height": max(height, 400)})
    _compress(path)
    return path


def pdf_shot(data: bytes, name: str) -> Path:
    """The first page of a PDF as a PNG (pdftoppm, as a person would see it printed)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SHOTS / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(SHOTS / name)], check=True)
    pdf.unlink()
    path = SHOTS / f"{name}.png"
    _compress(path)
    return path


def _compress(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=128).save(path, optimize=True)


def login(page, username):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.get_by_test_id("who").is_visible(), username


def confirm_dialog(page, name: str, expect: str) -> None:
    """An irreversible step asks first, saying what will happen; the screenshot shows the question."""
    dialog = page.get_by_test_id("confirm-dialog")
    dialog.wait_for(state="visible")
    assert expect in page.get_by_test_id("confirm-text").inner_text()
    shot(page, name)
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_load_state()


def test_each_role_walks_its_main_journey_on_the_demo_data(page):
    from beneficiaries.models import RosterUpload
    from claims.models import Bill, Decision
    from funding.models import FundRequest

    call_command("demo_data", people=300, password=PASSWORD, stdout=io.StringIO())
    page.set_viewport_size({"width": WIDTH, "height": 900})

    # 镇街经办员: last month's civil roster waits for 回兴
    roster = RosterUpload.objects.get(department__code="CIVIL", status=RosterUpload.Status.TOWN_REVIEW)
    login(page, "hx_clerk")
    assert "本镇街待审核的名单行" in page.get_by_test_id("todo").inner_text()
    shot(page, "01-town-clerk-home")
    page.goto(reverse("beneficiaries:roster-detail", args=[roster.pk]))
    shot(page, "02-roster-town-review")
    page.get_by_test_id("accept-all").click()
    confirm_dialog(page, "03-confirm-accept-all", "待审核的全部")
    assert "已接受" in page.content()

    # 区医保审核: confirms the roster, approves a bill
    login(page, "reviewer")
    shot(page, "04-reviewer-home")
    page.goto(reverse("beneficiaries:roster-detail", args=[roster.pk]))
    page.get_by_test_id("confirm").click()
    confirm_dialog(page, "05-confirm-roster", "名单生效")
    bill = Bill.objects.filter(status=Bill.Status.DECIDED).order_by("pk").first()
    page.goto(reverse("claims:bill-detail", args=[bill.pk]))
    shot(page, "06-bill-review")
    box = page.get_by_test_id("confirm-provisional")
    if box.count():
        box.check()
    page.get_by_test_id("approve").click()
    confirm_dialog(page, "06b-confirm-approve", "审批同意")
    assert page.get_by_test_id("bill-status").inner_text() in ("已审批", "不予救助")
    page.goto(reverse("claims:settlement-list"))
    shot(page, "07-settlement-list")
    from claims.models import SettlementMonth

    sm = SettlementMonth.objects.filter(status="OPEN", institution__code="YB001").order_by("-month").first()
    page.goto(reverse("claims:settlement-month", args=[sm.pk]))
    shot(page, "08-settlement-month")

    # 区医保经办: a bill, person first
    login(page, "district_clerk")
    shot(page, "09-district-clerk-home")
    done = [Bill.Status.APPROVED, Bill.Status.PAID]
    person = (Bill.objects.filter(status__in=done, person__identities__valid_to__isnull=True)
              .order_by("pk").first().person)  # someone with bills this year who holds an identity today
    page.goto(reverse("claims:bill-new"))
    page.get_by_test_id("id-number").fill(person.id_number)
    page.get_by_test_id("person-name").wait_for()
    assert page.get_by_test_id("person-name").inner_text() == person.name
    shot(page, "10-bill-form-person-first")
    page.goto(reverse("beneficiaries:duty-board"))
    shot(page, "11-duty-board")
    page.goto(reverse("funding:subsidy"))
    shot(page, "12-subsidy")

    # 财务: waiting work, a fund request, the month report
    login(page, "finance")
    todo = page.get_by_test_id("todo").inner_text()
    assert "支付失败" in todo
    shot(page, "13-finance-home")
    req = FundRequest.objects.order_by("pk").first()
    page.goto(reverse("funding:request-detail", args=[req.pk]))
    shot(page, "14-fund-request")
    page.goto(reverse("funding:report"))
    shot(page, "15-month-report")
    # 打印申请表 is a job (issue 14): the button leads to the job's page, which offers the PDF
    page.goto(reverse("funding:request-detail", args=[req.pk]))
    page.get_by_test_id("pdf").click()
    page.get_by_test_id("export-download").wait_for()
    pdf = page.request.get(page.get_by_test_id("export-download").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    pdf_shot(pdf.body(), "21-doc-fund-request")

    # 部门数据员 and 局领导
    login(page, "civil_officer")
    shot(page, "16-department-officer-home")
    page.goto(reverse("beneficiaries:roster-list"))
    shot(page, "17-roster-list")
    login(page, "leader")
    page.goto(reverse("reporting:dashboard"))
    shot(page, "18-dashboard")

    # documents: an approval notice and a refusal notice, as printed
    login(page, "district_clerk")
    approved = Decision.objects.filter(is_current=True, bill__status__in=[Bill.Status.APPROVED, Bill.Status.PAID],
                                       assistance__gt=0).order_by("pk").first()

    def printed(decision, shot_name=None):
        """打印 on the bill page: a job (a task, inline here), then its page offers the PDF."""
        page.goto(reverse("claims:bill-detail", args=[decision.bill_id]))
        page.get_by_test_id("print-notice").click()
        page.get_by_test_id("batch-download").wait_for()
        if shot_name:
            shot(page, shot_name)
        resp = page.request.get(page.get_by_test_id("batch-download").get_attribute("href"))
        assert resp.ok and resp.headers["content-type"] == "application/pdf"
        return resp.body()

    pdf_shot(printed(approved, "24-notice-printed"), "22-doc-approval-notice")
    refused = Decision.objects.filter(is_current=True, bill__status=Bill.Status.REFUSED).order_by("pk").first()
    if refused is not None:
        pdf_shot(printed(refused), "23-doc-refusal-notice")
    made = sorted(p.name for p in SHOTS.glob("*.png"))
    assert len(made) >= 20, made
