"""Spreadsheets in and out, safely (issue 9, findings 4 and 5; docs/security.md).

Reading: every reader of an uploaded spreadsheet calls ``check_spreadsheet(data)`` before it opens
the file. A 1.7 KB xlsx whose sheet declares ``A1:XFD1048576`` made the reader allocate ~512 GiB
and abort the worker; a zip of a few MB may unpack to gigabytes. The check reads the zip's
directory and streams each worksheet's XML (never the whole file into memory), and refuses with a
clear Chinese message:
- a zip that would unpack to more than ``MAX_UNCOMPRESSED`` (500 MB),
- a sheet that declares or holds more than ``MAX_ROWS`` (1,100,000) rows or ``MAX_COLUMNS`` (200)
  columns (the declared ``<dimension>``, every ``<row r=…>``, every cell reference, and the number of
  rows actually present all count; a position in any spelling calamine reads — r='…', spaces around
  '=', lower-case or long column letters — and a cell without one where calamine would put it),
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


# What calamine allocates: a grid from the first to the last cell position, positions read from the
# ``r`` attribute of each cell (``<c r="B7">``) or, on a cell without one, counted on from the cell before
# it in the row and from the row's own ``r`` (or the rows before it). calamine (quick-xml) takes an
# attribute in any XML spelling — r="…", r='…', spaces around '=', lower-case letters, any number of
# letters — and any namespace prefix on the elements (``<x:c>``). The check therefore reads every
# spelling, and treats a cell without ``r`` as calamine does (``_implicit``).
#
# Fast on what every writer (Excel, WPS, openpyxl) produces: one scan finds the ``r`` attributes worth a
# look — two or more letters (beyond column Z), seven or more digits (row 1,000,000 on), or any other
# spelling — and a normal sheet has none or a handful; a row count, and one scan for cells without ``r``
# or prefixed elements (none in a normal sheet). Each of these scans starts with a literal, so the
# regular-expression engine skips ahead fast.
_ODD_R_SPACED = re.compile(rb' r(?:=(?!"[A-Z]?[0-9]{1,6}")| )')  # after a space: the fast scan
_ODD_R = re.compile(rb'r(?:=(?!"[A-Z]?[0-9]{1,6}")|\s)')  # after any white space: a part holding tabs or line breaks
_R_VALUE = re.compile(rb'r\s*=\s*(?:"([^"<>]{0,40})"|\'([^\'<>]{0,40})\')')
_R_QUOTED = re.compile(rb"""r\s*=\s*["']""")
_REF = re.compile(rb"\$?([A-Za-z]*)\$?([0-9]+)")
# a cell whose first attribute is not r="…", or a prefixed one (<x:c>: quick-xml ignores prefixes)
_BARE_CELL = re.compile(rb'c(?<=[<:]c)(?! r=")[\s/>]')
_DIMENSION = re.compile(rb"""dimension((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_DIM_REF = re.compile(rb"""(?:^|\s)ref\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# a row or cell tag, quotes respected as quick-xml does: (slash of an end tag, name, attributes)
_TAG = re.compile(rb"""<(/?)(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_TAG_R = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SIX_DIGIT_ROW = re.compile(rb'r="[A-Z]?([0-9]{6})"')
_ANY_TAG = re.compile(rb"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")
_CARRY = 64 * 1024  # no legitimate tag is longer


def _position(value: bytes) -> tuple[int, int] | None:
    """(row, column), 1-based, of a cell reference as calamine reads it (None where calamine refuses it)."""
    m = _REF.fullmatch(value)
    if m is None:
        return None
    letters, digits = m.groups()
    return int(digits), column_number(letters.upper().decode()) if letters else 0


class _Sheet:
    """What the scan of one worksheet found so far."""

    def __init__(self, where: str):
        self.where = where
        self.rows_present = 0
        self.max_row = 0
        self.max_col = 26  # up to 26 columns are not looked at (a normal reference has at most one letter)
        # calamine's counters (0-based), exact while every part was read by _implicit; else None
        self.row_index: int | None = 0
        self.col_index: int | None = 0

    def check(self) -> None:
        _too_big(max(self.rows_present, self.max_row), self.max_col, self.where)

    def at(self, row: int, col: int) -> None:
        if row > self.max_row:
            self.max_row = row
        if col > self.max_col:
            self.max_col = col


def _scan(block: bytes, sheet: _Sheet, first: bool) -> None:
    """One part of a worksheet's XML, cut before a tag (``_check_sheet_xml``)."""
    if first:  # the declared range, at the top of the sheet
        for m in _DIMENSION.finditer(block):
            ref = _DIM_REF.search(m.group(1))
            if ref is None:
                continue
            for part in (ref.group(1) if ref.group(1) is not None else ref.group(2)).split(b":"):
                if (pos := _position(part.strip())) is not None:
                    _too_big(pos[0], pos[1], sheet.where + "（声明的范围）")
    spaced = not (b"\n" in block or b"\t" in block or b"\r" in block)
    for m in (_ODD_R_SPACED if spaced else _ODD_R).finditer(block):
        start = m.start() + spaced  # at the r
        if start and block[start - 1] not in b" \t\r\n":
            continue  # the end of another attribute's name (header="0.3")
        v = _R_VALUE.match(block, start)
        if v is None:
            if _R_QUOTED.match(block, start):  # a quoted r value longer than any reference (or cut off)
                raise SpreadsheetRefused(f"文件已损坏：{sheet.where}中有无法识别的单元格位置。")
            continue  # "r = 5" in a cell's text: no attribute
        if (pos := _position(v.group(1) if v.group(1) is not None else v.group(2))) is not None:
            sheet.at(*pos)
    if _BARE_CELL.search(block):
        _implicit(block, sheet)
    else:
        sheet.rows_present += block.count(b"<row")  # (<rowBreaks counts too: one more at most)
        sheet.row_index = sheet.col_index = None  # not followed here: every cell of this part says where it is
    sheet.check()


def _implicit(block: bytes, sheet: _Sheet) -> None:
    """calamine's own counting, tag by tag: a cell without r sits after the cell before it in its row, in
    the row its row tag names or the row after the row before. Entering from a part that was not followed
    tag by tag, the counters start as high as they could be (the furthest row and column seen so far)."""
    row_index = sheet.row_index if sheet.row_index is not None else max(sheet.max_row, sheet.rows_present)
    col_index = sheet.col_index if sheet.col_index is not None else sheet.max_col
    rows = 0
    for m in _TAG.finditer(block):
        end, name, attrs = m.groups()
        if end:
            if name == b"row":
                row_index += 1
                col_index = 0
            continue
        empty = attrs.endswith(b"/")  # calamine reads <x/> as <x></x>
        r = _TAG_R.search(attrs)
        pos = _position(r.group(1) if r.group(1) is not None else r.group(2)) if r else None
        if name == b"row":
            rows += 1
            if pos is not None:
                row_index = pos[0] - 1
            if empty:
                row_index += 1
                col_index = 0
        else:  # a cell: where its r says, else next to the cell before; an empty one holds no value
            if pos is not None:
                col_index = max(pos[1] - 1, 0)
                if not empty:
                    sheet.at(*pos)
            elif not empty:
                sheet.at(row_index + 1, col_index + 1)
            col_index += 1
    sheet.rows_present += rows
    sheet.row_index, sheet.col_index = row_index, col_index


def _check_sheet_xml(stream, where: str) -> _Sheet:
    sheet = _Sheet(where)
    carry, first = b"", True
    while True:
        chunk = stream.read(_CHUNK)
        block = carry + chunk if carry else chunk
        if not chunk:
            if block:
                _scan(block, sheet, first)
            break
        # each part ends before the last tag that starts in it, so that no tag is cut in two
        cut = block.rfind(b"<")
        if cut < 0:
            cut = len(block)
        elif len(block) - cut > _CARRY:  # text since the last tag (or a tag of more than 64 KB: refused)
            if _ANY_TAG.match(block, cut) is None:
                raise SpreadsheetRefused(f"文件已损坏：{where}中有超长的标记。")
            cut = len(block)
        carry = block[cut:]
        _scan(block[:cut], sheet, first)
        first = False
    return sheet


def _check_rows_of_a_wide_sheet(stream, sheet: _Sheet) -> None:
    """A sheet wider than 30 columns: 1,000,000 rows of it would pass MAX_AREA, so the rows 100,000 to
    999,999 that the first scan passes over (six digits, one letter at most) are read too."""
    carry = b""
    while chunk := stream.read(_CHUNK):
        block = carry + chunk
        for digits in _SIX_DIGIT_ROW.findall(block):
            sheet.at(int(digits), 0)
        carry = block[-16:]
    sheet.check()


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
                sheet = _check_sheet_xml(_Counted(stream, info.file_size), where)
            if sheet.max_col * 999_999 > MAX_AREA and max(sheet.rows_present, sheet.max_row) < 999_999:
                with zf.open(info) as stream:
                    _check_rows_of_a_wide_sheet(_Counted(stream, info.file_size), sheet)
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
