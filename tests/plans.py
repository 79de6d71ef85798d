"""Helpers of the scale tests (issue 14): what a page asks the database, and how PostgreSQL would
answer it, on data far too small for a stopwatch to tell anything.

``plan(sql)`` is EXPLAIN with sequential scans and sorts priced out (``enable_seqscan``/
``enable_sort`` off): PostgreSQL still scans or sorts when no index can do the job, so a plan that
shows ``Seq Scan on <table>`` or ``Sort`` means “no index for this” whatever the table's size.
"""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def plan(sql: str) -> str:
    with connection.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        cur.execute("SET enable_sort = off")
        try:
            cur.execute("EXPLAIN " + sql)
            return "\n".join(r[0] for r in cur.fetchall())
        finally:
            cur.execute("RESET enable_seqscan")
            cur.execute("RESET enable_sort")


def queries_of(client, url):
    """(response, [sql, …]) of one GET."""
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
        if getattr(resp, "streaming", False):
            b"".join(resp.streaming_content)
    return resp, [q["sql"] for q in ctx.captured_queries]


def selects_from(queries, table: str) -> list[str]:
    """The SELECTs over ``table`` (server-side cursors of ``.iterator()`` included)."""
    return [re.sub(r"^\s*DECLARE .*? CURSOR (WITH HOLD )?FOR ", "", q) for q in queries
            if re.match(r"\s*(SELECT|DECLARE .*? CURSOR (WITH HOLD )?FOR SELECT)", q) and f'FROM "{table}"' in q]


def full_counts(queries, table: str) -> list[str]:
    """Totals (``SELECT COUNT(*)``) over ``table`` with no LIMIT: each reads every matching row."""
    return [q for q in selects_from(queries, table)
            if re.match(r"\s*SELECT COUNT\(\*\)", q, re.I) and not re.search(r"\bLIMIT\b", q)]


def list_query(queries, table: str) -> str:
    """The query that fetches the rows of a list over ``table`` (the first ordered SELECT)."""
    found = [q for q in selects_from(queries, table) if "ORDER BY" in q and "COUNT(" not in q.upper()]
    assert found, f"no page query over {table} in: {queries}"
    return found[0]


def sorts_everything(explained: str) -> bool:
    """A Sort node (an Incremental Sort only orders the ties of an index's order: that is fine)."""
    return bool(re.search(r"(?<!Incremental )\bSort  \(", explained)) or "Unique" in explained
