"""The demo (manage.py demo_data) on today's calendar: the retroactive list holds only changes that
reach decisions, one of them walked through to the end (re-decided, approved, a new notice), the
others waiting for a walker; running the demo again adds nothing."""

import io

import pytest
from django.core.management import call_command

from beneficiaries.models import RetroactiveChange
from claims.models import Notice

pytestmark = pytest.mark.django_db


def test_the_demo_lists_only_changes_that_reach_decisions_and_walks_one():
    call_command("demo_data", people=300, stdout=io.StringIO())
    waiting = RetroactiveChange.objects.filter(status__in=RetroactiveChange.WAITING)
    assert waiting.count() == 3
    assert all(c.decisions_reached or c.lines_reached for c in waiting)
    assert {c.person.name for c in waiting} == {"吴国庆", "郑秀兰", "冯建军"}
    closed = RetroactiveChange.objects.filter(status="AUTO_CLOSED")
    assert closed.exists() and not any(c.decisions_reached or c.lines_reached for c in closed)
    walked = RetroactiveChange.objects.get(status="REVIEWED")
    assert walked.person.name == "周晓梅"
    d = walked.redecisions.get()
    assert d.reviewed_at and Notice.objects.filter(decision=d).exists() and d.adjustments.get().kind == "RECOVERY"
    before = RetroactiveChange.objects.count()
    call_command("demo_data", people=300, stdout=io.StringIO())
    assert RetroactiveChange.objects.count() == before
