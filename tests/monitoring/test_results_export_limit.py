"""A department's month as a file (issue 14): whether it is built in the request is decided by counting up to
the limit over the month's decisions, lines and subsidy results — each unordered (a part keeping its default
order sorted 257,000 decisions to count 5,001) and the month as a range of instants, which the
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
    assert not re.search(r"ORDER BY", sql), "a part of the count sorts its rows"
    assert "Seq Scan on claims_decision" not in plan(sql)
