"""Issue 14, the causes on the claims pages, shown on a few rows without a stopwatch: the bills
list walks an index in its order (no DISTINCT, no sort of every bill), its scheme and category
filters find the current decisions by an index, no page counts every bill, and a settlement page
never selects the uploaded file's bytes."""

from datetime import date

import pytest

from beneficiaries.models import Category
from claims.models import Bill, Decision, SettlementLine
from tests.plans import full_counts, list_query, plan, queries_of, selects_from, sorts_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def bills(people, decided_bill):
    return [decided_bill(people["slh"], settled_on=date(2025, 4, d)) for d in (3, 9, 17)] + [
        decided_bill(people["hx"], settled_on=date(2025, 5, 2))
    ]


@pytest.mark.parametrize("filters", ["", "?scheme=INPATIENT", "?category=DIBAO", "?scheme=INPATIENT&category=DIBAO&status=DECIDED"])
def test_the_bills_list_walks_the_settled_date_index_and_counts_no_full_table(client, staff, bills, filters):
    if "category=" in filters:
        filters = filters.replace("DIBAO", str(Category.objects.get(code="DIBAO").pk))
    client.force_login(staff["district_clerk"])
    resp, queries = queries_of(client, "/claims/" + filters)
    assert resp.status_code == 200
    assert Decision.objects.filter(is_current=True, scheme="INPATIENT").exists()
    if filters:
        assert "张双龙" in resp.content.decode()
    sql = list_query(queries, "claims_bill")
    assert "DISTINCT" not in sql
    explained = plan(sql)
    if not filters:
        assert "bill_default_order" in explained, explained
    assert not sorts_everything(explained), explained
    assert "Seq Scan on claims_bill" not in explained and "Seq Scan on claims_decision" not in explained, explained
    assert full_counts(queries, "claims_bill") == []


def test_a_list_longer_than_the_exact_limit_says_its_total_is_estimated(client, staff, bills, monkeypatch):
    from yfbz.core.paging import EstimatedPaginator

    monkeypatch.setattr(EstimatedPaginator, "exact_up_to", 2)
    client.force_login(staff["district_clerk"])
    text = client.get("/claims/").content.decode()
    assert "共约" in text and "数据库估算" in text
    monkeypatch.setattr(EstimatedPaginator, "exact_up_to", 10)
    text = client.get("/claims/").content.decode()
    assert "共 4 条" in text and "估算" not in text


def test_the_admin_lists_of_bills_and_decisions_use_an_index_for_their_order_and_no_query_per_row(
        client, admin_user, bills, people, decided_bill):
    client.force_login(admin_user)
    counts = {}
    for url, table in (("/admin/claims/bill/", "claims_bill"), ("/admin/claims/decision/", "claims_decision")):
        resp, queries = queries_of(client, url)
        assert resp.status_code == 200
        explained = plan(list_query(queries, table))
        assert not sorts_everything(explained) and f"Seq Scan on {table}" not in explained, (url, explained)
        counts[url] = len(queries)
    # four more rows, the same number of queries (str(bill) names its person: no query per row)
    for d in (4, 5, 6, 7):
        decided_bill(people["none"], settled_on=date(2025, 6, d))
    assert Bill.objects.count() == 8 and Decision.objects.count() == 8
    for url, n in counts.items():
        assert len(queries_of(client, url)[1]) == n, url


@pytest.mark.parametrize("query", ["", "?is_current__exact=1", "?is_current__exact=1&_facets=True", "?scheme__exact=INPATIENT"])
def test_the_admin_lists_of_workflow_records_count_no_whole_table_and_offer_no_facet_counts(
        client, admin_user, bills, monkeypatch, query):
    """Issue 14 (bench/pages.py at a million decisions): a filtered admin list counted every matching row
    (1.5 s per click) and “显示计数” ran a COUNT per filter option over the table (3 s). Now a workflow
    record's list counts up to the exact limit, then says its total is estimated, and offers no facets."""
    from yfbz.core.paging import EstimatedPaginator

    monkeypatch.setattr(EstimatedPaginator, "exact_up_to", 2)
    client.force_login(admin_user)
    resp, queries = queries_of(client, "/admin/claims/decision/" + query)
    assert resp.status_code == 200
    text = resp.content.decode()
    assert full_counts(queries, "claims_decision") == []
    assert "估算" in text and 'data-testid="estimated-count"' in text
    assert "显示计数" not in text and "Show counts" not in text
    assert not [q for q in selects_from(queries, "claims_decision") if "FILTER (WHERE" in q.upper()]  # no facet counts
    # the year filter offers years without SELECT DISTINCT over the table; no column sorts a million rows
    assert not [q for q in selects_from(queries, "claims_decision") if "DISTINCT" in q.upper()]
    assert "2025年" in text and 'class="sortable' not in text


def test_the_admin_list_of_subsidy_changes_walks_an_index_in_its_order(client, admin_user, people, staff):
    """Its default order was ("run", "id"): the run's own default order, a join to the runs and a sort of
    912,031 changes (1.0 s per page at a million people)."""
    from funding.models import SubsidyChange, SubsidyRun

    run = SubsidyRun.objects.create(year=2025, started_by=staff["finance"], status=SubsidyRun.Status.DONE)
    SubsidyChange.objects.bulk_create(SubsidyChange(run=run, person=p, new_category="DIBAO", new_amount="350.00")
                                      for p in people.values())
    client.force_login(admin_user)
    resp, queries = queries_of(client, "/admin/funding/subsidychange/")
    assert resp.status_code == 200
    sql = list_query(queries, "funding_subsidychange")
    assert 'ORDER BY "funding_subsidychange"."run_id" ASC, "funding_subsidychange"."id" ASC' in sql, sql
    assert "subsidy_change_run_order" in plan(sql) or not sorts_everything(plan(sql))


def test_the_settlement_month_page_and_export_never_select_the_files_bytes(client, staff, institutions, people):
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    f = upload_and_import(institutions["YB01"], csv_bytes([line(f"S{i:03d}", people["slh"], "10.00") for i in range(30)]),
                          staff["district_clerk"])
    assert SettlementLine.objects.filter(file=f).count() == 30
    client.force_login(staff["district_clerk"])
    for url in (f"/claims/settlements/{f.settlement_month_id}/", "/claims/settlements/export.xlsx?month=2025-03",
                "/claims/settlements/"):
        resp, queries = queries_of(client, url)
        assert resp.status_code == 200, url
        assert selects_from(queries, "claims_settlementline") or "export" not in url
        leaks = [q for q in queries if '"claims_settlementfile"."data"' in q]
        assert leaks == [], (url, leaks)


def test_the_settlement_month_page_reads_its_lines_without_joining_every_file(client, staff, institutions, people):
    """Issue 14: the month's lines were read joined with the settlement files (unused by the page); ordered by
    file and line, PostgreSQL walked every file of every month in order and compared each with each of the
    month's lines (700,000 comparisons, 82 ms of a 93 ms query at 600 months). The lines alone are read: the
    month's by its index, sorted, then their people (8 ms)."""
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    f = upload_and_import(institutions["YB01"], csv_bytes([line(f"S{i:03d}", people["slh"], "10.00") for i in range(3)]),
                          staff["district_clerk"])
    client.force_login(staff["district_clerk"])
    resp, queries = queries_of(client, f"/claims/settlements/{f.settlement_month_id}/")
    assert resp.status_code == 200 and "张双龙" in resp.content.decode()
    sql = list_query(queries, "claims_settlementline")
    assert "claims_settlementfile" not in sql, sql


def test_a_settlement_file_is_read_by_the_import_and_on_purpose_only(staff, institutions, people, client):
    from claims.models import SettlementFile
    from claims.selectors import settlement_lines_for
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    data = csv_bytes([line("S001", people["slh"], "10.00")])
    f = upload_and_import(institutions["YB01"], data, staff["district_clerk"])
    assert f.status == SettlementFile.Status.DONE and SettlementLine.objects.filter(file=f).count() == 1
    ln = settlement_lines_for(staff["district_clerk"]).get(file=f)
    assert "data" in ln.file.get_deferred_fields()
    assert bytes(ln.file.data) == data  # read on purpose: one query of its own
    lazy = SettlementLine.objects.get(pk=ln.pk).file  # a lazy foreign key
    assert "data" in lazy.get_deferred_fields() and bytes(lazy.data) == data


def test_the_identity_disagreements_page_counts_by_an_index_not_every_line(client, staff, institutions, people):
    """Issue 14: the page of lines whose 救助身份 disagrees counted and grouped them with a sequential scan of
    every one-stop line (0.4 s twice at 700,094 lines, with no disagreement at all)."""
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    upload_and_import(institutions["YB01"], csv_bytes([line(f"S{i:03d}", people["slh"], "10.00") for i in range(30)]),
                      staff["district_clerk"])
    client.force_login(staff["district_clerk"])
    resp, queries = queries_of(client, "/claims/settlements/identities/")
    assert resp.status_code == 200
    counting = [q for q in selects_from(queries, "claims_settlementline") if "COUNT(" in q]
    assert len(counting) >= 2
    for sql in counting:  # (plan: with sequential scans off, as a few rows here would take one anyway)
        explained = plan(sql)
        assert "settlement_line_identity_note" in explained, explained



def test_a_town_clerks_settlement_months_are_found_by_an_index_not_every_line(client, staff, institutions, people):
    """Issue 14: a town clerk's list of settlement months (those holding a line of their town) read every
    one-stop line to find them (87 ms at 700,000 lines, the list's p50 184 ms under the bench's load); at a
    city's tens of millions of lines a year it would take seconds."""
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    upload_and_import(institutions["YB01"], csv_bytes([line(f"S{i:03d}", people["slh"], "10.00") for i in range(30)]),
                      staff["district_clerk"])
    client.force_login(staff["slh_clerk"])
    resp, queries = queries_of(client, "/claims/settlements/")
    assert resp.status_code == 200 and institutions["YB01"].name in resp.content.decode()  # the month is theirs
    reading = [q for q in queries if "claims_settlementline" in q]
    assert reading
    for sql in reading:  # (plan: with sequential scans off, as a few rows here would take one anyway)
        explained = plan(sql)
        assert "settlement_line_town_month" in explained, explained


def test_the_bills_list_writes_its_assistance_as_money(client, staff, people, decided_bill):
    """The list's 医疗救助 column printed the Decimal as it is ("3136.00") beside "9,800.00" in the same row
    (seen in Chromium on the demo data): every amount on a page is written the one way."""
    from yfbz.core.templatetags.yfbz import money

    bill = decided_bill(people["slh"], in_policy="30000.00", basic="15000.00")
    d = bill.decisions.get(is_current=True)
    assert d.assistance >= 1000
    client.force_login(staff["district_clerk"])
    text = client.get("/claims/").content.decode()
    assert f'<td class="num">{money(d.assistance)}</td>' in text and "," in money(d.assistance)


@pytest.mark.parametrize("url, table, index", [
    ("/admin/claims/decision/?provisional__exact=1", "claims_decision", "decision_provisional"),
    ("/admin/claims/settlementline/?dispute__exact=NOT_ELIGIBLE", "claims_settlementline", "settlement_line_disputed"),
    ("/admin/claims/settlementline/?resolution=ENGINE", "claims_settlementline", "settlement_line_resolved"),
])
def test_the_admin_filters_for_rare_values_find_them_by_an_index(client, admin_user, staff, institutions, people,
                                                                 decided_bill, url, table, index):
    """Issue 14: at a million rows the admin's 使用暂行规则 and 异议原因 filters read every decision (0.4 s) and every
    one-stop line (0.35 s) to find none: a partial index holds the few rows each filter asks for."""
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    decided_bill(people["slh"], settled_on=date(2025, 4, 3))
    upload_and_import(institutions["YB01"], csv_bytes([line(f"S{i:03d}", people["slh"], "10.00") for i in range(5)]),
                      staff["district_clerk"])
    client.force_login(admin_user)
    resp, queries = queries_of(client, url)
    assert resp.status_code == 200
    reading = [q for q in selects_from(queries, table) if "WHERE" in q]
    assert reading, queries
    for sql in reading:
        assert index in plan(sql), sql


def test_the_reviewers_home_page_counts_the_waiting_disputes_by_an_index(client, staff, institutions, people):
    """Issue 14: the reviewer's home page counted the disputes still waiting by reading every one-stop line
    (0.18 s at 700,094 lines): a partial index holds the waiting disputes."""
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    upload_and_import(institutions["YB01"], csv_bytes([line(f"S{i:03d}", people["slh"], "10.00") for i in range(5)]),
                      staff["district_clerk"])
    client.force_login(staff["reviewer"])
    client.get("/")
    resp, queries = queries_of(client, "/")
    assert resp.status_code == 200
    counting = [q for q in selects_from(queries, "claims_settlementline") if "COUNT(" in q]
    assert counting, queries
    for sql in counting:
        assert "settlement_line_dispute_open" in plan(sql), sql


def test_a_month_whose_disputes_are_all_resolved_waits_on_the_reviewers_home_page(client, staff, institutions, people):
    """The home page's 异议已处理完、待确认的一站式结算月份 asked for months with no disputed line *or* no line with an
    empty resolution — every agreed line has one — so a month that had any dispute was never listed."""
    from claims.settlement import settlement_line_resolve
    from tests.claims.test_settlement import csv_bytes, line, upload_and_import

    f = upload_and_import(institutions["YB01"], csv_bytes([line("S001", people["slh"], "4000.00"),
                                                           line("S002", people["hx"], "4000.00")]),  # wrong ratio
                          staff["district_clerk"])
    disputed = SettlementLine.objects.get(file=f, outcome="DISPUTED")
    client.force_login(staff["reviewer"])
    label = "异议已处理完、待确认的一站式结算月份"
    assert label not in client.get("/").content.decode()  # a dispute waits: the month is not ready
    settlement_line_resolve(line_id=disputed.pk, user=staff["reviewer"], resolution="ENGINE")
    page = client.get("/").content.decode()
    assert label in page and f"/claims/settlements/{f.settlement_month_id}/" in page
