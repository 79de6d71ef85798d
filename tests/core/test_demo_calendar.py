"""The demo (manage.py demo_data) walks the current month, whatever today is: bills, settlement files,
rosters, enrolment, standards and subsidy runs sit in the previous and the current year relative to
today; every town has a clerk; the roster in town review waits only for 回兴, whose clerk can finish it
so that the reviewer can confirm it."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from beneficiaries import services as roster_services
from beneficiaries.models import RosterUpload, Town
from claims.models import Bill, SettlementMonth
from funding.models import Enrolment, FundRequest, PaymentBatch, SubsidyRun
from yfbz.core.models import User
from yfbz.policy.models import ContributionStandard

pytestmark = pytest.mark.django_db


def _first_of_previous(d, n):
    d = d.replace(day=1)
    for _ in range(n):
        d = (d - timedelta(days=1)).replace(day=1)
    return d


def todo_of(html: str) -> dict[str, int]:
    """The home page's to-do list: {label: count}."""
    import re

    block = html.split('data-testid="todo"', 1)[1].split("</ul>", 1)[0]
    return {label: int(n) for label, n in re.findall(r'<a href="[^"]*">([^<]+)</a> <span class="count">(\d+)</span>', block)}


def test_the_demo_sits_on_todays_calendar_and_its_roster_can_be_walked_to_confirmation(client):
    out = io.StringIO()
    call_command("demo_data", people=300, stdout=out)
    today = timezone.localdate()
    years = {today.year - 1, today.year}

    # bills of the last year, none in the future; three of this month wait for the clerk's decision
    settled = list(Bill.objects.filter(note__startswith="演示数据").values_list("settled_on", flat=True))
    assert settled and min(settled) >= today - timedelta(days=366) and max(settled) <= today
    assert Bill.objects.filter(note__startswith="演示数据", status=Bill.Status.ENTERED).count() == 3
    # one-stop settlement files: the three months before this one
    months = set(SettlementMonth.objects.filter(institution__code="YB001").values_list("month", flat=True))
    assert months == {_first_of_previous(today, n) for n in (1, 2, 3)}
    # enrolment, a contribution standard and a finished subsidy run for both years
    assert set(Enrolment.objects.values_list("year", flat=True).distinct()) == years
    assert {s.year for s in ContributionStandard.objects.all()} >= years
    runs = SubsidyRun.objects.filter(status="done")
    assert {r.year for r in runs} == years and all(r.count_eligible > 0 for r in runs)
    # last month's fund request was compiled, funded and paid
    last = _first_of_previous(today, 1)
    assert FundRequest.objects.filter(year=last.year, month=last.month).exists()

    # a clerk for every town; the printed login says the pattern instead of listing thirty names
    for town in Town.objects.all():
        assert User.objects.get(username=f"{town.code.lower()}_clerk").town == town
    printed = out.getvalue()
    assert "镇街代码小写_clerk" in printed and "lx_clerk" not in printed

    # work waits for each role on its home page: bills to approve, a draft fund request and a payment batch
    # waiting for the bank's return (reviewer); the roster rows of 回兴 (its clerk)
    assert FundRequest.objects.filter(status=FundRequest.Status.DRAFT).exists()
    assert PaymentBatch.objects.filter(status=PaymentBatch.Status.EXPORTED).exists()
    for username, waiting in [
        ("reviewer", ["已核定待审批的票据", "已编制、待审核报送的资金申请", "已生成支付文件、待银行回单确认的批次"]),
        ("hx_clerk", ["本镇街待审核的名单行"]),
        ("district_clerk", ["已录入、待核定的票据"]),
    ]:
        client.force_login(User.objects.get(username=username))
        todo = todo_of(client.get("/").content.decode())
        for label in waiting:
            assert todo.get(label, 0) > 0, (username, label, todo)

    # the civil roster of last month: every town reviewed but 回兴; hx_clerk reviews, the reviewer confirms
    upload = RosterUpload.objects.get(department__code="CIVIL", month=last, status=RosterUpload.Status.TOWN_REVIEW)
    pending_towns = set(roster_services.reviewable_rows(upload).filter(review="pending", town__isnull=False)
                        .values_list("town__code", flat=True))
    assert pending_towns == {"HX"}
    roster_services.roster_rows_review(upload=upload, user=User.objects.get(username="hx_clerk"), accept=True)
    roster_services.roster_confirm(upload=upload, user=User.objects.get(username="reviewer"), confirm_endings=True)
    roster_services.roster_apply(upload_id=upload.pk)  # the job queued after commit
    upload.refresh_from_db()
    assert upload.status == RosterUpload.Status.CONFIRMED
