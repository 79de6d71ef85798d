"""The one reader of every uploaded table (rosters, enrolment, one-stop settlement, bank returns,
institutions, the high-cost export, the tax system's 代缴明细): docs/files.md.

- xlsx through python-calamine (the first visible sheet that has the header), CSV in UTF-8, UTF-8
  with BOM or GBK (comma- or tab-separated); the bytes are first checked against hostile
  spreadsheets (``yfbz.core.spreadsheets.check_spreadsheet``).
- The header row is found among the first 10 rows: government exports carry title rows (report
  name, unit, date) above it. It is the first row holding every required column of the format.
- Headers are matched after normalising full-width characters, spaces, brackets, a leading * and a
  trailing （元）, through the format's built-in wordings and the wordings staff added
  (``HeaderAlias``).
- Rows keep the spreadsheet's own numbers (title rows and blank rows counted); blank rows and a
  closing 合计 row are skipped; rows are produced one at a time (a 1,000,000-row CSV is never held
  as Python objects; calamine holds an xlsx sheet's cells in Rust, as before).
- ``Table.reading`` says which row was the header, which columns were used (as which field) and
  which were ignored; every upload page shows it.
- A file that cannot be read raises ``FileUnreadable`` with a Chinese message for the clerk: when no
  header is found it names the columns expected (and their other wordings) and the first rows seen.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from yfbz.core.spreadsheets import SpreadsheetRefused, check_spreadsheet

from .formats import FORMATS, FileFormat

HEADER_ROWS = 10  # the header is looked for among the first 10 non-blank rows
SHOWN_ROWS = 5  # rows quoted when no header is found
MAX_SHEETS = 5
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "合 计", "总 计"})


class FileUnreadable(ValueError):
    """The file cannot be read at all (not a spreadsheet, empty, no header); the message is for staff."""


# --- text ---------------------------------------------------------------------------------------
@lru_cache(maxsize=65536)  # categories, towns, villages and dates repeat on every row
def normalise_text(value: str) -> str:
    """Full-width letters, digits and brackets to half-width (NFKC); spaces of every width removed at
    the ends, runs inside collapsed. The middle dot of minority names (·) is kept."""
    if not value.isascii():  # NFKC leaves ASCII as it is: skip it for the common case
        value = unicodedata.normalize("NFKC", value)
    return " ".join(value.split())


def cell_text(value) -> str:
    """A cell as text: Excel stores numbers typed into text columns (phones) as floats."""
    if value.__class__ is str:  # most cells: no conversion (this runs for every cell of a roster)
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_UNIT = re.compile(r"（(元|人民币元)）$")


@lru_cache(maxsize=4096)
def header_key(value: str) -> str:
    """The form in which headers are compared: 身份证号码 / 身份证号码 / ＊身份证号码 / 费用总额（元） alike."""
    text = "".join(normalise_text(value).split()).replace("(", "（").replace(")", "）").lstrip("*＊").upper()
    return _UNIT.sub("", text)


def blank(cells) -> bool:
    for c in cells:
        if c is None or c == "":
            continue
        if c.__class__ is str and not c.strip():
            continue
        return False
    return True


# --- the table ----------------------------------------------------------------------------------
@dataclass(slots=True)
class Table:
    fmt: FileFormat
    header_row: int  # the spreadsheet's row number of the header
    headers: list[str]  # as written in the file
    columns: dict[str, int]  # column key → index in a row's cells
    used: list[dict]  # [{"header": 身份证件号码, "column": 身份证号}] in file order
    ignored: list[str]  # headers not used (unknown, or a second header of a column already used)
    rows: Iterator[tuple[int, list]]  # (spreadsheet row number, cells), blank rows left out
    total: int | None  # data rows at most (known in advance; blank rows included)
    sheet: str = ""  # the worksheet read, when the workbook has several
    skipped: list[int] = field(default_factory=list)  # 合计 rows left out

    def has(self, key: str) -> bool:
        return key in self.columns

    def header_of(self, key: str) -> str:
        """The column's header as the file writes it (messages name what the clerk sees), else its label."""
        i = self.columns.get(key)
        return self.headers[i] if i is not None else self.fmt.labels[key]

    @property
    def reading(self) -> dict:
        """What the page shows and the upload stores: where the header was, what was used and ignored."""
        return {
            "format": self.fmt.name,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "used": self.used,
            "ignored": self.ignored,
            "skipped": self.skipped,
        }

    def describe(self) -> str:
        return describe(self.reading)


def describe(reading: Mapping) -> str:
    """One sentence for staff: 表头在第3行；使用的列：…；未使用的列：…"""
    if not reading:
        return ""
    parts = []
    if reading.get("sheet"):
        parts.append(f"读取工作表“{reading['sheet']}”")
    parts.append(f"表头在第{reading.get('header_row', 1)}行")
    used = [u["header"] if u["header"] == u["column"] else f"{u['header']}（作为{u['column']}）" for u in reading.get("used", [])]
    if used:
        parts.append("使用的列：" + "、".join(used))
    ignored = reading.get("ignored") or []
    parts.append("未使用的列：" + ("、".join(ignored) if ignored else "无"))
    skipped = reading.get("skipped") or []
    if skipped:
        parts.append("合计行已跳过：" + "、".join(f"第{n}行" for n in skipped))
    return "；".join(parts)


# --- header matching ----------------------------------------------------------------------------
def wordings_of(fmt: FileFormat, extra: Mapping[str, list[str]] | None = None) -> dict[str, tuple[str, int]]:
    """header key → (column key, rank): built-in wordings first (in their order), staff's after."""
    index: dict[str, tuple[str, int]] = {}
    for col in fmt.columns:
        for rank, wording in enumerate(col.wordings):
            index.setdefault(header_key(wording), (col.key, rank))
    for col_key, wordings in (extra or {}).items():
        for wording in wordings:
            index.setdefault(header_key(wording), (col_key, 1000))
    return index


def staff_wordings(fmt: FileFormat) -> dict[str, list[str]]:
    """The wordings staff added for this kind of file (one query)."""
    from .models import HeaderAlias

    out: dict[str, list[str]] = {}
    for column, wording in HeaderAlias.objects.filter(kind=fmt.kind).values_list("column", "wording"):
        if column in fmt.labels:
            out.setdefault(column, []).append(wording)
    return out


@dataclass(slots=True)
class _Match:
    headers: list[str]
    columns: dict[str, int]
    used: list[dict]
    ignored: list[str]
    missing: list[str]  # labels of required columns not found


def _match(fmt: FileFormat, index: Mapping[str, tuple[str, int]], cells: list) -> _Match:
    headers = [normalise_text(cell_text(c)) for c in cells]
    best: dict[str, tuple[int, int]] = {}  # column key → (rank, index)
    for i, h in enumerate(headers):
        hit = index.get(header_key(h)) if h else None
        if hit is None:
            continue
        col, rank = hit
        if col not in best or rank < best[col][0]:
            best[col] = (rank, i)
    columns = {col: i for col, (_, i) in best.items()}
    by_index = {i: col for col, i in columns.items()}
    labels = fmt.labels
    used, ignored = [], []
    for i, h in enumerate(headers):
        if i in by_index:
            used.append({"header": h, "column": labels[by_index[i]]})
        elif h:
            hit = index.get(header_key(h))
            ignored.append(f"{h}（与“{headers[columns[hit[0]]]}”重复）" if hit else h)
    missing = [c.label for c in fmt.columns if c.required and c.key not in columns]
    for group in fmt.one_of:
        if not any(k in columns for k in group):
            missing.append("或".join(labels[k] for k in group))
    return _Match(headers, columns, used, ignored, missing)


def _expected(fmt: FileFormat, extra: Mapping[str, list[str]] | None) -> str:
    def one(col) -> str:
        others = [w for w in col.wordings if w != col.label] + list((extra or {}).get(col.key, []))
        return f"{col.label}（也可写作：{'、'.join(others)}）" if others else col.label

    parts = [one(c) for c in fmt.columns if c.required]
    for group in fmt.one_of:
        parts.append("或".join(one(fmt.column(k)) for k in group))
    return "；".join(parts)


def _quote_row(n: int, cells: list) -> str:
    texts = [t for t in (normalise_text(cell_text(c)) for c in cells) if t]
    shown = " | ".join(texts[:10]) + (" | …" if len(texts) > 10 else "")
    if len(shown) > 120:
        shown = shown[:117] + "…"
    return f"第{n}行：{shown}"


def _no_header(fmt: FileFormat, extra, seen: list[tuple[int, list]], best: tuple[int, _Match] | None) -> FileUnreadable:
    if not seen:
        return FileUnreadable("文件为空：没有表头，也没有数据行。")
    msg = [f"找不到表头：文件前{HEADER_ROWS}行中没有一行含有{fmt.name}必需的全部列。"]
    if best is not None and len(best[1].columns) >= 2:
        n, m = best
        msg.append(f"第{n}行最像表头，但缺少：{'、'.join(m.missing)}。")
    msg.append(f"必需的列：{_expected(fmt, extra)}。")
    msg.append("文件的前几行是——" + "；".join(_quote_row(n, c) for n, c in seen[:SHOWN_ROWS]) + "。")
    msg.append("请检查是否上传错了文件；如果表头只是写法不同，请系统管理员在“表头写法”中添加后再上传。")
    return FileUnreadable("".join(msg))


def _find_header(fmt, index, extra, rows: Iterator[tuple[int, list]]):
    """Take rows until the header; returns (header row number, match, rows left) or raises."""
    seen: list[tuple[int, list]] = []
    best: tuple[int, _Match] | None = None
    for n, cells in rows:
        if blank(cells):
            continue
        m = _match(fmt, index, cells)
        if not m.missing:
            return n, m, rows
        if m.columns and (best is None or len(m.columns) > len(best[1].columns)):
            best = (n, m)
        seen.append((n, cells))
        if len(seen) >= HEADER_ROWS:
            break
    raise _no_header(fmt, extra, seen, best)


def _data_rows(rows: Iterator[tuple[int, list]], skipped: list[int]) -> Iterator[tuple[int, list]]:
    for n, cells in rows:
        for c in cells:  # the first non-blank cell: a closing 合计 row is not a data row
            if c is None or c == "":
                continue
            if c.__class__ is str and len(c) <= 6 and normalise_text(c) in TOTAL_WORDS:
                skipped.append(n)
                break
            yield n, cells
            break


# --- opening ------------------------------------------------------------------------------------
def _excel_sheets(data: bytes):
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in wb.sheets_metadata if str(m.visible).endswith("Visible")] or wb.sheet_names
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise FileUnreadable(f"无法读取该Excel文件（文件可能已损坏，或不是.xlsx格式）：{exc}") from None
    for name in names[:MAX_SHEETS]:
        try:
            sheet = wb.get_sheet_by_name(name)
        except Exception as exc:  # noqa: BLE001 - a damaged sheet
            raise FileUnreadable(f"无法读取工作表“{name}”：{exc}") from None
        yield name, sheet, len(names) > 1


def _excel_rows(sheet) -> Iterator[tuple[int, list]]:
    """Every row with the spreadsheet's number. calamine starts its range at the first cell holding
    a value; depending on the file it yields the rows above it as blank rows or not at all."""
    rows = iter(sheet.iter_rows())
    start = sheet.start[0] if sheet.start else 0
    first = next(rows, None)
    if first is None:
        return
    number = 1 if (start and blank(first)) else start + 1
    yield number, first
    yield from enumerate(rows, number + 1)


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
    raise FileUnreadable("无法识别文件的文字编码：CSV文件请另存为UTF-8或GBK编码，或直接上传.xlsx。")


def _delimiter(data: bytes) -> str:
    head = data[:65536].split(b"\n")[:HEADER_ROWS + 2]
    tabs = sum(line.count(b"\t") for line in head)
    commas = sum(line.count(b",") for line in head)
    return "\t" if tabs > commas else ","


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    if b"\x00" in data[:4096]:
        raise FileUnreadable("不是Excel或CSV表格文件（应为.xlsx或.csv）。")
    text = io.TextIOWrapper(io.BytesIO(data), encoding=_encoding(data), newline="")
    reader = csv.reader(text, delimiter=_delimiter(data))
    try:
        yield from enumerate(reader, 1)
    except csv.Error as exc:
        raise FileUnreadable(f"CSV文件格式有误（第{reader.line_num}行附近）：{exc}") from None


def guard(data: bytes) -> None:
    """Refuse a hostile spreadsheet before any reader allocates (docs/security.md)."""
    try:
        check_spreadsheet(data)
    except SpreadsheetRefused as exc:
        raise FileUnreadable(str(exc)) from None


def is_excel(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_table(data: bytes, fmt: FileFormat | str, *, extra: Mapping[str, list[str]] | None = None,
               require_rows: bool = True) -> Table:
    """Open an uploaded table of the format ``fmt`` (a ``FileFormat`` or its kind). ``extra``:
    column key → more wordings (default: the ``HeaderAlias`` rows of this kind). Raises
    ``FileUnreadable`` with a message for staff."""
    if isinstance(fmt, str):
        fmt = FORMATS[fmt]
    if not data or not data.strip():
        raise FileUnreadable("文件为空。")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileUnreadable("这是旧版Excel（.xls）文件：请在Excel中“另存为”.xlsx后再上传。")
    guard(data)
    if extra is None:
        extra = staff_wordings(fmt)
    index = wordings_of(fmt, extra)
    if is_excel(data):
        table = None
        first_error = None
        for name, sheet, several in _excel_sheets(data):
            try:
                n, m, rows = _find_header(fmt, index, extra, _excel_rows(sheet))
            except FileUnreadable as exc:
                first_error = first_error or exc
                continue
            total = max((sheet.end[0] + 1 if sheet.end else 0) - n, 0)
            table = _table(fmt, n, m, rows, total, name if several else "")
            break
        if table is None:
            raise first_error or FileUnreadable("文件为空：没有工作表。")
    else:
        n, m, rows = _find_header(fmt, index, extra, _csv_rows(data))
        table = _table(fmt, n, m, rows, max(data.count(b"\n") - n, 0), "")
    if require_rows:
        first = next(table.rows, None)
        if first is None:
            raise FileUnreadable(f"文件为空：只有表头（第{table.header_row}行），没有数据行。")
        table.rows = itertools.chain([first], table.rows)
    return table


def _table(fmt, n, m: _Match, rows, total, sheet) -> Table:
    skipped: list[int] = []
    return Table(fmt, n, m.headers, m.columns, m.used, m.ignored, _data_rows(rows, skipped), total, sheet, skipped)
