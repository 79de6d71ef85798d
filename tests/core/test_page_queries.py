"""Pages drawn in a fixed number of queries (issue 14): what a page lists must not cost a query per row.

The audit trail named the object behind every changed reference with its own query (auditlog reads a
foreign key's object per entry and per field), and every field whose choices are the editable
categories read the Category table once per row: the export of a bureau's trail made a query per
entry, the policy page 294 queries. Both now read each kind of object once (yfbz.core.memo,
yfbz.core.display.prime_audit_memo).
"""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def _queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, resp.content[:500]
    return len(ctx.captured_queries), resp


def test_the_audit_export_and_page_cost_the_same_queries_for_three_people_as_for_fifteen(make_person, staff, login):
    client = login(staff["auditor"])
    for i in range(3):
        make_person(f"甲{i}")
    _queries(client, reverse("audit-export"))  # the first request of a session reads more (session, user)
    few_export, _ = _queries(client, reverse("audit-export"))
    few_page, _ = _queries(client, reverse("audit-log"))
    for i in range(12):
        make_person(f"乙{i}", town="HX")
    many_export, resp = _queries(client, reverse("audit-export"))
    many_page, _ = _queries(client, reverse("audit-log"))
    assert many_export <= few_export, (few_export, many_export)
    assert many_page <= few_page, (few_page, many_page)
    # and the references are still named: each identity's entry names its person
    sheet = load_workbook(io.BytesIO(resp.content)).active
    changes = " ".join(str(row[6]) for row in sheet.iter_rows(min_row=2, values_only=True))
    assert all(f"乙{i}" in changes for i in range(12)), changes[:500]


def test_the_policy_page_reads_the_categories_once_however_many_rows_it_lists(staff, login):
    client = login(staff["district_clerk"])
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(reverse("policy:in-force"))
    assert resp.status_code == 200
    category_reads = [q for q in ctx.captured_queries if 'FROM "beneficiaries_category"' in q["sql"]]
    assert len(category_reads) <= 1, len(category_reads)
    assert len(ctx.captured_queries) <= 30, len(ctx.captured_queries)

