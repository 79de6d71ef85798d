"""Issue 14, rosters closer to the limit: what made a 100,000-row roster slow, checked without a clock.

- PostgreSQL checked four foreign keys of every stored roster row at commit (category, town, person,
  identity) and the audit links of every identity written (started_by, ended_by): those references
  have no database constraint now, and Django's PROTECT still refuses deleting what a row names.
- Fifth round: the upload of every stored row (100,000 checks of one upload at the check's commit) and
  the town of every person an apply registers are not checked per row either; a checked upload still
  cannot be deleted (its history keeps it), nor a town with people.
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
    assert _fk_columns(RosterRow._meta.db_table) & {"category_id", "town_id", "person_id", "identity_id", "upload_id"} == set()
    identity = _fk_columns(Identity._meta.db_table)
    assert {"person_id", "category_id"} <= identity  # the identity's own references stay checked
    assert identity & {"started_by_id", "ended_by_id"} == set()


def test_a_checked_upload_cannot_be_deleted_so_its_rows_never_lose_it(upload_file):
    up = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(3)])).upload
    with pytest.raises(ProtectedError):  # its status history and jobs keep it
        up.delete()
    assert RosterRow.objects.filter(upload_id=up.pk).count() == 3


def test_a_person_s_town_is_not_checked_per_person_yet_a_town_with_people_cannot_be_deleted(upload_file, confirm_roster):
    """A roster registering 100,000 people made PostgreSQL check their town 100,000 times at commit."""
    from beneficiaries.models import Town

    assert "town_id" not in _fk_columns(Person._meta.db_table)
    (a,) = ids(1)
    confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "", "")])).upload)
    town = Person.objects.get(id_number=a).town
    with pytest.raises(ProtectedError):
        Town.objects.get(pk=town.pk).delete()


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
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "beneficiaries_retroactivechange"')]
    assert updates and not [sql for sql in updates if "CASE WHEN" in sql]


def _state():
    """Everything an apply writes, by natural keys (ids differ between two runs)."""
    from beneficiaries.models import PersonTown

    return {
        "people": sorted(Person.objects.values_list("id_number", "name", "birth_date", "sex", "town_id", "village", "phone")),
        "identities": sorted(Identity.objects.values_list("person__id_number", "category_id", "valid_from", "valid_to",
                                                          "started_by_id", "ended_by_id")),
        "retro": sorted(RetroactiveChange.objects.values_list("person__id_number", "category_id", "identity__valid_from",
                                                              "period_start", "period_end", "kind", "roster_upload_id")),
        "towns": sorted(PersonTown.objects.values_list("person__id_number", "town_id", "valid_from", "valid_to", "source_ref")),
    }


def test_the_set_based_apply_writes_exactly_what_the_row_by_row_apply_writes(upload_file, confirm_roster, staff):
    """PostgreSQL applies a roster in SQL (apply_roster_sql); SQLite row by row. Both, on one second month
    that has every case: continuing, moved (town, village, phone), new people, a registered person's new
    category, endings by absence and by exit date, an identity ended before it began, a row sent back,
    an invalid row, and a person registered between the check and the apply."""
    from django.db import transaction

    from beneficiaries.rosters.applying import apply_roster

    a, b, c, d, e, f, g, h, k, m = ids(10, start=300)
    header = HEADER + ["村（社区）", "退出日期"]
    march = [
        (a, "甲", "低保", "双龙湖", "", "13800000001", "一村", ""),
        (b, "乙", "低保", "双龙湖", "", "", "", ""),
        (c, "丙", "低保", "回兴", "", "", "", ""),
        (e, "戊", "低保", "回兴", "", "", "", ""),
        (f, "己", "低保", "回兴", "", "", "", ""),
        (g, "庚", "低保", "回兴", "", "", "", ""),
        (h, "辛", "低保", "回兴", "2025-04-10", "", "", ""),
    ]
    confirm_roster(upload_file(roster_xlsx(march, header=header), month=date(2025, 4, 1)).upload, confirm_endings=True)
    april = [
        (a, "甲", "低保", "双龙湖", "", "13900000009", "二村", ""),  # village and phone change
        (b, "乙", "低保", "回兴", "", "", "", ""),  # moved town
        (d, "丁", "低保", "回兴", "2025-04-10", "", "", ""),  # new
        (d, "丁", "低保边缘", "回兴", "", "", "", ""),  # new, second category of the same new person
        (e, "戊", "低保边缘", "回兴", "2025-01-01", "", "", ""),  # a registered person's new category, from the past
        (f[:17] + ("0" if f[17] != "0" else "1"), "己", "低保", "回兴", "", "", "", ""),  # invalid: 己 not ended
        (g, "庚", "低保", "回兴", "", "", "", "2025-04-20"),  # exit date
        (k, "壬", "低保", "双龙湖", "", "", "", ""),  # sent back by the town below
        (m, "癸", "低保", "双龙湖", "", "", "", ""),  # registered between the check and the apply
    ]  # 丙 absent: ended; 辛 absent, certified 2025-04-10 by the first roster of April: ended before it began
    up = upload_file(roster_xlsx(april, header=header), month=date(2025, 4, 1)).upload
    assert up.status == "validated", up.message
    RosterRow.objects.filter(upload=up).exclude(outcome="invalid").update(review="accepted")
    RosterRow.objects.filter(upload=up, id_number=k).update(review="sent_back")
    Person.objects.create(id_number=m, name="癸", birth_date=date(1960, 5, 1), sex="F")

    results = {}
    for sql in (False, True):
        with transaction.atomic():
            counts = apply_roster(up, sql=sql)
            results[sql] = (counts, _state())
            transaction.set_rollback(True)
    assert results[True] == results[False]
    counts, state = results[True]
    # 丁 registered; 甲 (village, phone), 乙 (town) and 癸 (registered meanwhile, without a town) updated, 乙 and
    # 癸 moved; 丁 ×2, 戊's 低保边缘 and 癸 started; 丙, 戊's 低保, 庚 and 辛 ended; 戊 and 癸 started earlier,
    # 丙, 戊 and 辛 corrected (started 1 April, ended 31 March), 庚 ended earlier
    assert counts == {"people_created": 1, "people_updated": 3, "people_moved": 2, "identities_started": 4,
                      "identities_ended": 4, "retroactive": 6}
    assert {r[5] for r in state["retro"]} == {"STARTED_EARLIER", "ENDED_EARLIER", "CORRECTED"}


def test_a_new_person_listed_twice_is_registered_once_with_the_first_row_s_details(upload_file, staff):
    """The SQL apply picks each new person's first row after sorting by ID number byte by byte (COLLATE "C",
    issue 14, ninth round); the row-by-row apply keeps the first row it meets. Rows out of ID-number order."""
    from django.db import transaction

    from beneficiaries.rosters.applying import apply_roster

    a, b = ids(2, start=900)
    header = HEADER + ["村（社区）"]
    rows = [
        (b, "乙", "低保", "回兴", "", "13800000002", "二村"),
        (a, "甲", "低保", "双龙湖", "", "13800000001", "一村"),
        (a, "甲", "低保边缘", "回兴", "", "13900000009", "三村"),
        (b, "乙", "低保边缘", "双龙湖", "", "13900000008", "四村"),
    ]
    up = upload_file(roster_xlsx(rows, header=header)).upload
    assert up.status == "validated", up.message
    RosterRow.objects.filter(upload=up).update(review="accepted")
    results = {}
    for sql in (False, True):
        with transaction.atomic():
            counts = apply_roster(up, sql=sql)
            results[sql] = (counts, _state())
            transaction.set_rollback(True)
    assert results[True] == results[False]
    counts, state = results[True]
    assert (counts["people_created"], counts["identities_started"]) == (2, 4)
    assert [(p[0], p[5], p[6]) for p in state["people"]] == sorted([(a, "一村", "13800000001"), (b, "二村", "13800000002")])


def test_people_are_looked_up_by_any_text_through_one_array_literal():
    """The comparison looks people up by ID number with one array literal (psycopg's dumper looked at each of
    100,000 elements); quotes, backslashes, commas, braces, spaces and the word NULL stay what they are."""
    from beneficiaries.rosters import bulk

    odd = ['a"b', "c\\d", "{e,f}", " g h ", "NULL", ""]
    people = {n: Person.objects.create(id_number=n, name="某", birth_date=date(1960, 5, 1), sex="F") for n in odd}
    found = bulk.lookup(Person, "id_number", [*odd, "absent"], ("pk",))
    assert found == {n: (p.pk,) for n, p in people.items()}
    assert bulk.lookup(Person, "pk", [p.pk for p in people.values()], ("id_number",)) == {p.pk: (n,) for n, p in people.items()}


def test_a_roster_file_is_stored_and_read_back_byte_for_byte_compressed_by_lz4(upload_file):
    """The file goes to PostgreSQL as a binary parameter and comes back in binary; lz4, not pglz, where the
    server has it (pglz read a whole 4 MB xlsx, a zip already, before giving up)."""
    from beneficiaries.models import RosterFile
    from beneficiaries.rosters import bulk

    data = roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(3)])
    up = upload_file(data).upload
    assert bulk.read_bytes(RosterFile, "upload_id", up.pk, "data") == data
    assert bytes(RosterFile.objects.values_list("data", flat=True).get(upload=up)) == data
    with pytest.raises(RosterFile.DoesNotExist):
        bulk.read_bytes(RosterFile, "upload_id", -1, "data")
    with connection.cursor() as cur:
        cur.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        has_lz4 = cur.fetchone()[0]
        cur.execute("SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'data'",
                    [RosterFile._meta.db_table])
        assert cur.fetchone()[0] == ("l" if has_lz4 else "")


def test_a_file_opened_beside_the_open_identities_still_says_why_it_cannot_be_read(upload_file, confirm_roster):
    """The check opens the file in a thread while it reads the open identities (calamine lets go of the GIL);
    what the thread raises is the job's: an unreadable file ends as such, its reason kept; a readable one
    is checked against the identities read meanwhile."""
    from beneficiaries.models import RosterStatusChange

    a, b = ids(2)
    confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "", ""), (b, "乙", "低保", "回兴", "", "")])).upload)
    bad = upload_file(b"%PDF-1.4\x00\x01\x02 binary", month=date(2025, 4, 1), name="roster.pdf").upload
    bad.refresh_from_db()
    assert bad.status == "unreadable" and "不是Excel或CSV" in bad.message
    assert RosterStatusChange.objects.filter(upload=bad, to_status="unreadable", reason=bad.message).exists()
    good = upload_file(roster_xlsx([(a, "甲", "低保", "回兴", "", "")]), month=date(2025, 4, 1)).upload
    good.refresh_from_db()
    assert (good.status, good.count_changed, good.count_ended) == ("validated", 1, 1)


def test_json_columns_are_written_as_the_standard_encoder_writes_them():
    """The check writes each row's cells, errors and warnings as JSON text through one C encoder made once
    (eighth round): the same text as ``json.dumps`` (compact, not ASCII-escaped), and what JSON cannot hold
    is still refused."""
    import json

    from beneficiaries.rosters import bulk

    values = [
        [1.0, "测试0", "500112193001010005", "低保对象", "双龙湖街道", "2025/1/1", "13800000000"],
        [None, True, False, 3, -2.5, 1e300, "", '引号"和\\反斜杠', "换行\n制表\t", "\u2028\x00", "𠀀"],
        [{"row": 7, "field": "公民身份号码", "message": "校验码错误"}, {"row": None, "field": "姓名", "message": ""}],
        [[], {}, [[1, [2]], {"a": {"b": []}}]],
    ]
    for v in values:
        assert bulk.to_json(v) == json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    assert bulk.to_json([]) == "[]" and bulk.to_json(None) is None
    with pytest.raises(TypeError):
        bulk.to_json([date(2025, 1, 1)])
