"""xlsx exports. They take a queryset already scoped by the caller (visible_to) and filtered."""

from yfbz.core.display import pct
from yfbz.core.exports import stream
from yfbz.core.pii import mask
from yfbz.core.spreadsheets import SafeWorkbook
from yfbz.rules import Reason

# rows built in the request within ~150 ms at a million people (yfbz.core.exports; docs/scaling.md "Exports"): measured
# 172 µs a bill (20 columns and its decision) and 147 µs a one-stop line (21 columns); more is a job
BILLS_INLINE_ROWS = 600
LINES_INLINE_ROWS = 800


def _book(title: str, header: list[str], rows) -> bytes:
    wb = SafeWorkbook()
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append(r)
    return wb.to_bytes()


def bills_xlsx(bills, full: bool = False) -> bytes:
    m = str if full else mask
    def rows():
        for b in stream(bills, 2000):
            d = next(iter(getattr(b, "current_decisions", [])), None)
            yield [
                b.pk, b.person.name, m(b.person.id_number), b.person.town.name if b.person.town_id else "",
                b.institution.name, b.get_kind_display(), b.disease, b.settled_on, b.total_cost, b.in_policy_cost,
                b.basic_paid, b.critical_paid, d.scheme_label if d else "", d.category_name if d else "",
                pct(d.ratio) if d and d.ratio is not None else "", d.assistance if d else None, d.youfu_subsidy if d else None,
                d.cap_left_after if d else None, b.get_status_display(),
                "；".join(Reason(r).zh for r in d.reasons) if d else "",
            ]

    return _book("手工报销", [
        "票据编号", "姓名", "公民身份号码", "镇街", "医疗机构", "类型", "疾病", "结算日期", "医疗总费用", "政策范围内费用",
        "基本医保支付", "大病保险支付", "救助方案", "适用身份", "救助比例", "医疗救助", "优抚补助", "本年剩余限额", "状态", "原因",
    ], rows())


def settlement_lines_xlsx(lines, full: bool = False) -> bytes:
    m = str if full else mask
    def rows():
        for ln in stream(lines, 5000):
            yield [
                ln.institution.name, ln.line_no, ln.settlement_no, ln.name, m(ln.id_number),
                ln.person.town.name if ln.person_id and ln.person.town_id else "", ln.get_kind_display(),
                ln.settled_on, ln.in_policy_cost, ln.basic_paid, ln.critical_paid, ln.large_paid, ln.advanced,
                ln.tilted_paid, ln.decided,
                ln.difference, ln.get_outcome_display(), ln.get_dispute_display() if ln.dispute else "",
                ln.dispute_text, ln.get_resolution_display() if ln.resolution else "", ln.payable,
            ]

    return _book("一站式结算审核", [
        "医疗机构", "行号", "结算编号", "姓名", "公民身份号码", "镇街", "类型", "结算日期", "政策范围内费用", "基本医保支付",
        "大病保险支付", "职工大额医疗保险支付", "机构垫付救助", "倾斜救助（方案外）", "核定救助", "差额", "审核结果", "异议原因", "说明", "处理结果", "应付机构",
    ], rows())


# --- large exports as tasks (issue 14, yfbz.core.exports) ----------------------------------------------
def _bill_rows(user, params):
    from yfbz.core.exports import Asked

    from .views import _bill_filter

    return _bill_filter(Asked(user, params)).qs


def _line_rows(user, params):
    from yfbz.core.exports import Asked

    from .views import _line_filter

    return _line_filter(Asked(user, params)).qs


def _stamped(name: str, full: bool) -> str:
    from django.utils import timezone

    from yfbz.core.downloads import download_name

    return download_name(name, f"{timezone.localdate():%Y%m%d}", ext="xlsx", full=full)


def register_exports() -> None:
    from yfbz.core import exports

    exports.register("claims.bills", title="手工报销票据", permission="claims.view_bill", rows=_bill_rows,
                     build=lambda user, params, full: (bills_xlsx(_bill_rows(user, params), full=full),
                                                       _stamped("手工报销票据", full)), inline_rows=BILLS_INLINE_ROWS)
    exports.register("claims.settlement_lines", title="一站式结算明细", permission="claims.view_settlementline",
                     rows=_line_rows,
                     build=lambda user, params, full: (settlement_lines_xlsx(_line_rows(user, params), full=full),
                                                       _stamped("一站式结算明细", full)), inline_rows=LINES_INLINE_ROWS)
