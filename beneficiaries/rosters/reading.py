"""Reading a roster file: .xlsx/.xls through python-calamine, CSV in UTF-8, UTF-8 with BOM or GBK.

Headers vary by department (tests/samples/ROSTERS.md); they are matched after normalising
full-width characters and spaces. Row numbers are the spreadsheet's own (the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

# field -> (Chinese label used in messages, header variants, required)
FIELDS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "id_number": ("身份证号", ("身份证号", "身份证号码", "公民身份号码", "证件号码"), True),
    "name": ("姓名", ("姓名",), True),
    "category": ("身份类别", ("身份类别", "人员类别", "救助类别", "对象类别", "优抚类别"), True),
    "town": ("所属镇街", ("所属镇街", "镇街", "乡镇（街道）", "乡镇(街道)", "街道"), True),
    "village": ("村（社区）", ("村（社区）", "村(社区)", "社区"), False),
    "certified_on": ("认定日期", ("认定日期", "认定时间", "纳入日期"), False),
    "exits_on": ("退出日期", ("退出日期", "取消日期"), False),
    "phone": ("联系电话", ("联系电话",), False),
    "note": ("备注", ("备注",), False),
}
LABEL = {f: spec[0] for f, spec in FIELDS.items()}


class RosterUnreadable(ValueError):
    """The file cannot be read at all (not a spreadsheet, empty, a required column missing)."""


@lru_cache(maxsize=65536)  # categories, towns, villages and dates repeat on every row
def normalise_text(value: str) -> str:
    """Full-width letters, digits and brackets to half-width (NFKC); spaces of every width removed at the ends,
    runs inside collapsed. The middle dot of minority names (·) is kept."""
    if not value.isascii():  # NFKC leaves ASCII as it is: skip it for the common case
        value = unicodedata.normalize("NFKC", value)
    return " ".join(value.split())


def _header_key(value) -> str:
    return "".join(normalise_text(str(value or "")).split()).replace("(", "（").replace(")", "）")


_HEADER_INDEX = {_header_key(h): field for field, (_, variants, _) in FIELDS.items() for h in variants}


@dataclass(slots=True)
class Sheet:
    headers: list[str]  # as written in the file
    columns: dict[str, int]  # field -> column index
    rows: Iterator[tuple[int, list]]  # (spreadsheet row number, cells)
    total: int | None  # number of data rows when known in advance


def cell_text(value) -> str:
    """A cell as text: Excel stores numbers typed into text columns (phones) as floats."""
    if value.__class__ is str:  # most cells: no conversion (this runs for every cell of a roster)
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _map_headers(header_cells: list) -> tuple[list[str], dict[str, int]]:
    headers = [cell_text(h).strip() for h in header_cells]
    columns: dict[str, int] = {}
    for i, h in enumerate(headers):
        field = _HEADER_INDEX.get(_header_key(h))
        if field and field not in columns:
            columns[field] = i
    missing = [LABEL[f] for f, (_, _, req) in FIELDS.items() if req and f not in columns]
    if missing:
        seen = "、".join(h for h in headers if h) or "（无）"
        raise RosterUnreadable(f"缺少必填列：{'、'.join(missing)}（文件表头为：{seen}）")
    return headers, columns


def _blank(cells: list) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _numbered(rows: Iterator[list], first: int = 2) -> Iterator[tuple[int, list]]:
    for n, cells in enumerate(rows, first):
        if not _blank(cells):
            yield n, cells


def _open_excel(data: bytes) -> Sheet:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = wb.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise RosterUnreadable(f"无法读取Excel文件：{exc}") from exc
    rows = sheet.iter_rows()
    first_row = (sheet.start[0] if sheet.start else 0) + 1  # calamine skips leading empty rows
    header = next(rows, None)
    if header is None or _blank(header):
        raise RosterUnreadable("文件为空：没有表头和数据行")
    headers, columns = _map_headers(header)
    return Sheet(headers, columns, _numbered(rows, first_row + 1), max(sheet.height - 1, 0))


def _encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GBK, judged on the whole file without decoding it into one string."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for i in range(0, len(data), 1 << 20):
                decoder.decode(data[i : i + (1 << 20)], final=False)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise RosterUnreadable("无法识别文件编码（支持UTF-8、带BOM的UTF-8和GBK）")


def _open_csv(data: bytes) -> Sheet:
    if b"\x00" in data[:4096]:
        raise RosterUnreadable("不是Excel或CSV表格文件")
    text = io.TextIOWrapper(io.BytesIO(data), encoding=_encoding(data), newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RosterUnreadable(f"不是Excel或CSV表格文件：{exc}") from exc
    if header is None or _blank(header):
        raise RosterUnreadable("文件为空：没有表头和数据行")
    headers, columns = _map_headers(header)
    return Sheet(headers, columns, _numbered(reader), max(data.count(b"\n") - 1, 0))


def open_roster(data: bytes) -> Sheet:
    """Open a roster file from its bytes. Raises RosterUnreadable with a Chinese reason."""
    from yfbz.core.spreadsheets import SpreadsheetRefused, check_spreadsheet

    if not data or not data.strip():
        raise RosterUnreadable("文件为空")
    try:  # before any reader allocates: a declared A1:XFD1048576 would abort the worker (issue 9)
        check_spreadsheet(data)
    except SpreadsheetRefused as exc:
        raise RosterUnreadable(str(exc)) from None
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        sheet = _open_excel(data)
    else:
        sheet = _open_csv(data)
    first = next(sheet.rows, None)
    if first is None:
        raise RosterUnreadable("文件为空：只有表头，没有数据行")
    sheet.rows = itertools.chain([first], sheet.rows)
    return sheet
