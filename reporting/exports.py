"""A statutory return as a government return's paper: xlsx and PDF in the same layout (title,
reporting unit, period, unit of measure, the table with two-level headers, notes, the tie-out's
result, 单位负责人/审核人/填表人 and the date), and the charts of the return as images in the PDF.
Amounts as the display layer writes them (two decimals); every cell is written as a value, never
a formula."""

from __future__ import annotations

import base64
import io

from django.template.loader import render_to_string
from django.utils import timezone

from yfbz.core.display import money

from .models import StatReturn


def header_rows(columns: list[str]) -> tuple[list[tuple[str, int]], list[str], list[bool]]:
    """Two header rows from "Group|Sub" column names: (groups with their span, subs, single-level flags)."""
    groups: list[tuple[str, int]] = []
    subs, single = [], []
    for c in columns:
        g, _, s = c.partition("|")
        if not s:
            groups.append((g, 1))
            subs.append("")
            single.append(True)
            continue
        if groups and groups[-1][0] == g and not single[-1]:
            groups[-1] = (g, groups[-1][1] + 1)
        else:
            groups.append((g, 1))
        subs.append(s)
        single.append(False)
    return groups, subs, single


def display_value(v) -> str:
    if isinstance(v, str) and v.replace(".", "", 1).replace("-", "", 1).isdigit() and "." in v:
        return money(v)
    return str(v)


def _signoff(ret: StatReturn) -> dict:
    when = timezone.localtime(ret.approved_at).date() if ret.approved_at else None
    return {
        "responsible": ret.responsible or "", "approver": str(ret.approved_by) if ret.approved_by else "",
        "preparer": str(ret.prepared_by), "date": f"{when.year}年{when.month}月{when.day}日" if when else "（未审核）",
    }


def _safe(text: str) -> str:
    return text


def _text_cells(ws) -> None:
    """Every text cell stored as text, never a formula (the rule of yfbz.core.spreadsheets' shared
    writer, applied here because the return's layout needs merged cells, which its write-only
    sheets cannot hold)."""
    from yfbz.core.spreadsheets import FORMULA_START

    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"


def return_xlsx(ret: StatReturn) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    f = ret.figures
    cols = f.get("columns", [])
    n = len(cols) + 1
    wb = Workbook()
    ws = wb.active
    ws.title = ret.get_kind_display()[:31]
    thin = Side(style="thin", color="333333")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(1, 1, ret.get_kind_display() + ("" if ret.status == "APPROVED" else "（草稿，未审核）")).font = Font(size=16, bold=True)
    ws.cell(1, 1).alignment = center
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n)
    ws.cell(2, 1, f"（{ret.period_zh}，第{ret.version}版）").alignment = center
    ws.cell(3, 1, _safe(f"填报单位：{ret.unit}"))
    ws.cell(3, n, f"计量单位：{f.get('unit_of_measure', '')}").alignment = Alignment(horizontal="right")
    groups, subs, single = header_rows(cols)
    ws.cell(4, 1, "项目").border = box
    ws.merge_cells(start_row=4, start_column=1, end_row=5, end_column=1)
    col, idx = 2, 0
    for g, span in groups:
        ws.cell(4, col, g)
        if span == 1 and single[idx]:
            ws.merge_cells(start_row=4, start_column=col, end_row=5, end_column=col)
        elif span > 1:
            ws.merge_cells(start_row=4, start_column=col, end_row=4, end_column=col + span - 1)
        col += span
        idx += span
    for i, s in enumerate(subs):
        if s:
            ws.cell(5, i + 2, s)
    for r in (4, 5):
        for c in range(1, n + 1):
            ws.cell(r, c).alignment = center
            ws.cell(r, c).border = box
            ws.cell(r, c).font = Font(bold=True)
    row = 6
    for line in f.get("rows", []):
        ws.cell(row, 1, _safe(line["label"])).border = box
        for i, v in enumerate(line["values"]):
            cell = ws.cell(row, i + 2)
            if isinstance(v, str) and "." in v:
                from decimal import Decimal

                cell.value = float(Decimal(v))  # a number in the sheet, shown with two decimals
                cell.number_format = "#,##0.00"
            else:
                cell.value = v
            cell.border = box
            cell.alignment = Alignment(horizontal="right")
        if line["label"] == "合计":
            for c in range(1, n + 1):
                ws.cell(row, c).font = Font(bold=True)
        row += 1
    row += 1
    for note in f.get("notes", []):
        ws.cell(row, 1, _safe(f"说明：{note}"))
        row += 1
    ws.cell(row, 1, "勾稽核对：" + ("通过" if ret.tie_out_ok else "未通过"))
    row += 1
    for c in ret.tie_out:
        ws.cell(row, 1, _safe(f"{'√' if c['ok'] else '×'} {c['name']}：{c['detail']}"))
        row += 1
    if ret.version > 1:
        ws.cell(row, 1, _safe(f"更正说明（较第{ret.previous.version if ret.previous else ret.version - 1}版）：{ret.correction_note}"))
        row += 1
        for ch in ret.changes:
            ws.cell(row, 1, _safe(f"{ch['row']} {ch['column']}：{display_value(ch['before'])} → {display_value(ch['after'])}"))
            row += 1
    s = _signoff(ret)
    row += 1
    ws.cell(row, 1, f"单位负责人：{s['responsible']}")
    ws.cell(row, max(2, n // 3), f"审核人：{s['approver']}")
    ws.cell(row, max(3, 2 * n // 3), f"填表人：{s['preparer']}")
    ws.cell(row + 1, 1, f"报出日期：{s['date']}")
    ws.column_dimensions["A"].width = 26
    for c in range(2, n + 1):
        ws.column_dimensions[get_column_letter(c)].width = 14
    _text_cells(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def return_pdf(ret: StatReturn, charts=()) -> bytes:
    from weasyprint import HTML

    from .charts import render_svg

    svgs = render_svg(list(charts)) if charts else []
    images = [
        {"chart": c, "src": "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode()}
        for c, svg in zip(charts, svgs, strict=True)
    ]
    groups, subs, single = header_rows(ret.figures.get("columns", []))
    rows = [{"label": r["label"], "values": [display_value(v) for v in r["values"]]} for r in ret.figures.get("rows", [])]
    html = render_to_string("reporting/pdf/return.html", {
        "ret": ret, "f": ret.figures, "groups": [(g, s, single_flag) for (g, s), single_flag in zip(groups, _group_single(groups, single), strict=True)],
        "subs": [s for s in subs if s], "rows": rows, "sign": _signoff(ret), "images": images,
        "changes": [{**c, "before": display_value(c["before"]), "after": display_value(c["after"])} for c in ret.changes],
    })
    return HTML(string=html).write_pdf()


def _group_single(groups, single) -> list[bool]:
    out, i = [], 0
    for _g, span in groups:
        out.append(span == 1 and single[i])
        i += span
    return out
