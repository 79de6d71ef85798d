"""A department's month as a file (issue 14): whether it is built in the request is decided by counting up to
the limit over the month's decisions, lines and subsidy results — each cut at the limit along an index's order (a
part keeping its default order sorted 257,000 decisions to count 5,001; unordered and uncut, the parts were hash-joined
whole) and the month as a range of instants, which the
(is_current, reviewed_at) index answers (``reviewed_at::date`` read the whole table: 1.5–4.9 s at a million)."""

import re

import pytest
from django.test import Client

from tests.plans import plan
from yfbz.core.exports import KINDS

from .test_department_results import month_results  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_limit_is_counted_on_the_index_unordered(month_results, staff, settings):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.YFBZ_EXPORT_INLINE_ROWS = None
    assert KINDS["monitoring.results"].inline_rows <= 1000
    c = Client()
    c.force_login(staff["civil_officer"])
    with CaptureQueriesContext(connection) as ctx:
        resp = c.get(f"/monitoring/results/?month={month_results['month']}&format=xlsx")
    assert resp.status_code == 200
    counted = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)") and "UNION" in q["sql"]]
    assert len(counted) == 1
    sql = counted[0]
    assert "AT TIME ZONE" not in sql, "the month as reviewed_at::date: no index answers it"
    # each part stops at the limit, walking an index's order (unordered and uncut, PostgreSQL hash-joined the
    # department's 400,000 people with the month's decisions: 1.1 s at a million people)
    assert len(re.findall(r"\bLIMIT \d+", sql)) >= 4, sql
    assert set(re.findall(r'ORDER BY "\w+"\."(\w+)"', sql)) <= {"reviewed_at", "settled_on"}, sql
    assert "Seq Scan on claims_decision" not in plan(sql)
