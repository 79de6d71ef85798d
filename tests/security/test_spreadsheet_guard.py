"""The hostile-spreadsheet check reads cell positions in every spelling calamine reads them (issue 14,
tenth round). Each workbook below is a few hundred bytes to a few hundred KB, and calamine given any of
them asks for 70–512 GiB and aborts the process (a worker killed, as with the sparse bomb of issue 9),
whatever the Python code around it would catch. All but the last passed the check before this round; the
last (positions after a line break) keeps the new fast scan, which looks for a space before r, honest."""

from __future__ import annotations

import multiprocessing
import signal

import pytest

from yfbz.core.spreadsheets import SpreadsheetRefused, check_spreadsheet

from .hostile_files import SHEET_HEAD, workbook
from .test_spreadsheets_out import _read_roster  # the spawned process imports it from there


def _cell(ref_attr: str, text: str = "x") -> str:
    return f'<c {ref_attr} t="inlineStr"><is><t>{text}</t></is></c>'


def _two_corners(first: str, last: str, *, row_attr=('r="1"', 'r="1048576"')) -> bytes:
    return workbook([
        SHEET_HEAD, "<sheetData>",
        f"<row {row_attr[0]}>{_cell(first, '身份证号码')}</row>",
        f"<row {row_attr[1]}>{_cell(last)}</row>",
        "</sheetData></worksheet>",
    ])


KILLERS = {
    # r='…': XML allows either quote; the check looked for r="…" only
    "single quotes": lambda: workbook([
        SHEET_HEAD, "<dimension ref='A1:XFD1048576'/><sheetData>",
        "<row r='1'>" + _cell("r='A1'") + "</row>",
        "<row r='1048576'>" + _cell("r='XFD1048576'") + "</row>",
        "</sheetData></worksheet>",
    ]),
    "spaces around =": lambda: _two_corners('r = "A1"', 'r = "XFD1048576"', row_attr=('r = "1"', 'r = "1048576"')),
    "lower-case column": lambda: _two_corners('r="a1"', 'r="xfd1048576"'),
    "four-letter column": lambda: workbook([
        SHEET_HEAD, "<sheetData>",
        '<row r="1">' + _cell('r="A1"') + _cell('r="ZZZZ1"') + "</row>",
        '<row r="5000">' + _cell('r="A5000"') + "</row>",
        "</sheetData></worksheet>",
    ]),
    # cells without r: calamine counts them on from the cell before (16,000 columns) in a row it is told is
    # row 1,000,000 (within the row limit, and 26 columns were assumed)
    "cells without positions": lambda: workbook([
        SHEET_HEAD, "<sheetData>",
        '<row r="1">' + '<c t="inlineStr"><is><t>x</t></is></c>' * 16_000 + "</row>",
        '<row r="1000000">' + _cell('r="A1000000"') + "</row>",
        "</sheetData></worksheet>",
    ]),
    "prefixed cells without positions": lambda: workbook([
        SHEET_HEAD, '<sheetData xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        '<x:row r="1">' + "<x:c t=\"inlineStr\"><x:is><x:t>x</x:t></x:is></x:c>" * 16_000 + "</x:row>",
        '<x:row r="1000000"><x:c r="A1000000" t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c></x:row>',
        "</sheetData></worksheet>",
    ]),
    "positions on new lines": lambda: _two_corners('\nr="A1"', '\nr="XFD1048576"'),
}


@pytest.mark.parametrize("kind", sorted(KILLERS))
def test_a_workbook_whose_cells_calamine_would_spread_over_a_huge_grid_is_refused(kind):
    with pytest.raises(SpreadsheetRefused, match="超过上限|范围过大"):
        check_spreadsheet(KILLERS[kind]())


def test_the_roster_reader_refuses_a_single_quoted_bomb_and_survives():
    """Through the roster's own reader, in a process of its own (the old check let calamine abort it)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_read_roster, args=(KILLERS["single quotes"](), queue))
    proc.start()
    proc.join(120)
    assert proc.exitcode == 0, f"the reader died (exit {proc.exitcode}; SIGABRT is {-signal.SIGABRT})"
    assert queue.get(timeout=5).startswith("refused: 工作表（声明的范围）有16,384列")


def test_a_sheet_written_without_cell_positions_is_still_read():
    """Some writers leave r out: the rows and cells are counted as calamine counts them, not refused."""
    from yfbz.files.reader import read_table

    rows = ['<row><c t="inlineStr"><is><t>身份证号码</t></is></c><c t="inlineStr"><is><t>姓名</t></is></c>'
            '<c t="inlineStr"><is><t>救助类别</t></is></c><c t="inlineStr"><is><t>所属镇街</t></is></c></row>']
    rows += [f'<row><c t="inlineStr"><is><t>50011219600501{i:04d}</t></is></c><c t="inlineStr"><is><t>张{i}</t></is></c>'
             '<c t="inlineStr"><is><t>低保</t></is></c><c t="inlineStr"><is><t>双龙湖</t></is></c></row>' for i in range(300)]
    data = workbook([SHEET_HEAD, "<sheetData>", *rows, "</sheetData></worksheet>"])
    check_spreadsheet(data)
    table = read_table(data, "roster", extra={})
    got = list(table.rows)
    assert len(got) == 300 and got[-1][1][1] == "张299" and got[-1][0] == 301


def test_a_wide_sheet_of_many_rows_counts_the_rows_it_declares():
    """40 columns: the rows up to 999,999 are read as well (40 × 999,999 cells would be a 1.3 GB grid)."""
    wide = "".join(_cell(f'r="{c}1"', "列") for c in ("A", "AN"))
    data = workbook([SHEET_HEAD, "<sheetData>", f'<row r="1">{wide}</row>',
                     '<row r="999999">' + _cell('r="A999999"') + "</row>",
                     "</sheetData></worksheet>"])
    with pytest.raises(SpreadsheetRefused, match="范围过大"):
        check_spreadsheet(data)
