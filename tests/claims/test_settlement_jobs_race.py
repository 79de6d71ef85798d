"""The same 结算编号 in two months' files imported at the same moment by two workers (issue 10,
finding 5): before, both saw it as new and the second died on the unique constraint, its file left
RUNNING for ever. Imports of one institution now wait for each other: one line pays, the other is
a duplicate, both files are imported."""

from datetime import date

import pytest
from django.db import connection

from claims.models import SettlementFile, SettlementLine
from claims.settlement import settlement_file_import, settlement_file_upload

from .test_concurrency import at_once
from .test_settlement import csv_bytes, line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_the_same_settlement_number_in_two_months_imported_at_once(institutions, people, staff):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks)")
    clerk = staff["district_clerk"]
    march = line("S777", people["slh"], "4000.00")
    april = line("S777", people["slh"], "4000.00")
    april[6] = "2025-04-15"
    files = [
        settlement_file_upload(institution=institutions["YB01"], month=date(2025, 3, 1), file_name="m.csv",
                               data=csv_bytes([march]), user=clerk),
        settlement_file_upload(institution=institutions["YB01"], month=date(2025, 4, 1), file_name="a.csv",
                               data=csv_bytes([april]), user=clerk),
    ]
    at_once(lambda f: settlement_file_import(file_id=f.pk, user=clerk), files)
    assert sorted(SettlementFile.objects.values_list("status", flat=True)) == ["DONE", "DONE"]
    lines = SettlementLine.objects.filter(settlement_no="S777")
    assert lines.count() == 2 and lines.filter(duplicate=True).count() == 1
    assert lines.filter(duplicate=False, outcome="AGREED").count() == 1
