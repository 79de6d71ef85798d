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
