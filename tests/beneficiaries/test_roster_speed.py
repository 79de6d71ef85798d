"""Issue 14, rosters closer to the limit: what made a 100,000-row roster slow, checked without a clock.

- PostgreSQL checked four foreign keys of every stored roster row at commit (category, town, person,
  identity) and the audit links of every identity written (started_by, ended_by): those references
  have no database constraint now, and Django's PROTECT still refuses deleting what a row names.
- Measuring a roster's retroactive changes went through Django's bulk_update, whose CASE WHEN per row
  per column grows with the square of the rows: one UPDATE … FROM a temporary table now.
"""

from datetime import date

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from beneficiaries.models import Identity, Person, RetroactiveChange, RosterRow
from tests.beneficiaries.conftest import HEADER, ids, roster_xlsx

pytestmark = pytest.mark.django_db


def _fk_columns(table: str) -> set[str]:
    with connection.cursor() as cur:
        cur.execute(
            """SELECT a.attname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
               WHERE c.contype = 'f' AND c.conrelid = %s::regclass""",
            [table],
        )
        return {r[0] for r in cur.fetchall()}


def test_stored_roster_rows_and_identity_audit_links_carry_no_per_row_foreign_key_check():
    assert _fk_columns(RosterRow._meta.db_table) & {"category_id", "town_id", "person_id", "identity_id"} == set()
    assert "upload_id" in _fk_columns(RosterRow._meta.db_table)  # a row still belongs to an upload
    identity = _fk_columns(Identity._meta.db_table)
    assert {"person_id", "category_id"} <= identity  # the identity's own references stay checked
    assert identity & {"started_by_id", "ended_by_id"} == set()


def test_a_person_named_by_a_roster_row_still_cannot_be_deleted(upload_file, confirm_roster):
    (a,) = ids(1)
    up = confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "2025-01-01", "")])).upload)
    assert RosterRow.objects.get(upload=up).person_id is None  # registered by the apply
    second = upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "2025-01-01", "")]), month=date(2025, 4, 1)).upload
    person = Person.objects.get(id_number=a)
    assert RosterRow.objects.get(upload=second).person_id == person.pk
    with pytest.raises(ProtectedError):
        person.delete()


def test_measuring_many_retroactive_changes_writes_one_update_not_a_case_per_row(upload_file, confirm_roster):
    people = ids(30)
    confirm_roster(upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "2025-01-01", "") for n in people])).upload)
    header = HEADER + ["退出日期"]
    rows = [(n, "某", "低保", "双龙湖", "", "", "2025-02-10") for n in people]
    up = upload_file(roster_xlsx(rows, header=header), month=date(2025, 6, 1), mode="delta").upload
    with CaptureQueriesContext(connection) as ctx:
        confirm_roster(up, confirm_endings=True)
    changes = RetroactiveChange.objects.filter(roster_upload=up)
    assert changes.count() == 30 and not changes.filter(measured_at__isnull=True).exists()
    assert changes.filter(status="AUTO_CLOSED").count() == 30  # nobody had decisions: closed by the system
    assert not [q["sql"] for q in ctx.captured_queries if "CASE WHEN" in q["sql"] and "retroactivechange" in q["sql"]]
