"""Issue 14: the roster check's fast path (beneficiaries.rosters.checking.row_checker: each distinct
category, town and date cell read once, a clean ID number checked without normalising it, the person
of an open identity taken from the open identities instead of a lookup) gives the same rows, the same
errors and warnings, word for word, and the same comparison as checking every row with check_row alone,
on a second month holding every kind of bad row and every kind of change, as xlsx and as CSV."""

import dataclasses
from datetime import date, datetime

import pytest

from beneficiaries.models import Identity, RosterRow, RosterUpload
from beneficiaries.rosters.checking import Context, check_roster
from beneficiaries.rosters.reading import open_roster
from tests.conftest import valid_id

from .conftest import ids, roster_csv, roster_xlsx

pytestmark = pytest.mark.django_db

HEADER = ["身份证号码", "姓名", "救助类别", "所属镇街", "认定日期", "联系电话", "村（社区）", "退出日期"]
APRIL = date(2025, 4, 1)


def _id_ending_in_x() -> str:
    return next(n for n in (valid_id(date(1958, 7, 9), s) for s in range(1000)) if n.endswith("X"))


def _march_and_april():
    a, b, c, e, f, g, h, i, j, d, k = ids(11, start=400)
    march = [
        (a, "甲", "低保", "双龙湖", "", "13800000001", "一村", ""),
        (b, "乙", "低保", "双龙湖", "", "", "", ""),
        (c, "丙", "低保", "回兴", "", "13800000003", "三村", ""),
        (e, "戊", "低保", "回兴", "", "", "", ""),
        (f, "己", "低保", "回兴", "", "", "", ""),
        (g, "庚", "低保", "回兴", "", "", "", ""),
        (h, "辛", "低保", "回兴", "", "", "", ""),
        (i, "壬", "低保", "回兴", "", "", "", ""),  # absent in April: ended by the snapshot
        (j, "癸", "特困供养人员", "回兴", "", "", "", ""),
    ]
    x = _id_ending_in_x()
    legacy = "500112600501101"  # 15 digits, 1960-05-01
    long_name, long_village, long_phone = "名" * 51, "村" * 61, "1" * 31
    april = [
        (a, "甲", "低保", "双龙湖", "", "13800000001", "一村", ""),  # continuing, as it was
        (b, "乙", "低保", "回兴街道", "", "", "", ""),  # moved town: changed
        (c, "丙", "低保", "回兴", "", "13900000003", "四村", ""),  # village and phone: changed
        (d, "丁", "低保", "回兴", "2025年4月3日", "", "", ""),  # new person
        (d, "丁", "低保边缘", "回兴", "", "", "", ""),  # the same new person's second category
        (e, "戊", "特困供养人员", "回兴", "20250101", "", "", ""),  # a registered person's new category
        (f[:17] + ("0" if f[17] != "0" else "1"), "己", "低保", "回兴", "", "", "", ""),  # wrong check character
        (g, "庚", "低保", "回兴", "", "", "", "2025/4/20"),  # exit date: ended
        (h, "辛改", "低保", "回兴", "", "", "", ""),  # name differs from the registered one
        (a, "甲", "低保", "双龙湖", "", "", "", ""),  # duplicate of the first row
        (a, "甲", "特困供养人员", "双龙湖", "", "", "", ""),  # same person, another category: new
        (500112196005011001.0, "数字", "低保", "回兴", "", "", "", ""),  # ID stored by Excel as a number
        ("", "空号", "低保", "回兴", "", "", "", ""),
        (legacy, "李老", "低保", "回兴", "", "", "", ""),  # 15 digits: converted, with a warning
        ("500112601301101", "坏老", "低保", "回兴", "", "", "", ""),  # 15 digits, month 13
        (k[:17], "少一位", "低保", "回兴", "", "", "", ""),
        (x.lower(), "小写", "低保", "回兴", "", "", "", ""),  # lower-case x
        ("５００１１２" + ids(1, start=460)[0][6:], "全角", "低保", "回兴", "", "", "", ""),
        (f" {ids(1, start=461)[0]} ", "空格", "低保", "回兴", "", "", "", ""),
        (valid_id(date(1849, 12, 31), 1), "太老", "低保", "回兴", "", "", "", ""),
        ("50011219600230" + "1234", "二月三十", "低保", "回兴", "", "", "", ""),
        (ids(1, start=462)[0], "", "低保", "回兴", "", "", "", ""),  # no name
        (ids(1, start=463)[0], long_name, "低保", "回兴", "", "", "", ""),
        (ids(1, start=464)[0], "阿依古丽　·　买买提", "低保", "回兴", "", "", "", ""),  # full-width spaces, ·
        (ids(1, start=465)[0], "无类", "", "回兴", "", "", "", ""),
        (ids(1, start=466)[0], "他部", "在乡复员军人", "回兴", "", "", "", ""),  # another department's
        (ids(1, start=467)[0], "未知", "临时救助对象", "回兴", "", "", "", ""),
        (ids(1, start=468)[0], "全角类", "低　保", "回兴", "", "", "", ""),
        (ids(1, start=469)[0], "无镇", "低保", "", "", "", "", ""),
        (ids(1, start=470)[0], "火星", "低保", "火星街道", "", "", "", ""),
        (ids(1, start=471)[0], "长村", "低保", "回兴", "", "", long_village, ""),
        (ids(1, start=472)[0], "长电", "低保", "回兴", "", long_phone, "", ""),
        (ids(1, start=473)[0], "数电", "低保", "回兴", "", 13800000000.0, "", ""),  # phone as a number
        (ids(1, start=474)[0], "坏日", "低保", "回兴", "3月4日", "", "", ""),
        (ids(1, start=475)[0], "日格", "低保", "回兴", datetime(2025, 4, 2), "", "", ""),  # an Excel date cell
        (ids(1, start=476)[0], "倒退", "低保", "回兴", "2025-04-10", "", "", "2025-04-01"),  # exit before certified
        (ids(1, start=477)[0], "无可退", "低保", "回兴", "", "", "", "2025-04-15"),  # nothing open to end
        (j, "癸", "特困供养人员", "回兴", "", "", "", "20250415"),  # exit date for an open identity
    ]
    return march, april


def _rows(data: bytes, department, month: date, *, fast: bool):
    ctx = Context(RosterUpload(department=department, month=month, mode="snapshot"))
    rows = [r for chunk in check_roster(ctx, open_roster(data), fast=fast) for r in chunk]
    return [dataclasses.asdict(r) for r in rows], ctx.summary.as_json()


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_fast_check_gives_the_rows_errors_and_changes_of_checking_every_row_alone(kind, upload_file, confirm_roster, civil):
    march, april = _march_and_april()
    confirm_roster(upload_file(roster_xlsx(march, header=HEADER)).upload, confirm_endings=True)
    build = roster_xlsx if kind == "xlsx" else roster_csv
    data = build(april + [("合计", "", "", "", "", "", "", "")], header=HEADER)

    fast, fast_summary = _rows(data, civil, APRIL, fast=True)
    reference, reference_summary = _rows(data, civil, APRIL, fast=False)
    assert fast == reference
    assert fast_summary == reference_summary
    # what a clerk reads on the roster page, in both: every kind of row was there
    outcomes = {r["outcome"] for r in fast}
    assert outcomes == {"new", "continuing", "changed", "ended", "invalid"}
    messages = " ".join(m["message"] for r in fast for m in r["errors"] + r["warnings"])
    for said in ("与第2行重复", "身份证号码校验位错误", "15位旧号码", "不属于本部门（民政）", "未知的身份类别写法：「临时救助对象」",
                 "未知的镇街：「火星街道」", "无法识别的日期：「3月4日」", "早于认定日期", "本部门没有该人员此类别的在册身份",
                 "与已登记姓名不一致：辛", "镇街 双龙湖街道 → 回兴街道", "出生日期", "超过50个字符", "姓名为空"):
        assert said in messages, said
    if kind == "xlsx":
        assert "身份证号被Excel存成了数字" in messages
    # 壬 and 戊's 低保 (absent) and 庚, 癸 (exit dates) end; 己's wrong check character protects 己
    ended = {r["name"] for r in fast if r["outcome"] == "ended"}
    assert ended == {"壬", "戊", "庚", "癸"}


def test_the_age_condition_warning_is_the_reference_check_s(upload_file, make_person, departments, staff):
    """A veterans' category with an age condition (NONGCUN_60: 年满60周岁): the fast path leaves the
    warning to check_row."""
    young = make_person("王登记", categories=(), birth=date(1990, 1, 1))
    old = ids(1, start=480, birth=date(1950, 1, 1))[0]
    data = roster_xlsx([(young.id_number, "王改名", "农村籍退役士兵", "双龙湖", "", ""), (old, "老兵", "农村籍退役士兵", "双龙湖", "", "")])
    veterans = departments["VETERANS"]
    fast, _ = _rows(data, veterans, APRIL, fast=True)
    assert fast == _rows(data, veterans, APRIL, fast=False)[0]
    assert "不满60周岁" in " ".join(w["message"] for w in fast[0]["warnings"])
    assert fast[1]["warnings"] == [] and fast[1]["errors"] == []


@pytest.mark.django_db(transaction=True)
def test_the_stored_rows_of_the_job_are_the_reference_check_s(upload_file, confirm_roster, civil):
    """As in production: the job owns its transaction, streams one COPY and looks people up on a side
    connection; what it stores is what check_row alone gives."""
    march, april = _march_and_april()
    confirm_roster(upload_file(roster_xlsx(march, header=HEADER)).upload, confirm_endings=True)
    data = roster_xlsx(april, header=HEADER)
    reference, summary = _rows(data, civil, APRIL, fast=False)
    up = upload_file(data, month=APRIL).upload
    assert up.summary() == {k: summary[k] for k in up.summary()}
    fields = ("row_number", "cells", "id_number", "name", "category_id", "town_id", "village", "phone", "certified_on",
              "exits_on", "errors", "warnings", "outcome", "person_id", "identity_id")
    stored = [dict(zip(fields, r, strict=True)) for r in RosterRow.objects.filter(upload=up).order_by("id").values_list(*fields)]
    for r in reference:  # stored as the columns hold them
        r["id_number"], r["name"] = r["id_number"][:40], r["name"][:50]
    assert stored == [{f: r[f] for f in fields} for r in reference]
    assert Identity.objects.filter(valid_to__isnull=True).count() == 9  # nothing applied by a check
