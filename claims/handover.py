"""The hand-over file (移交清单) for the bureau that receives towns leaving this bureau's district
(docs/areas.md): for every person living in those towns on the day before they leave, their
identities, this year's cap use per scheme, their open receivables and their undecided bills. One
xlsx with a sheet per subject, every amount a number with two decimals and thousands separators.

The receiving bureau needs the full ID numbers: producing the file is an access entry in the audit
trail naming who, which towns and why (yfbz.core.pii). ``read_handover`` reads a file back (the
receiving side, and the tests).
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q

MONEY_FORMAT = "#,##0.00"
OPEN_BILL_STATUSES = ("ENTERED", "DECIDED")

SHEETS = {
    "people": ("人员与身份", ("公民身份号码", "姓名", "镇街", "身份类别", "起始日期", "终止日期")),
    "caps": ("本年度限额使用", ("公民身份号码", "姓名", "年度", "限额项目", "已使用金额")),
    "receivables": ("未结应收款", ("公民身份号码", "姓名", "来源编号", "资金", "应收金额", "已追回", "未追回", "原因")),
    "bills": ("未决票据", ("公民身份号码", "姓名", "票据号", "结算日期", "类型", "政策范围内费用", "状态")),
}


@dataclass
class Handover:
    data: bytes
    people: int
    file_name: str


def people_leaving(towns, on: date):
    """The people living in ``towns`` on the day before ``on`` (their town span, else their town)."""
    from beneficiaries.models import Person, PersonTown

    town_ids = [t.pk for t in towns]
    eve = on - timedelta(days=1)
    moved = PersonTown.objects.filter(valid_from__lte=eve).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=eve))
    with_spans = PersonTown.objects.values("person_id")
    return Person.objects.filter(
        Q(pk__in=moved.filter(town_id__in=town_ids).values("person_id"))
        | (Q(town_id__in=town_ids) & ~Q(pk__in=with_spans))
    ).select_related("town").order_by("town_id", "id_number")


def handover_workbook(*, towns, on: date, user, reason: str, year: int | None = None) -> Handover:
    """The hand-over file for ``towns`` leaving on ``on`` (cap use of ``year``, by default ``on``'s year)."""
    from beneficiaries.models import Identity
    from claims.models import Adjustment, Bill, CapKey, CapUsage
    from funding.models import Receivable
    from yfbz.core.pii import record_access

    year = year or on.year
    people = list(people_leaving(towns, on))
    ids = [p.pk for p in people]
    rows = {key: [] for key in SHEETS}

    def money(sheet, row_values, money_cols):  # amounts are Decimal: the safe writer formats them #,##0.00
        sheet.append(row_values)

    by_person = {p.pk: p for p in people}
    for i in Identity.objects.filter(person_id__in=ids).select_related("category").order_by("person_id", "valid_from"):
        p = by_person[i.person_id]
        rows["people"].append([p.id_number, p.name, p.town.name if p.town_id else "", i.category.name,
                             i.valid_from.isoformat(), i.valid_to.isoformat() if i.valid_to else "至今"])
    # people with no identity still appear once
    listed = {row[0] for row in rows["people"]}
    for p in people:
        if p.id_number not in listed:
            rows["people"].append([p.id_number, p.name, p.town.name if p.town_id else "", "", "", ""])
    labels = dict(CapKey.choices)
    for u in CapUsage.objects.filter(person_id__in=ids, year=year).order_by("person_id", "scheme"):
        p = by_person[u.person_id]
        money(rows["caps"], [p.id_number, p.name, year, labels.get(u.scheme, u.scheme), u.used], (5,))
    refs = defaultdict(list)
    for adj in Adjustment.objects.filter(person_id__in=ids).exclude(receivable_ref=""):
        refs[adj.receivable_ref].append(adj.person_id)
    for r in Receivable.objects.filter(source_key__in=list(refs)).exclude(status=Receivable.Status.SETTLED):
        p = by_person[refs[r.source_key][0]]
        money(rows["receivables"], [p.id_number, p.name, r.source_key, r.get_fund_display(), r.amount, r.recovered,
                                  r.outstanding, r.reason], (5, 6, 7))
    for b in Bill.objects.filter(person_id__in=ids, status__in=OPEN_BILL_STATUSES).order_by("person_id", "settled_on"):
        p = by_person[b.person_id]
        money(rows["bills"], [p.id_number, p.name, b.pk, b.settled_on.isoformat(), b.get_kind_display(),
                            b.in_policy_cost, b.get_status_display()], (6,))
    from yfbz.core.spreadsheets import SafeWorkbook

    wb = SafeWorkbook()
    for key, (title, header) in SHEETS.items():
        sheet = wb.create_sheet(title)
        sheet.append(list(header))
        for r in rows[key]:
            sheet.append(r)
    names = "、".join(t.name for t in towns)
    file_name = f"移交清单-{names}-{on:%Y%m%d}-含完整号码.xlsx"
    from beneficiaries.models import Person

    record_access(user=user, what=f"移交清单（{names}，{on:%Y-%m-%d}划出，{len(people)}人）", model=Person, reason=reason)
    return Handover(wb.to_bytes(), len(people), file_name)


def read_handover(data: bytes) -> dict[str, list[dict]]:
    """A hand-over file read back: subject → rows (header → value), amounts as Decimal."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out: dict[str, list[dict]] = {}
    for key, (title, header) in SHEETS.items():
        rows = list(wb[title].iter_rows(values_only=True))
        if not rows or tuple(rows[0]) != header:
            raise ValueError(f"工作表“{title}”的表头不是移交清单的表头")
        out[key] = [
            {h: (Decimal(str(v)).quantize(Decimal("0.01")) if isinstance(v, float | int | Decimal) and h in MONEY_COLUMNS
                 else v) for h, v in zip(header, r, strict=False)}
            for r in rows[1:]
        ]
    return out


MONEY_COLUMNS = {"已使用金额", "应收金额", "已追回", "未追回", "政策范围内费用"}
