"""Charts of the dashboard and the returns: one ECharts option per chart, built here from the
statistics, drawn in the browser by the ECharts library served from ``static/vendor/echarts``
(no CDN) and, for the PDF returns, drawn by the *same* library file and the same option in an
embedded V8 (mini-racer, ECharts' server-side SVG renderer) — the same chart as an image.

Every chart carries the table it draws, shown beside it on the page and in the PDF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from yfbz.core.display import money

PALETTE = ["#2f5d8a", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646", "#7f7f7f", "#b8860b"]
FONT = "Noto Sans CJK SC, Noto Serif CJK SC, sans-serif"


@dataclass
class Chart:
    key: str
    title: str
    option: dict
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    height: int = 320

    @property
    def option_json(self) -> str:
        return json.dumps(self.option, ensure_ascii=False)


def _base(title: str) -> dict:
    return {
        "animation": False,
        "color": PALETTE,
        "textStyle": {"fontFamily": FONT},
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 70, "right": 60, "top": 50, "bottom": 60},
    }


def _num(d: Decimal | None) -> float:
    # the chart needs numbers; the table beside it keeps the exact two-decimal amounts
    return float(d or 0)


def months_chart(year: int, tables) -> Chart:
    """The year month by month: assistance paid (bars) and person-times (line)."""
    labels = [f"{p.month}月" for p, _t in tables]
    amounts = [_num(t.total.amount) for _p, t in tables]
    times = [t.total.person_times for _p, t in tables]
    opt = _base(f"{year}年各月医疗救助金额与人次")
    opt |= {
        "legend": {"data": ["救助金额（元）", "救助人次"], "bottom": 0},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [{"type": "value", "name": "元"}, {"type": "value", "name": "人次"}],
        "series": [
            {"name": "救助金额（元）", "type": "bar", "data": amounts},
            {"name": "救助人次", "type": "line", "yAxisIndex": 1, "data": times},
        ],
    }
    rows = [[lb, str(t.total.people), str(t.total.person_times), money(t.total.amount)]
            for lb, (_p, t) in zip(labels, tables, strict=True)]
    return Chart("months", opt["title"]["text"], opt, ["月份", "救助人数", "救助人次", "救助金额（元）"], rows)


def cut_chart(key: str, title: str, table, *, horizontal: bool = False) -> Chart:
    """Assistance by one cut (scheme, category, town …) as bars."""
    rows = [r for r in table.rows if r.person_times or r.youfu_times]
    labels = [r.label for r in rows]
    values = [_num(r.amount) for r in rows]
    opt = _base(title)
    opt["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
    cat_axis = {"type": "category", "data": labels, "axisLabel": {"interval": 0, "rotate": 0 if horizontal else 30}}
    val_axis = {"type": "value", "name": "元"}
    if horizontal:
        opt |= {"xAxis": val_axis, "yAxis": cat_axis | {"inverse": True}, "grid": {"left": 150, "right": 40, "top": 50, "bottom": 30}}
    else:
        opt |= {"xAxis": cat_axis, "yAxis": val_axis}
    opt["series"] = [{"name": "救助金额（元）", "type": "bar", "data": values, "label": {"show": len(values) <= 8, "position": "right" if horizontal else "top"}}]
    table_rows = [[r.label, str(r.people), str(r.person_times), money(r.amount)] for r in rows]
    table_rows.append(["合计", str(table.total.people), str(table.total.person_times), money(table.total.amount)])
    height = max(320, 90 + 24 * len(rows)) if horizontal else 320
    return Chart(key, title, opt, ["分组", "救助人数", "救助人次", "救助金额（元）"], table_rows, height)


def funds_chart(year: int, positions) -> Chart:
    """Each fund: the year's budget, paid to date, and projected for the year."""
    labels = [p.fund_label for p in positions]
    opt = _base(f"{year}年资金预算、已支出与全年预计")
    opt |= {
        "legend": {"data": ["年度预算", "已支出", "全年预计支出"], "bottom": 0},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": "元"},
        "series": [
            {"name": "年度预算", "type": "bar", "data": [_num(p.budget) for p in positions]},
            {"name": "已支出", "type": "bar", "data": [_num(p.spent) for p in positions]},
            {"name": "全年预计支出", "type": "bar", "data": [_num(p.projected) for p in positions]},
        ],
    }
    rows = [[p.fund_label, money(p.budget), money(p.spent), money(p.projected), p.warning_text or "正常"] for p in positions]
    return Chart("funds", opt["title"]["text"], opt, ["资金", "年度预算（元）", "已支出（元）", "全年预计支出（元）", "预警"], rows)


# --- the same charts as SVG images (PDF returns) --------------------------------------------------
ECHARTS = Path(settings.BASE_DIR) / "static" / "vendor" / "echarts" / "echarts.min.js"

_RENDER = """(function (opts, w, hs) {
  return opts.map(function (opt, i) {
    var c = echarts.init(null, null, {renderer: 'svg', ssr: true, width: w, height: hs[i]});
    c.setOption(opt);
    var s = c.renderToSVGString();
    c.dispose();
    return s;
  });
})(%s, %d, %s)"""


def render_svg(charts: list[Chart], *, width: int = 760) -> list[str]:
    """SVG of each chart, drawn by the vendored ECharts file with the chart's own option and height."""
    if not charts:
        return []
    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    try:
        ctx.eval("var window; var self = this; var global = this;")
        ctx.eval(ECHARTS.read_text(encoding="utf-8"))
        opts = json.dumps([c.option for c in charts], ensure_ascii=False)
        return list(ctx.eval(_RENDER % (opts, width, json.dumps([c.height for c in charts]))))
    finally:
        ctx.close()  # a context left open keeps the process from exiting
