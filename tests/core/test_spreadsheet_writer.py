"""The xlsx writer's fast path (yfbz.core.spreadsheets.SafeSheet, issue 14): rows of plain values are written
as XML text instead of through openpyxl's cell objects. The file must be the one openpyxl writes, byte for
byte: same cells, types, styles (money at two decimals with its format, dates with theirs), text kept as text."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from yfbz.core.spreadsheets import SafeWorkbook

ROWS = [
    ["标题：某部门2025年10月医疗救助结果"],
    ["姓名", "公民身份号码", "金额", "日期", "行号", "说明"],
    ["张三", "500***********1234", Decimal("1234.5"), date(2025, 2, 3), 12, "有异议，待处理"],
    ["=HYPERLINK(\"http://x\")", "+86 123", Decimal("-0.005"), date(1999, 12, 31), 0, "-"],
    ["  前后空格 ", "a & b < c > d", Decimal("41209.2800000000"), None, -7, ""],
    ["@sum", "\t制表", Decimal("0"), date(2026, 11, 30), 10 ** 17, "   "],
    [None, None, None],
    ["#N/A", "#DIV/0!", True, 1.5, datetime(2025, 1, 2, 3, 4, 5), Decimal("NaN")],
    ["多行\n文本", "x" * 40000, Decimal("99999999999.99"), date(2025, 1, 1), 3, "引号\"和'"],
]


def members(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core.xml: the time it was made


def openpyxl_file(rows) -> bytes:
    """The same rows through openpyxl's own write-only cells (the writer as it was)."""
    wb = SafeWorkbook()
    first = wb.create_sheet("一")
    del first.ws._write_rows  # openpyxl's row writer
    for row in rows:
        first.ws.append(first._cells(row))
    return wb.to_bytes()


def fast_file(rows) -> bytes:
    wb = SafeWorkbook()
    ws = wb.create_sheet("一")
    for row in rows:
        ws.append(row)
    return wb.to_bytes()


def test_the_fast_rows_are_the_bytes_openpyxl_writes():
    assert members(fast_file(ROWS)) == members(openpyxl_file(ROWS))


@pytest.mark.parametrize("order", [[2, 3], [3, 2], [4], [5, 2]])
def test_styles_are_numbered_in_the_order_openpyxl_meets_them(order):
    rows = [ROWS[1]] + [ROWS[i] for i in order]
    assert members(fast_file(rows)) == members(openpyxl_file(rows))


def test_the_file_reads_back_with_money_at_two_decimals_dates_and_formulas_as_text():
    ws = load_workbook(io.BytesIO(fast_file(ROWS))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[2][:5] == ("张三", "500***********1234", 1234.5, datetime(2025, 2, 3), 12)
    assert ws["C3"].number_format == "#,##0.00" and ws["D3"].number_format == "yyyy-mm-dd"
    assert ws["A4"].data_type == "s" and ws["A4"].value.startswith("=HYPERLINK")
    assert rows[3][2] == -0.01 and rows[4][2] == 41209.28


def test_a_text_openpyxl_refuses_is_still_refused():
    wb = SafeWorkbook()
    ws = wb.create_sheet("一")
    with pytest.raises(IllegalCharacterError):
        ws.append(["bad\x07bell"])
