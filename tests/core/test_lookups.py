"""``field__any=[…]`` (yfbz/core/lookups.py): the same rows as ``__in``, by one array parameter on
PostgreSQL, on plain fields and foreign keys; an empty list matches nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from beneficiaries.models import Category, Identity

pytestmark = pytest.mark.django_db


def test_any_matches_what_in_matches(make_person):
    a = make_person("甲", categories=("DIBAO",))
    b = make_person("乙", categories=("TEKUN",))
    codes = ["DIBAO", "TEKUN", "NO_SUCH"] + [f"X{i}" for i in range(6000)]
    assert set(Category.objects.filter(code__any=codes).values_list("pk", flat=True)) == set(
        Category.objects.filter(code__in=codes).values_list("pk", flat=True))
    ids = [a.pk, b.pk, *range(10**9, 10**9 + 6000)]
    assert set(Identity.objects.filter(person_id__any=ids).values_list("person_id", flat=True)) == {a.pk, b.pk}
    assert set(Identity.objects.filter(person__any=[a.pk]).values_list("person_id", flat=True)) == {a.pk}
    assert not Category.objects.filter(code__any=[]).exists()
    with CaptureQueriesContext(connection) as q:
        list(Category.objects.filter(code__any=codes))
    if connection.vendor == "postgresql":
        assert "= ANY(" in q.captured_queries[0]["sql"]


def test_any_sends_plain_strings_and_ints_as_one_text_and_still_matches_every_odd_value(make_person):
    """Plain str / int lists go as one text value split by the server (no per-value preparation: a
    high-cost month looks up 500,000 ID numbers four times); the same rows as ``__in`` either way."""
    a = make_person("甲", categories=("DIBAO",))
    numbers = [a.id_number, *(f"X{i}" for i in range(6000))]
    with CaptureQueriesContext(connection) as q:
        assert list(type(a).objects.filter(id_number__any=numbers).values_list("pk", flat=True)) == [a.pk]
        assert list(Identity.objects.filter(person_id__any=[a.pk, 10**12]).values_list("person_id", flat=True)) == [a.pk]
    if connection.vendor == "postgresql":
        assert all("string_to_array" in c["sql"] for c in q.captured_queries)
    # values the one-text form cannot carry take the array path and match the same
    Category.objects.filter(code="DIBAO").update(name="低保\x1f对象")
    assert Category.objects.filter(name__any=["低保\x1f对象", "x"]).count() == 1
    assert Category.objects.filter(name__any=[""]).count() == Category.objects.filter(name__in=[""]).count()
    assert Category.objects.filter(code__any=("DIBAO",)).count() == 1
    assert Identity.objects.filter(person_id__any=[str(a.pk)]).count() == Identity.objects.filter(person_id__in=[str(a.pk)]).count()
