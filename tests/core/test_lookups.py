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
