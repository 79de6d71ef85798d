"""The home page tells each member of staff what waits for them."""

from datetime import date

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def todo_of(client):
    return {t["label"]: t["count"] for t in client.get(reverse("home")).context["todo"]}


def test_a_reviewer_sees_the_bills_waiting_for_approval_and_a_town_clerk_does_not(staff, people, decided_bill, login):
    assert "已核定待审批的票据" not in todo_of(login(staff["reviewer"]))
    decided_bill(people["slh"])
    decided_bill(people["hx"], settled_on=date(2025, 5, 2))
    assert todo_of(login(staff["reviewer"]))["已核定待审批的票据"] == 2
    assert "已核定待审批的票据" not in todo_of(login(staff["slh_clerk"]))
    page = login(staff["reviewer"]).get(reverse("home")).content.decode()
    assert "?status=DECIDED" in page


def test_the_district_clerk_sees_bills_to_decide_and_everyone_their_past_notice_batches(staff, people, enter_bill, login):
    from claims.models import NoticeBatch

    enter_bill(people["slh"])
    clerk = login(staff["district_clerk"])
    assert todo_of(clerk)["已录入、待核定的票据"] == 1
    assert "已录入、待核定的票据" not in todo_of(login(staff["reviewer"]))
    NoticeBatch.objects.create(requested_by=staff["district_clerk"], decision_ids=[1, 2], status="DONE", progress_total=2)
    NoticeBatch.objects.create(requested_by=staff["reviewer"], decision_ids=[3], status="DONE", progress_total=1)
    page = login(staff["district_clerk"]).get(reverse("claims:notice-batches")).content.decode()
    assert "批量打印记录" in page and page.count("下载 PDF") == 1
