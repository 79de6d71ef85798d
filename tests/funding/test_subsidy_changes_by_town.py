"""The town clerk's subsidy page (issue 14): a run's changes carry the town they were made for (the person's
town on 31 December, as their result does), so a clerk's list is read on the (run, town) index instead of
walking every change of the run and joining each to its person (911,942 changes at a million people)."""

from datetime import date

import pytest
from django.urls import reverse

from beneficiaries.models import Identity
from funding.models import SubsidyChange
from tests.plans import list_query, plan, queries_of

from .test_subsidies import enrol, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs(django_capture_on_commit_callbacks, make_person, staff, towns):
    """A first run; then each of two people (one per town) gains an identity, and the second run lists them."""
    a = make_person("双龙甲", town="SLH", categories=("DIBAO",))
    b = make_person("回兴乙", town="HX", categories=("DIBAO",))
    for p in (a, b):
        enrol(p, "RESIDENT_T1")
    with django_capture_on_commit_callbacks(execute=True):
        run(2025, staff["district_clerk"])
    tekun = Identity.objects.filter(category__code="TEKUN").values_list("category_id", flat=True).first()
    if tekun is None:
        from beneficiaries.models import Category

        tekun = Category.objects.get(code="TEKUN").pk
    for p in (a, b):
        Identity.objects.create(person=p, category_id=tekun, valid_from=date(2025, 6, 1))
    with django_capture_on_commit_callbacks(execute=True):
        second = run(2025, staff["district_clerk"])
    return a, b, second


def test_each_change_records_the_town_it_was_made_for_and_a_clerk_sees_their_towns_only(two_runs, staff, login, towns):
    a, b, second = two_runs
    assert dict(SubsidyChange.objects.filter(run=second).values_list("person__name", "town__code")) == {
        "双龙甲": "SLH", "回兴乙": "HX"}
    page = login(staff["slh_clerk"]).get(reverse("funding:subsidy") + "?year=2025").content.decode()
    assert "双龙甲" in page and "回兴乙" not in page
    # a person who moves after the run stays on the list of the town the change was made for
    a.town = towns["HX"]
    a.save(update_fields=["town"])
    page = login(staff["slh_clerk"]).get(reverse("funding:subsidy") + "?year=2025").content.decode()
    assert "双龙甲" in page


def test_the_clerks_list_of_changes_is_read_on_the_run_town_index(two_runs, staff, login):
    resp, queries = queries_of(login(staff["slh_clerk"]), reverse("funding:subsidy") + "?year=2025")
    assert resp.status_code == 200
    sql = list_query(queries, "funding_subsidychange")
    assert "beneficiaries_person" not in sql.split(" WHERE ")[1].split(" ORDER BY ")[0], sql
    explained = plan(sql)
    assert "subsidy_change_run_town" in explained, explained
