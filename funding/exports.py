"""xlsx files: the tax system's list (route a), the gap list, the bank payment file, the month report.
Callers pass rows already scoped with visible_to(user)."""

from __future__ import annotations

from yfbz.core.display import label
from yfbz.core.exports import stream
from yfbz.core.pii import mask
from yfbz.core.spreadsheets import SafeWorkbook
from yfbz.rules.codes import ENROLMENT_ZH

# rows built in the request within ~150 ms at a million people (yfbz.core.exports; docs/scaling.md "Exports"): the bench's
# database holds no subsidy results, so taken as the people list's 51 µs a row (the same person and town, 7–8 columns)
TAX_LIST_INLINE_ROWS = 2000
GAP_LIST_INLINE_ROWS = 2000


def _save(wb) -> bytes:
    return wb.to_bytes()


def _category_names():
    from beneficiaries.models import Category

    return dict(Category.objects.values_list("code", "name"))


def tax_list_xlsx(results, full: bool = False) -> bytes:
    m = str if full else mask
    names = _category_names()
    wb = SafeWorkbook()
    ws = wb.create_sheet("资助参保名单")
    ws.append(["公民身份号码", "姓名", "镇街", "参保类型", "资助身份", "资助金额", "个人缴纳部分"])
    for r in stream(results, 5000):
        ws.append([m(r.person.id_number), r.person.name, r.person.town.name if r.person.town else "",
                   ENROLMENT_ZH.get(r.enrolment, r.enrolment), names.get(r.category, r.category), r.amount, r.personal_part])
    return _save(wb)


def gap_list_xlsx(rows, full: bool = False) -> bytes:
    m = str if full else mask
    names = _category_names()
    wb = SafeWorkbook()
    ws = wb.create_sheet("漏保断保名单")
    ws.append(["公民身份号码", "姓名", "镇街", "村（社区）", "联系电话", "身份类别", "情况", "参保类型"])
    for r, gap in rows:
        p = r.person
        ws.append([m(p.id_number), p.name, p.town.name if p.town else "", p.village, m(p.phone), names.get(r.category, r.category),
                   gap, ENROLMENT_ZH.get(r.enrolment, "未参保")])
    return _save(wb)


def purpose(line) -> str:
    """The bank file's 用途 in words: '个人救助待遇（重特大疾病医疗救助）', never a code."""
    what = label(line.spending, "spending")
    return f"{what}（{label(line.scheme, 'scheme')}）" if line.scheme else what


def bank_file_xlsx(batch) -> bytes:
    """The bank payment file: one row per payment; 明细号 comes back on the bank's return file."""
    wb = SafeWorkbook()
    ws = wb.create_sheet("代发明细")
    ws.append(["明细号", "收款人", "开户银行", "银行账号", "金额", "用途"])
    for p in batch.payments.select_related("line").order_by("pk").iterator(chunk_size=5000):
        ws.append([p.pk, p.line.payee_name, p.bank_name, p.bank_account, p.amount,
                   purpose(p.line)])
    ws2 = wb.create_sheet("汇总")
    ws2.append(["批次号", batch.number])
    ws2.append(["资金", batch.get_fund_display()])
    ws2.append(["笔数", batch.payments.count()])
    ws2.append(["金额合计", batch.total])
    return _save(wb)


def month_report_xlsx(report: dict) -> bytes:
    wb = SafeWorkbook()
    ws = wb.create_sheet("账户收支")
    ws.append(["账户", "期初余额", "本月收入", "本月支出", "期末余额"])
    for a in report["accounts"]:
        ws.append([a["account"].name, a["opening"], a["inflow"], a["outflow"], a["closing"]])
    ws = wb.create_sheet("收支类别")
    ws.append(["账户", "类别", "金额"])
    for r in report["by_kind"]:
        ws.append([r["account"], r["kind"], r["amount"]])
    ws = wb.create_sheet("救助项目")
    ws.append(["资金", "项目", "笔数", "金额"])
    for r in report["by_scheme"]:
        ws.append([r["fund"], label(r["scheme"], "scheme") if r["scheme"] != "—" else "资助参保", r["n"], r["amount"]])
    ws = wb.create_sheet("镇街")
    ws.append(["镇街", "笔数", "金额"])
    for r in report["by_town"]:
        ws.append([r["town"], r["n"], r["amount"]])
    ws = wb.create_sheet("优抚资金预算执行")
    y = report["youfu"]
    ws.append(["年度预算", "本年已支出", "预算结余"])
    ws.append([y["budget"], y["spent"], y["left"]])
    return _save(wb)


def tax_reconciliation_xlsx(lines, full: bool = False) -> bytes:
    """The disagreements (and agreements) of a 代缴明细 reconciliation, per town, for follow-up."""
    m = str if full else mask
    names = _category_names()
    wb = SafeWorkbook()
    ws = wb.create_sheet("税务代缴明细核对")
    ws.append(["镇街", "结果", "税务明细行号", "身份证件号码", "姓名", "代缴类别（税务）", "代缴金额（税务）", "资助身份（我方）",
               "资助金额（我方）", "说明"])
    for ln in stream(lines, 5000):
        ws.append([ln.town.name if ln.town_id else "（未能确定镇街）", ln.get_kind_display(), ln.row_no, m(ln.id_number), ln.name,
                   ln.tax_category, ln.tax_amount, names.get(ln.our_category, ln.our_category), ln.our_amount,
                   ln.explanation])
    return _save(wb)


# --- large exports as tasks (issue 14, yfbz.core.exports) ----------------------------------------------
def _year_town(user, params):
    from yfbz.core.exports import Asked

    from .views import _town_for

    return int(params["year"]), _town_for(Asked(user, params))


def _tax_rows(user, params):
    from . import selectors

    year, town_id = _year_town(user, params)
    return selectors.tax_list(user, year=year, town_id=town_id)


def _tax_file(user, params, full):
    from yfbz.core.downloads import download_name, town_name

    year, town_id = _year_town(user, params)
    return (tax_list_xlsx(_tax_rows(user, params), full=full),
            download_name(town_name(town_id), f"{year}年资助参保税务名单", ext="xlsx", full=full))


def _gap_rows(user, params):
    from . import selectors

    year, town_id = _year_town(user, params)
    return selectors.gap_results(user, year=year, town_id=town_id)


def _gap_file(user, params, full):
    from yfbz.core.downloads import download_name, town_name

    from . import selectors

    year, town_id = _year_town(user, params)
    return (gap_list_xlsx(selectors.gap_list(user, year=year, town_id=town_id), full=full),
            download_name(town_name(town_id), f"{year}年漏保断保名单", ext="xlsx", full=full))


def register_exports() -> None:
    from yfbz.core import exports

    exports.register("funding.tax_list", title="资助参保税务名单", permission="funding.view_subsidyresult",
                     rows=_tax_rows, build=_tax_file, inline_rows=TAX_LIST_INLINE_ROWS)
    exports.register("funding.gap_list", title="漏保断保名单", permission="funding.view_subsidyresult",
                     rows=_gap_rows, build=_gap_file, inline_rows=GAP_LIST_INLINE_ROWS)
