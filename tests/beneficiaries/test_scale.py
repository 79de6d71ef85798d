"""Issue 14, the causes on the people and roster pages, on a few rows without a stopwatch: the duty
board asks a fixed number of queries whatever the number of departments and aggregates the towns'
review in the database; a roster's page reads one page of its rows (plus a bounded count) and takes its
towns' figures from the counts kept per town; the people list walks the (town, name) index and its search
reads index ranges."""


import pytest
from django.urls import reverse

from beneficiaries.models import Department, RosterRow
from tests.plans import full_counts, list_query, plan, queries_of, selects_from, sorts_everything

from .conftest import ids, roster_xlsx

pytestmark = pytest.mark.django_db


def _roster_queries(queries):
    return [q for q in queries if '"beneficiaries_roster' in q and not q.startswith(("SAVEPOINT", "RELEASE"))]


def test_the_duty_board_asks_the_same_few_queries_for_any_number_of_departments(upload_file, staff, login, departments):
    url = reverse("beneficiaries:duty-board") + "?month=2025-04"
    client = login(staff["district_clerk"])
    up = upload_file(roster_xlsx([(n, "某", "低保", t, "", "") for n, t in zip(ids(6), ["双龙湖", "回兴"] * 3, strict=True)]))
    assert up.upload.rows_total == 6
    resp, queries = queries_of(client, url)
    assert resp.status_code == 200
    before = len(queries)
    for i in range(5):
        Department.objects.create(code=f"D{i}", name=f"部门{i}")
    resp, queries = queries_of(client, url)
    assert resp.status_code == 200 and "部门4" in resp.content.decode()
    assert len(queries) == before, "a query per department"
    # the towns' review state comes back aggregated, never as one row per roster row
    rows = selects_from(queries, "beneficiaries_rosterrow")
    assert rows and all("GROUP BY" in q for q in rows), rows
    assert len(_roster_queries(queries)) <= 2


def test_a_rosters_page_reads_one_page_of_rows_and_its_towns_figures_from_the_counts(upload_file, staff, login):
    from beneficiaries.services import roster_submit

    up = upload_file(roster_xlsx([(n, "某", "低保", t, "", "") for n, t in zip(ids(6), ["双龙湖", "回兴"] * 3, strict=True)])).upload
    roster_submit(upload=up, user=staff["civil_officer"])
    url = reverse("beneficiaries:roster-detail", args=[up.pk])
    for who in ("district_clerk", "slh_clerk"):
        resp, queries = queries_of(login(staff[who]), url)
        assert resp.status_code == 200
        text = resp.content.decode()
        rows = selects_from(queries, "beneficiaries_rosterrow")
        scans = [q for q in rows if "LIMIT" not in q]  # whole-upload reads (aggregates); LIMITed = pages
        # the towns' figures and a town clerk's own come from the upload's counts (RosterTownCount)
        assert scans == [], (who, scans)
        assert [q for q in rows if "GROUP BY" in q] == []
        assert full_counts(queries, "beneficiaries_rosterrow") == []
        counts = selects_from(queries, "beneficiaries_rostertowncount")
        assert len(counts) == 1 and "Seq Scan" not in plan(counts[0]), counts
        if who == "district_clerk":
            assert "尚有 6 行待镇街审核" in text
        else:
            assert 'data-testid="my-pending">3<' in text
    assert RosterRow.objects.filter(upload=up).count() == 6


@pytest.mark.parametrize("query", ["", "?q=张", "?town=TOWN", "?q=张&town=TOWN", "?category=CAT"])
def test_the_people_list_walks_its_index_and_searches_by_index_ranges(make_person, staff, login, towns, query):
    from beneficiaries.models import Category

    for name, town in (("张三", "SLH"), ("张四", "HX"), ("李五", "SLH"), ("王张", "SLH")):
        make_person(name, town=town)
    query = query.replace("TOWN", str(towns["SLH"].pk)).replace("CAT", str(Category.objects.get(code="DIBAO").pk))
    resp, queries = queries_of(login(staff["district_clerk"]), reverse("beneficiaries:person-list") + query)
    assert resp.status_code == 200
    text = resp.content.decode()
    if "q=张" in query:
        assert "张三" in text and "王张" not in text  # a name from its first character
    sql = list_query(queries, "beneficiaries_person")
    assert "DISTINCT" not in sql and '"beneficiaries_town"."code"' not in sql.split("ORDER BY")[1]
    explained = plan(sql)
    assert not sorts_everything(explained), explained
    assert "Seq Scan on beneficiaries_person" not in explained, explained
    assert full_counts(queries, "beneficiaries_person") == []

