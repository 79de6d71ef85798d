"""Reading, validating and comparing monthly rosters (tests/samples/ROSTERS.md), through the command
line and the services the browser uses."""

import io
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from beneficiaries.models import CategoryAlias, Identity, Person, RetroactiveChange, RosterRow, RosterUpload
from beneficiaries.services import roster_apply, roster_revalidate

from .conftest import HEADER, ids, roster_csv, roster_xlsx

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def run_cli(path, *args):
    out = io.StringIO()
    call_command("import_roster", str(path), *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_public_sample_gives_the_published_summary(towns):
    expected = json.loads((SAMPLES / "roster-civil-2025-03.expected.json").read_text())
    got = run_cli(SAMPLES / "roster-civil-2025-03.xlsx", "--department", "CIVIL", "--month", "2025-03")
    for key in ("rows", "valid", "invalid", "new", "continuing", "changed", "ended"):
        assert got[key] == expected[key], key
    assert sorted({e["row"] for e in got["errors"]}) == expected["errors_at_rows"]
    by_row = {e["row"]: e for e in got["errors"]}
    assert "临时救助对象" in by_row[13]["message"]  # the unknown wording is quoted
    assert "火星街道" in by_row[15]["message"]
    assert "第2行" in by_row[22]["message"]  # the duplicate names its first occurrence
    assert Person.objects.count() == 0 and RosterUpload.objects.count() == 0  # without --apply nothing changes


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "文件为空"),
        ("身份证号码,姓名,救助类别,所属镇街\n".encode(), "文件为空"),
        (b"%PDF-1.4\x00\x01\x02 binary", "不是Excel或CSV"),
        ("身份证号码,姓名,所属镇街\n500112196005011001,张三,双龙湖\n".encode(), "第1行最像表头，但缺少：身份类别"),
    ],
    ids=["empty", "header-only", "not-a-spreadsheet", "missing-required-column"],
)
def test_an_unreadable_file_exits_with_status_2_and_says_why(tmp_path, towns, content, reason):
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as exc:
        run_cli(path, "--department", "CIVIL", "--month", "2025-03")
    assert exc.value.returncode == 2
    assert reason in str(exc.value)


def test_a_gbk_csv_with_header_variants_fullwidth_digits_legacy_numbers_and_date_formats(tmp_path, towns):
    a, b, c = ids(3)
    legacy = "500112600501101"  # 15 digits: 1960-05-01
    rows = [
        ("５００１１２" + a[6:], "阿依古丽·买买提", "城市低保", "双龙湖", "2025年3月1日", "13800000000"),
        (f" {b.lower()} ", "王 二", "低保", "回兴街道", "20250302", ""),
        (legacy, "李老", "特困供养人员", "统景镇", "2025/3/3", ""),
        (c, "赵四", "低保", "双龙湖街道", "3月4日", ""),
    ]
    path = tmp_path / "gbk.csv"
    path.write_bytes(roster_csv(rows, header=["公民身份号码", "姓名", "人员类别", "乡镇（街道）", "纳入日期", "联系电话"], encoding="gbk"))
    got = run_cli(path, "--department", "CIVIL", "--month", "2025-03")
    assert (got["rows"], got["valid"], got["invalid"], got["new"]) == (4, 3, 1, 3)
    assert got["errors"] == [{"row": 5, "field": "认定日期", "message": got["errors"][0]["message"]}]
    assert "3月4日" in got["errors"][0]["message"]
    assert any(w["row"] == 4 and "15位" in w["message"] for w in got["warnings"])


def test_excel_date_cells_and_applying_start_identities_on_their_certification_date(tmp_path, staff, towns):
    (a,) = ids(1)
    path = tmp_path / "r.xlsx"
    path.write_bytes(roster_xlsx([(a, "张三", "低保对象", "双龙湖街道", date(2025, 3, 9), "")]))
    got = run_cli(path, "--department", "CIVIL", "--month", "2025-03", "--apply", "--user", "sysadmin")
    assert got["status"] == "confirmed"
    person = Person.objects.get(id_number=a)
    assert (person.name, person.town.code, person.birth_date) == ("张三", "SLH", date(1960, 5, 1))
    ident = Identity.objects.get(person=person)
    assert (ident.category.code, ident.valid_from, ident.valid_to) == ("DIBAO", date(2025, 3, 9), None)
    assert ident.started_by.status == "confirmed"


def test_second_month_ends_the_absent_keeps_the_continuing_and_flags_changes(upload_file, confirm_roster):
    second_month_scenario(upload_file, confirm_roster)


@pytest.mark.django_db(transaction=True)
def test_second_month_gives_the_same_result_when_the_job_owns_its_transaction(upload_file, confirm_roster):
    """As in production: on PostgreSQL the check then streams one COPY and looks people up on a side connection."""
    second_month_scenario(upload_file, confirm_roster)


def second_month_scenario(upload_file, confirm_roster):
    a, b, c, d, e, f = ids(6)
    march = [
        (a, "甲", "低保", "双龙湖", "", ""),
        (b, "乙", "低保", "双龙湖", "", ""),
        (c, "丙", "低保", "回兴", "", ""),
        (e, "戊", "低保", "回兴", "", ""),
        (f, "己", "低保", "回兴", "", ""),
    ]
    confirm_roster(upload_file(roster_xlsx(march)).upload)
    assert Identity.objects.filter(valid_from=date(2025, 3, 1), valid_to=None).count() == 5  # D6: first of month
    april = [
        (a, "甲", "低保", "双龙湖", "", ""),  # continuing
        (b, "乙", "低保", "回兴", "", ""),  # moved town: changed
        (d, "丁", "低保", "回兴", "2025-04-10", ""),  # new
        (e, "戊", "低保边缘", "回兴", "", ""),  # 低保 → 低保边缘: one ended, one new
        (f[:17] + ("0" if f[17] != "0" else "1"), "己", "低保", "回兴", "", ""),  # invalid row: 己 is not ended
    ]  # 丙 is absent: ended
    up = upload_file(roster_xlsx(april), month=date(2025, 4, 1)).upload
    assert up.summary() == {"rows": 5, "valid": 4, "invalid": 1, "new": 2, "continuing": 1, "changed": 1, "ended": 2}
    # a changed row says what changed (issue 11)
    changed = RosterRow.objects.get(upload=up, outcome="changed")
    assert changed.warnings == [{"row": changed.row_number, "field": "变更内容", "message": "镇街 双龙湖街道 → 回兴街道"}]
    # 2 endings of 5 is above 10%: the guard asks for a second confirmation
    confirm_roster(up, confirm_endings=True)
    by_person = {i.person.id_number: i for i in Identity.objects.filter(category__code="DIBAO")}
    assert by_person[c].valid_to == date(2025, 3, 31)  # D6: last day of the month before
    assert by_person[e].valid_to == date(2025, 3, 31)
    assert by_person[f].valid_to is None  # an invalid row never ends anyone
    assert by_person[a].valid_to is None
    assert Identity.objects.get(person__id_number=e, category__code="DIBAO_BIANYUAN").valid_from == date(2025, 4, 1)
    assert Identity.objects.get(person__id_number=d).valid_from == date(2025, 4, 10)
    assert Person.objects.get(id_number=b).town.code == "HX"
    assert Identity.objects.get(person__id_number=c).ended_by == up


def test_a_delta_roster_adds_and_ends_only_what_it_lists(upload_file, confirm_roster):
    a, b, c = ids(3)
    confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "", ""), (b, "乙", "低保", "双龙湖", "", "")])).upload)
    header = HEADER + ["退出日期"]
    delta = [(c, "丙", "低保", "双龙湖", "2025-04-02", "", ""), (a, "甲", "低保", "双龙湖", "", "", "2025-04-15")]
    up = upload_file(roster_xlsx(delta, header=header), month=date(2025, 4, 1), mode="delta").upload
    assert (up.count_new, up.count_ended, up.count_continuing) == (1, 1, 0)
    confirm_roster(up, confirm_endings=True)
    assert Identity.objects.get(person__id_number=a).valid_to == date(2025, 4, 15)  # the exit date it gives
    assert Identity.objects.get(person__id_number=b).valid_to is None  # not listed: untouched in a delta
    assert Identity.objects.get(person__id_number=c).valid_from == date(2025, 4, 2)


def test_an_exit_date_in_the_past_is_recorded_as_a_retroactive_change(upload_file, confirm_roster):
    (a,) = ids(1)
    confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "2025-01-01", "")])).upload)
    header = HEADER + ["退出日期"]
    up = upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "", "", "2025-02-10")], header=header),
                     month=date(2025, 6, 1), mode="delta").upload
    confirm_roster(up, confirm_endings=True)
    change = RetroactiveChange.objects.get()
    assert (change.kind, change.period_start, change.category.code) == ("ENDED_EARLIER", date(2025, 2, 11), "DIBAO")
    assert change.roster_upload == up and change.person.id_number == a


def test_the_truncated_snapshot_guard_needs_a_second_confirmation(upload_file, confirm_roster, staff):
    from django.core.exceptions import ValidationError

    people = ids(20)
    confirm_roster(upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in people])).upload)
    truncated = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in people[:5]]), month=date(2025, 4, 1)).upload
    assert (truncated.count_ended, truncated.previous_open, truncated.needs_endings_confirmation) == (15, 20, True)
    with pytest.raises(ValidationError, match="终止15个身份"):
        confirm_roster(truncated)
    assert Identity.objects.filter(valid_to__isnull=True).count() == 20  # nobody ended
    confirm_roster(truncated, confirm_endings=True)
    truncated.refresh_from_db()
    assert truncated.status == "confirmed" and truncated.endings_confirmed_by == staff["district_clerk"]
    assert Identity.objects.filter(valid_to__isnull=True).count() == 5


def test_uploading_a_file_already_confirmed_changes_nothing_and_says_so(upload_file, confirm_roster):
    data = roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(3)])
    first = confirm_roster(upload_file(data).upload)
    again = upload_file(data)
    assert not again.created and again.upload == first
    assert "已确认的名单完全相同，未作任何变更" in again.message
    assert RosterUpload.objects.count() == 1 and Identity.objects.count() == 3


def test_a_new_file_for_a_pending_month_replaces_the_pending_one(upload_file):
    first = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(2)])).upload
    second = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(3)])).upload
    first.refresh_from_db()
    assert first.status == "rejected" and "替代" in first.status_changes.last().reason
    assert second.status == "validated"


def test_an_unknown_wording_validates_once_an_administrator_adds_it(upload_file, civil, staff, run_jobs):
    (a,) = ids(1)
    up = upload_file(roster_xlsx([(a, "甲", "临时救助对象", "双龙湖", "", "")])).upload
    assert up.rows_invalid == 1
    CategoryAlias.objects.create(wording="临时救助对象", department=civil, category=civil.categories.get(code="TEKUN"))
    with run_jobs():
        roster_revalidate(upload=up, user=staff["civil_officer"])
    up.refresh_from_db()
    assert (up.status, up.rows_valid, up.count_new) == ("validated", 1, 1)
    assert RosterRow.objects.get(upload=up).category.code == "TEKUN"


def test_name_differing_from_the_registered_one_and_the_age_rule_are_warnings(upload_file, make_person, departments, staff):
    young = make_person("王登记", categories=(), birth=date(1990, 1, 1))
    rows = [(young.id_number, "王改名", "农村籍退役士兵", "双龙湖", "", "")]
    up = upload_file(roster_xlsx(rows), department=departments["VETERANS"], user=staff["veterans_officer"]).upload
    row = RosterRow.objects.get(upload=up)
    assert row.outcome == "new" and not row.errors
    messages = " ".join(w["message"] for w in row.warnings)
    assert "与已登记姓名不一致：王登记" in messages
    assert "不满60周岁" in messages


def test_a_category_of_another_department_is_a_row_error(upload_file):
    (a,) = ids(1)
    up = upload_file(roster_xlsx([(a, "甲", "在乡复员军人", "双龙湖", "", "")])).upload
    (error,) = RosterRow.objects.get(upload=up).errors
    assert "不属于本部门（民政）" in error["message"]


def test_applying_twice_changes_nothing_more(upload_file, confirm_roster):
    up = confirm_roster(upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(4)])).upload)
    assert roster_apply(upload_id=up.pk) is False
    assert Identity.objects.count() == 4 and Person.objects.count() == 4


def test_a_person_registered_between_check_and_apply_is_not_registered_twice(upload_file, confirm_roster, make_person):
    a, b = ids(2, start=700)
    up = upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "", ""), (b, "乙", "低保", "回兴", "", "")])).upload
    meanwhile = Person.objects.create(id_number=b, name="乙", birth_date=date(1960, 5, 1), sex="F")  # another roster
    confirm_roster(up)
    assert Person.objects.filter(id_number__in=[a, b]).count() == 2
    assert Identity.objects.get(person__id_number=b).person == meanwhile
    assert Identity.objects.filter(started_by=up).count() == 2


def test_the_command_refuses_to_apply_a_truncated_snapshot_until_told_and_then_applies_it(tmp_path, staff, towns):
    people = ids(12)
    full, part = tmp_path / "march.xlsx", tmp_path / "april.xlsx"
    full.write_bytes(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in people]))
    part.write_bytes(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in people[:2]]))
    run_cli(full, "--department", "CIVIL", "--month", "2025-03", "--apply", "--user", "sysadmin")
    with pytest.raises(CommandError) as exc:
        run_cli(part, "--department", "CIVIL", "--month", "2025-04", "--apply", "--user", "sysadmin")
    assert exc.value.returncode == 1 and "--confirm-endings" in str(exc.value)
    assert Identity.objects.filter(valid_to__isnull=True).count() == 12
    got = run_cli(part, "--department", "CIVIL", "--month", "2025-04", "--apply", "--user", "sysadmin", "--confirm-endings")
    assert (got["status"], got["applied"], got["ended"]) == ("confirmed", True, 10)
    assert Identity.objects.filter(valid_to__isnull=True).count() == 2
    again = run_cli(part, "--department", "CIVIL", "--month", "2025-04", "--apply", "--user", "sysadmin")
    assert "未作任何变更" in again["message"] and again["applied"] is False


def test_an_identity_ended_before_it_began_is_flagged_as_corrected(upload_file, confirm_roster):
    a, b = ids(2, start=800)
    confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "2025-04-10", "")]), month=date(2025, 4, 1)).upload)
    corrected = upload_file(roster_xlsx([(b, "乙", "低保", "双龙湖", "", "")]), month=date(2025, 4, 1)).upload
    confirm_roster(corrected, confirm_endings=True)
    ident = Identity.objects.get(person__id_number=a)
    assert ident.valid_to == ident.valid_from == date(2025, 4, 10)
    change = RetroactiveChange.objects.get(person__id_number=a)
    assert change.kind == "CORRECTED" and change.roster_upload == corrected
