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


def test_copy_text_keeps_every_value_as_it_was(make_person, staff):
    """funding.bulk.copy_fields / copy_lines (the subsidy run's results and changes by COPY, issue 14):
    tabs, newlines, carriage returns and backslashes in text, None, booleans and Decimals arrive as they were."""
    from django.db import connection

    from funding.bulk import copy_field, copy_fields, copy_lines

    assert copy_field(None) == "\\N" and copy_field(True) == "t" and copy_field("a\tb\\c\nd\re") == "a\\tb\\\\c\\nd\\re"
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    run = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"])
    texts = [*TRICKY, "制\t表", "换\n行", "回\r车", "\\N", "反\\斜\\\\杠"]
    people = [make_person(f"复制{i}") for i in range(len(texts))]
    rows = [(p.pk, text, Decimal("342.10") if i % 2 else None, Decimal("0.00"), bool(i % 2))
            for i, (p, text) in enumerate(zip(people, texts, strict=True))]
    lines = [f"{r[0]}\t{copy_fields((*r[1:], 2025, run.pk, '', '', '', ''))}\n" for r in rows]
    copy_lines("funding_subsidyresult", ["person_id", "policy_version", "standard_amount", "amount", "provisional", "year",
                                         "run_id", "enrolment", "category", "group", "reasons"], lines)
    got = sorted(SubsidyResult.objects.values_list("person_id", "policy_version", "standard_amount", "amount", "provisional"))
    assert got == sorted(rows)


def test_a_result_written_since_the_batch_read_the_year_is_upserted_not_a_failed_run(make_person, staff):
    """The run writes the results of people it found without one by COPY inside a savepoint; should one
    have been written meanwhile, the batch's rows are upserted instead (the newer values win, no duplicate)."""
    from funding.services.subsidies import _Deciding, _insert_results
    from yfbz.policy.selectors import policy_book

    run = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"])
    a, b = make_person("已有"), make_person("新人")
    SubsidyResult.objects.create(person=a, year=2025, run=run, enrolment="RESIDENT_T1", category="DIBAO", amount=Decimal("1.00"))
    deciding = _Deciding(run, policy_book(), False, {})
    values = ("RESIDENT_T1", "TEKUN", "SUB_FULL", Decimal("400.00"), Decimal("400.00"), "1", False, "v1", None)
    _insert_results([(a.pk, values), (b.pk, values)], deciding)
    got = sorted(SubsidyResult.objects.values_list("person_id", "category", "amount"))
    assert got == [(a.pk, "TEKUN", Decimal("400.00")), (b.pk, "TEKUN", Decimal("400.00"))]
