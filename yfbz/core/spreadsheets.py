"""Spreadsheets in and out, safely (issue 9, findings 4 and 5; docs/security.md).

Reading: every reader of an uploaded spreadsheet calls ``check_spreadsheet(data)`` before it opens
the file. A 1.7 KB xlsx whose sheet declares ``A1:XFD1048576`` made the reader allocate ~512 GiB
and abort the worker; a zip of a few MB may unpack to gigabytes. The check reads the zip's
directory and streams each worksheet's XML (never the whole file into memory), and refuses with a
clear Chinese message:
- a zip that would unpack to more than ``MAX_UNCOMPRESSED`` (500 MB),
- a sheet that declares or holds more than ``MAX_ROWS`` (1,100,000) rows or ``MAX_COLUMNS`` (200)
  columns (the declared ``<dimension>``, every ``<row r=…>``, every cell reference, and the number of
  rows actually present all count),
- a CSV with more rows or columns than that.
The later one reader for every upload (issue 18) builds on this function.

Writing: every xlsx the product writes goes through ``write_xlsx`` / ``SafeSheet``: any text that
a spreadsheet program would read as a formula (starting with = + - @, a tab or a carriage return)
is stored as text, so a name like ``=HYPERLINK(…)`` from a department's roster is shown, never run.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from xml.etree.ElementTree import _escape_cdata as _escape  # what et_xmlfile escapes text with

MAX_ROWS = 1_100_000
MAX_COLUMNS = 200
MAX_UNCOMPRESSED = 500 * 1024 * 1024
# rows × columns a reader may allocate: a sparse sheet with cells at GR1 and A1100000 stays within
# both limits yet would make a grid of 220 million cells. 1,100,000 rows of 26 columns fit.
MAX_AREA = 30_000_000
_CHUNK = 1 << 20


class SpreadsheetRefused(ValueError):
    """The file is refused before it is read; the message is for staff (Chinese)."""


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _too_big(rows: int, cols: int, where: str, *, area: bool = True) -> None:
    if rows > MAX_ROWS:
        raise SpreadsheetRefused(f"{where}有{rows:,}行，超过上限{MAX_ROWS:,}行：请拆分为多个文件后再上传。")
    if cols > MAX_COLUMNS:
        raise SpreadsheetRefused(f"{where}有{cols:,}列，超过上限{MAX_COLUMNS}列：请删除多余的列后再上传。")
    if area and rows * cols > MAX_AREA:
        raise SpreadsheetRefused(
            f"{where}的范围过大（{rows:,}行×{cols:,}列）：请删除空白的行和列，或拆分为多个文件后再上传。"
        )


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?\"")
# any reference (row or cell) beyond row 999,999, and any cell beyond column Z: the only ones worth
# a closer look, so that a normal sheet costs one fast scan
# (patterns start with a literal: the regex engine then skips ahead fast)
_DEEP_REF = re.compile(rb'r="[A-Z]{0,3}(\d{7,})"')
_WIDE_CELL = re.compile(rb'r="([A-Z]{2,3})\d')


def _row_tags(block: bytes) -> int:
    return block.count(b"<row ") + block.count(b"<row>") + block.count(b":row ") + block.count(b":row>")


def _check_sheet_xml(stream, where: str) -> None:
    rows_present, max_row, max_col, tail = 0, 0, 26, b""  # up to 26 columns are not looked at
    first = True
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        block = tail + chunk
        if first:
            first = False
            if m := _DIMENSION.search(block):
                c1, r1, c2, r2 = m.groups()
                _too_big(int(r2 or r1), column_number((c2 or c1).decode()), where + "（声明的范围）")
        # count only tags that start in this chunk (the tail overlaps the previous one)
        rows_present += _row_tags(block) - _row_tags(tail)
        for digits in _DEEP_REF.findall(block):
            max_row = max(max_row, int(digits))
        for letters in set(_WIDE_CELL.findall(block)):
            max_col = max(max_col, column_number(letters.decode()))
        _too_big(max(rows_present, max_row), max_col, where)
        tail = block[-64:]


def _check_xlsx(data: bytes) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetRefused(f"文件已损坏，无法作为Excel文件读取（{exc}）。") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise SpreadsheetRefused(
            f"文件解压后约{total / 1024 / 1024:,.0f} MB，超过上限{MAX_UNCOMPRESSED // 1024 // 1024} MB：请检查文件或拆分后再上传。"
        )
    sheets = [i for i in infos if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename)]
    read = 0
    for n, info in enumerate(sheets, 1):
        where = f"工作表{n}" if len(sheets) > 1 else "工作表"
        try:
            with zf.open(info) as stream:
                _check_sheet_xml(_Counted(stream, info.file_size), where)
                read += info.file_size
        except SpreadsheetRefused:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise SpreadsheetRefused(f"文件已损坏，无法作为Excel文件读取（{exc}）。") from None


class _Counted:
    """Reads a zip member, refusing to go past the size its directory declared (a lying header)."""

    def __init__(self, stream, declared: int):
        self.stream, self.left = stream, declared + _CHUNK

    def read(self, n):
        chunk = self.stream.read(n)
        self.left -= len(chunk)
        if self.left < 0:
            raise SpreadsheetRefused("文件已损坏：解压后的大小与文件目录不符。")
        return chunk


def _check_csv(data: bytes) -> None:
    """CSV readers stream row by row (no grid): only the row and column limits apply."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    header = data[: data.find(b"\n")] if b"\n" in data else data[:_CHUNK]
    # commas in the header line (quoted commas make this an upper bound: good enough to refuse)
    _too_big(max(lines - 1, 0), header.count(b",") + 1, "文件", area=False)


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def check_spreadsheet(data: bytes) -> None:
    """Refuse (SpreadsheetRefused) a workbook or CSV too large to read safely. Cheap on normal files."""
    if is_zip(data):
        _check_xlsx(data)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SpreadsheetRefused("不支持旧版Excel（.xls）文件：请在Excel中另存为.xlsx后再上传。")
    else:
        _check_csv(data)


# --- writing ---------------------------------------------------------------------------------------
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FEN = Decimal("0.01")
MONEY_FORMAT = "#,##0.00"


class SafeSheet:
    """A write-only worksheet whose ``append`` stores outside text as text.

    Rows of plain values (text, whole numbers, money, dates, empty cells) are written as the sheet's XML
    directly, the very bytes openpyxl writes for them (``tests/core/test_spreadsheet_writer.py`` compares
    the two on every kind of value): openpyxl's write-only mode makes a cell object and an element tree
    per cell and serialises it in pure Python (~15–30 µs a cell on the 2-core machine: a 958-line
    settlement export spent ~1 s there); the string costs ~2 µs. Any other row (a bool, a float, a time, a
    string openpyxl would refuse or read as an error code) goes through openpyxl as before."""

    def __init__(self, ws):
        self.ws = ws
        self._styles: dict[str, int] = {}  # the style id of money and of dates, taken from openpyxl at first use
        ws._write_rows = self._write_rows  # the sheet's row writer (a generator openpyxl starts at the first append)

    def _style(self, kind: str, value) -> int:
        if (sid := self._styles.get(kind)) is None:
            # a cell as openpyxl would make it registers its style (and number format) in the same order
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self.ws, value=value)
            if kind == "money":
                cell.number_format = MONEY_FORMAT
            sid = self._styles[kind] = cell.style_id
        return sid

    def _row_xml(self, values: list, r: int) -> str | None:
        """The row's XML as openpyxl writes it, or None when openpyxl should write it."""
        from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
        from openpyxl.compat import safe_string
        from openpyxl.utils import get_column_letter
        from openpyxl.utils.datetime import to_excel

        out = [f'<row r="{r}">']
        written = False
        for col, v in enumerate(values, 1):
            t = type(v)
            if v is None:
                continue
            if t is str:
                v = v[:32767]
                if ILLEGAL_CHARACTERS_RE.search(v) or (v in ERROR_CODES and not v.startswith(FORMULA_START)):
                    return None
                if v == "":
                    out.append(f'<c r="{get_column_letter(col)}{r}" t="inlineStr" />')
                else:
                    stripped = v.strip()
                    space = ' xml:space="preserve"' if stripped and stripped != v else ""
                    out.append(f'<c r="{get_column_letter(col)}{r}" t="inlineStr"><is><t{space}>{_escape(v)}</t></is></c>')
            elif t is int:
                out.append(f'<c r="{get_column_letter(col)}{r}" t="n"><v>{safe_string(v)}</v></c>')
            elif t is Decimal and v.is_finite():
                v = v.quantize(FEN, rounding=ROUND_HALF_UP)
                out.append(f'<c r="{get_column_letter(col)}{r}" s="{self._style("money", v)}" t="n"><v>{safe_string(v)}</v></c>')
            elif t is date:
                out.append(f'<c r="{get_column_letter(col)}{r}" s="{self._style("date", v)}" t="n">'
                           f'<v>{safe_string(to_excel(v, self.ws.parent.epoch))}</v></c>')
            else:
                return None
            written = True
        if not written:
            return None
        out.append("</row>")
        return "".join(out)

    def _write_rows(self):
        """openpyxl's ``WriteOnlyWorksheet._write_rows`` with the plain rows written as XML text."""
        ws = self.ws
        xf = ws._writer.xf.send(True)
        raw = getattr(xf, "_file", None)  # et_xmlfile's writer of text (lxml's xmlfile has none: then openpyxl writes)
        with xf.element("sheetData"):
            r = 1
            try:
                while True:
                    values = yield
                    xml = self._row_xml(values, r) if raw is not None and isinstance(values, list) else None
                    if xml is None:
                        ws._writer.write_row(xf, ws._values_to_row(self._cells(values), r), r)
                    else:
                        raw(xml)
                    r += 1
            except GeneratorExit:
                pass
        ws._writer.xf.send(None)

    def append(self, row: Iterable) -> None:
        self.ws.append(list(row))

    def _cells(self, row: Iterable) -> list:
        """The row as openpyxl is given it: outside text that reads as a formula as text, money at two decimals."""
        from openpyxl.cell import WriteOnlyCell

        out = []
        for value in row:
            if isinstance(value, str) and value.startswith(FORMULA_START):
                cell = WriteOnlyCell(self.ws, value=value)
                cell.data_type = "s"  # text, not a formula
                out.append(cell)
            elif isinstance(value, Decimal) and value.is_finite():
                # money: a number at two decimals shown with thousands separators (yfbz.core.display);
                # on SQLite a sum may come back as Decimal('41209.2800000000')
                cell = WriteOnlyCell(self.ws, value=value.quantize(FEN, rounding=ROUND_HALF_UP))
                cell.number_format = MONEY_FORMAT
                out.append(cell)
            else:
                out.append(value)
        return out

    def __getattr__(self, name):
        return getattr(self.ws, name)


class SafeWorkbook:
    """A write-only openpyxl workbook whose sheets store outside text as text.

        wb = SafeWorkbook()
        ws = wb.create_sheet("人员")
        ws.append([...])
        data = wb.to_bytes()
    """

    def __init__(self):
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)

    def create_sheet(self, title: str) -> SafeSheet:
        return SafeSheet(self.wb.create_sheet(title))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.wb.save(buf)
        return buf.getvalue()


def write_xlsx(title: str, header: list[str], rows: Iterable[Iterable]) -> bytes:
    """One sheet: a header row and rows, outside text stored as text."""
    wb = SafeWorkbook()
    ws = wb.create_sheet(title)
    ws.append(header)
    for row in rows:
        ws.append(row)
    return wb.to_bytes()
