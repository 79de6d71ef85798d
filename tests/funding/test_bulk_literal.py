"""funding.bulk.insert_rows sends each column as one array literal built in Python (issue 14: psycopg's
per-element array dumper was ~9% of a subsidy run): every value arrives as it was — quotes, backslashes,
commas, braces, the word NULL, empty strings, None, booleans and Decimals."""

from decimal import Decimal

import pytest

from funding.bulk import array_literal, insert_rows
from funding.models import SubsidyResult, SubsidyRun

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TRICKY = ['a"b', "c\\d", "", "NULL", "x,y{z}", "政策@CQ+JB_TOWNS+YB", " 前后空格 "]


def test_the_literal_of_a_column():
    assert array_literal([1, None, Decimal("3.10"), True, False, 'a"b\\']) == '{1,NULL,3.10,t,f,"a\\"b\\\\"}'


def test_every_value_arrives_as_it_was(make_person, staff):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the unnest insert is PostgreSQL's")
    run = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"])
    people = [make_person(f"字面{i}") for i in range(len(TRICKY))]
    rows = [(p.pk, text, Decimal("342.10") if i % 2 else None, Decimal("0.00"), bool(i % 2))
            for i, (p, text) in enumerate(zip(people, TRICKY, strict=True))]
    insert_rows("funding_subsidyresult", [("person_id", "bigint"), ("policy_version", "varchar"), ("standard_amount", "numeric"),
                                          ("amount", "numeric"), ("provisional", "boolean")], rows,
                constants={"year": ("smallint", 2025), "run_id": ("bigint", run.pk), "enrolment": ("varchar", ""),
                           "category": ("varchar", ""), "group": ("varchar", ""), "reasons": ("varchar", "")})
    got = sorted(SubsidyResult.objects.values_list("person_id", "policy_version", "standard_amount", "amount", "provisional"))
    assert got == sorted(rows)
