"""Statutory returns (统计报表, docs/statistics.md "Returns"): 医疗救助统计表, 资助参保统计表 and
医疗救助资金来源与使用情况表, monthly or quarterly.

- ``return_prepare``: the figures of the period (from the statistics' aggregates, brought up to date
  first, or from the ledger), frozen into the return with the tie-out's result; a period that
  already has an approved return gets a new version listing what changed.
- ``return_approve``: by someone other than the preparer, only when the tie-out run again passes
  (the figures equal the records recounted independently, and the payments equal the ledger);
  the approved return is locked and replaces the version before it.
- ``return_cancel``: a draft withdrawn, with a reason.

Every move goes through ``yfbz.core.workflow.transition``; figures are never edited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from yfbz.core.errors import YfbzError
from yfbz.core.roles import Role
from yfbz.core.workflow import record_start, transition

from .cuts import Period
from .models import StatReturn

ZERO = Decimal("0.00")
R = StatReturn.Status


class ReturnError(YfbzError):
    """A refused action on a return (Chinese message)."""


def _m(v) -> str:
    return f"{(v or ZERO):.2f}"


def _w(v) -> str:
    """An amount in a sentence: with separators, as the display layer writes it."""
    from yfbz.core.display import money

    return money(v or ZERO)


def _bounds(period: Period) -> tuple[date, date]:
    import calendar

    first, last = period.months[0], period.months[-1]
    return date(period.year, first, 1), date(period.year, last, calendar.monthrange(period.year, last)[1])


# --- the figures of each kind ----------------------------------------------------------------------
def _assistance_figures(period: Period) -> dict:
    from claims.models import Scheme

    from .selectors import Keys, cross, table

    keys = Keys()
    cells, _rows, _cols = cross(period, "category", "scheme", keys=keys)
    by_cat = table(period, "category", keys=keys)
    schemes = list(Scheme.values)
    columns = ["救助人数"] + [f"{Scheme(s).label}|{w}" for s in schemes for w in ("人次", "金额")] + [
        "合计|人次", "合计|金额", "优抚对象医疗补助|人次", "优抚对象医疗补助|金额"]

    def line(label, raw_cat, cell):
        vals = [cell.people]
        for s in schemes:
            c = cells.get((raw_cat, s)) if raw_cat is not None else None
            vals += [c.person_times if c else 0, _m(c.amount if c else ZERO)]
        vals += [cell.person_times, _m(cell.amount), cell.youfu_times, _m(cell.youfu_amount)]
        return {"label": label, "values": vals}

    rows = []
    cat_codes = {c: raw for raw, c in ((r.key or "", r.key) for r in by_cat.rows)}
    for r in by_cat.rows:
        if not (r.person_times or r.youfu_times):
            continue
        rows.append(line(r.label, cat_codes.get(r.key, r.key or ""), r))
    total = line("合计", None, by_cat.total)
    # the scheme totals of the last line come from the scheme cut
    by_scheme = {r.key: r for r in table(period, "scheme", keys=keys).rows}
    for i, s in enumerate(schemes):
        c = by_scheme.get(s)
        total["values"][1 + 2 * i] = c.person_times if c else 0
        total["values"][2 + 2 * i] = _m(c.amount if c else ZERO)
    rows.append(total)
    route = {r.key: r for r in table(period, "route", keys=keys).rows}
    notes = [
        f"其中一站式结算{route['ONE_STOP'].person_times if 'ONE_STOP' in route else 0}人次、"
        f"{_w(route['ONE_STOP'].amount if 'ONE_STOP' in route else ZERO)}元；手工报销"
        f"{route['HAND'].person_times if 'HAND' in route else 0}人次、{_w(route['HAND'].amount if 'HAND' in route else ZERO)}元。",
        f"次均救助{_w(by_cat.total.amount_per_time)}元；政策范围内个人自付比例救助前{_pct(by_cat.total.self_pay_ratio_before)}、"
        f"救助后{_pct(by_cat.total.self_pay_ratio_after)}。",
        "按结算日期统计；救助人数按人去重；含采用本系统前原系统已核定的救助。",
    ]
    return {"columns": columns, "rows": rows, "unit_of_measure": "人、人次、元", "notes": notes,
            "check": {"people": by_cat.total.people, "person_times": by_cat.total.person_times,
                      "amount": _m(by_cat.total.amount), "youfu_amount": _m(by_cat.total.youfu_amount),
                      "by_scheme": {s: [by_scheme[s].person_times, _m(by_scheme[s].amount)] for s in by_scheme if s}}}


def _pct(r) -> str:
    from yfbz.core.display import pct

    return pct(r)


def _subsidy_figures(period: Period) -> dict:
    from funding.models import EnrolmentKind

    from .models import SubsidyAggregate
    from .selectors import Keys, yuan

    keys = Keys()
    kinds = [EnrolmentKind.RESIDENT_T1, EnrolmentKind.RESIDENT_T2, EnrolmentKind.EMPLOYEE_INDIVIDUAL]
    columns = [f"{k.label}|{w}" for k in kinds for w in ("人数", "金额")] + ["合计|人数", "合计|金额"]
    aggs = SubsidyAggregate.objects.filter(year=period.year)
    pair = {(a.key1, a.key2): a for a in aggs if a.grouping == "category+enrolment"}
    cats = sorted({a.key1 for a in aggs if a.grouping == "category"}, key=lambda k: keys.order("category", k))
    one = {a.key1: a for a in aggs if a.grouping == "category"}
    enrol = {a.key1: a for a in aggs if a.grouping == "enrolment"}
    total = next((a for a in aggs if a.grouping == ""), None)
    rows = []
    for c in cats:
        vals = []
        for k in kinds:
            a = pair.get((c, k))
            vals += [a.people if a else 0, _m(yuan(a.amount) if a else ZERO)]
        vals += [one[c].people, _m(yuan(one[c].amount))]
        rows.append({"label": keys.label("category", c), "values": vals})
    vals = []
    for k in kinds:
        a = enrol.get(k)
        vals += [a.people if a else 0, _m(yuan(a.amount) if a else ZERO)]
    vals += [total.people if total else 0, _m(yuan(total.amount) if total else ZERO)]
    rows.append({"label": "合计", "values": vals})
    return {"columns": columns, "rows": rows, "unit_of_measure": "人、元",
            "notes": [f"资助参保按年度核定，本表为{period.year}年度截至报出日的资助结果（资助金额大于0的人员）。"],
            "check": {"people": total.people if total else 0, "amount": _m(yuan(total.amount) if total else ZERO),
                      "by_category": {c: [one[c].people, _m(yuan(one[c].amount))] for c in cats}}}


INCOME = ["INCOME_CENTRAL", "INCOME_CITY", "INCOME_DISTRICT", "INTEREST", "AUDIT_REFUND", "DONATION", "RECOVERY"]
SPENDING = ["PAY_SUBSIDY", "PAY_PERSON", "PAY_INSTITUTION", "PAY_YOUFU"]


def _ledger_by_kind(start: date, end: date) -> dict[tuple[int, str], Decimal]:
    """Per own account and entry kind (a reversal counted under the kind it reverses), the sum of lines."""
    from funding.models import Account, JournalLine

    out: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    rows = (
        JournalLine.objects.filter(account__kind=Account.Kind.OWN, entry__date__gte=start, entry__date__lte=end)
        .values("account_id", "entry__kind", "entry__reverses__kind").annotate(s=Sum("amount")).order_by()
    )
    for r in rows:
        kind = r["entry__reverses__kind"] if r["entry__kind"] == "REVERSAL" and r["entry__reverses__kind"] else r["entry__kind"]
        out[(r["account_id"], kind)] += r["s"] or ZERO
    return out


def _funds_figures(period: Period) -> dict:
    from funding.models import EntryKind, JournalLine
    from funding.selectors import own_accounts

    start, end = _bounds(period)
    kinds = dict(EntryKind.choices)
    columns = ["期初余额"] + [f"本期收入|{kinds[k]}" for k in INCOME] + ["本期划拨|划入（划出为负）"] + [
        f"本期支出|{kinds[k]}" for k in SPENDING] + ["期末余额"]
    by_kind = _ledger_by_kind(start, end)
    rows = []
    totals = [ZERO] * len(columns)
    balances = {}
    for acc in own_accounts():
        opening = JournalLine.objects.filter(account=acc, entry__date__lt=start).aggregate(s=Sum("amount"))["s"] or ZERO
        vals = [opening] + [by_kind[(acc.pk, k)] for k in INCOME] + [by_kind[(acc.pk, "TRANSFER")]] + [
            -by_kind[(acc.pk, k)] for k in SPENDING]
        closing = opening + sum(vals[1:len(INCOME) + 2], ZERO) - sum(vals[len(INCOME) + 2:], ZERO)
        vals.append(closing)
        balances[acc.code] = _m(closing)
        totals = [a + b for a, b in zip(totals, vals, strict=True)]
        rows.append({"label": acc.name, "values": [_m(v) for v in vals]})
    rows.append({"label": "合计", "values": [_m(v) for v in totals]})
    return {"columns": columns, "rows": rows, "unit_of_measure": "元",
            "notes": ["按记账日期统计；冲销凭证计入其所冲销的类别；划拨为财政专户与支出户之间的内部划转，合计中相互抵消。"],
            "check": {"closing": balances, "spending": {k: _m(-sum(by_kind[(a.pk, k)] for a in own_accounts())) for k in SPENDING}}}


FIGURES = {"ASSISTANCE": _assistance_figures, "SUBSIDY": _subsidy_figures, "FUNDS": _funds_figures}


def figures_for(kind: str, period: Period) -> dict:
    if kind != "FUNDS":
        from .build import refresh

        while refresh()["changes"]:
            pass
    return FIGURES[kind](period)


# --- the tie-out ------------------------------------------------------------------------------------
@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def _recount_assistance(period: Period) -> dict:
    """The period's assistance counted straight from the claims records, not from the statistics'
    facts: the approved decisions (latest approved per bill) and the lines of confirmed one-stop months."""
    from django.db.models import Max

    from claims.models import Decision, SettlementLine, SettlementMonth

    start, end = _bounds(period)
    latest = Decision.objects.filter(reviewed_at__isnull=False).values("bill_id").annotate(m=Max("id")).values("m")
    decisions = Decision.objects.filter(pk__in=latest, refusal_reason="", settled_on__gte=start, settled_on__lte=end)
    lines = SettlementLine.objects.filter(
        settlement_month__status__in=[SettlementMonth.Status.CONFIRMED, SettlementMonth.Status.PAID], duplicate=False,
        person__isnull=False, settled_on__gte=start, settled_on__lte=end)
    by_scheme: dict[str, list] = defaultdict(lambda: [0, ZERO])
    for s, n, a in decisions.filter(assistance__gt=0).values_list("scheme").annotate(n=Count("id"), a=Sum("assistance")):
        by_scheme[s][0] += n
        by_scheme[s][1] += a
    for s, n, a in lines.filter(payable__gt=0).values_list("scheme").annotate(n=Count("id"), a=Sum("payable")):
        by_scheme[s][0] += n
        by_scheme[s][1] += a
    people = set(decisions.filter(assistance__gt=0).values_list("person_id", flat=True)) | set(
        lines.filter(payable__gt=0).values_list("person_id", flat=True))
    youfu = decisions.aggregate(s=Sum("youfu_subsidy"))["s"] or ZERO
    return {"people": len(people), "person_times": sum(v[0] for v in by_scheme.values()),
            "amount": _m(sum((v[1] for v in by_scheme.values()), ZERO)), "youfu_amount": _m(youfu),
            "by_scheme": {s: [v[0], _m(v[1])] for s, v in by_scheme.items() if s}}


def _ledger_out(start: date, end: date, kinds: list[str], account_code: str) -> Decimal:
    from funding.models import JournalLine

    s = JournalLine.objects.filter(account__code=account_code, entry__date__gte=start, entry__date__lte=end).filter(
        Q(entry__kind__in=kinds) | Q(entry__kind="REVERSAL", entry__reverses__kind__in=kinds)).aggregate(s=Sum("amount"))["s"]
    return -(s or ZERO)


def _paid_in_claims(start: date, end: date) -> tuple[Decimal, Decimal]:
    from claims.models import Decision, SettlementMonth

    a = Decision.objects.filter(assistance_paid_on__gte=start, assistance_paid_on__lte=end).aggregate(
        s=Sum("assistance_paid_amount"))["s"] or ZERO
    a += SettlementMonth.objects.filter(paid_on__gte=start, paid_on__lte=end).aggregate(s=Sum("agreed_total"))["s"] or ZERO
    y = Decision.objects.filter(youfu_paid_on__gte=start, youfu_paid_on__lte=end).aggregate(
        s=Sum("youfu_paid_amount"))["s"] or ZERO
    return a, y


def _diff(name: str, ours: dict, theirs: dict) -> Check:
    wrong = [f"{k}：报表{ours.get(k)}，复核{theirs.get(k)}" for k in sorted(set(ours) | set(theirs)) if ours.get(k) != theirs.get(k)]
    return Check(name, not wrong, "；".join(wrong) if wrong else "一致")


def tie_out(kind: str, period: Period, figures: dict) -> list[Check]:
    """Checks a return must pass before approval; each says what it compared."""
    start, end = _bounds(period)
    check = figures.get("check", {})
    out: list[Check] = []
    if kind == "ASSISTANCE":
        recount = _recount_assistance(period)
        flat_ours = {k: v for k, v in check.items() if k != "by_scheme"}
        flat_ours |= {f"{s}": tuple(v) for s, v in check.get("by_scheme", {}).items()}
        flat_theirs = {k: v for k, v in recount.items() if k != "by_scheme"}
        flat_theirs |= {f"{s}": tuple(v) for s, v in recount["by_scheme"].items()}
        out.append(_diff("统计数与核定记录一致（按核定和一站式结算明细重新计数）", flat_ours, flat_theirs))
        paid_a, paid_y = _paid_in_claims(start, end)
        led_a = _ledger_out(start, end, ["PAY_PERSON", "PAY_INSTITUTION"], "EXPENDITURE")
        led_y = _ledger_out(start, end, ["PAY_YOUFU"], "YOUFU")
        out.append(Check("本期已支付救助与账簿一致（核定记录的支付 = 支出户个人救助和机构结算支出）", paid_a == led_a,
                         f"核定记录{_w(paid_a)}元，账簿{_w(led_a)}元"))
        out.append(Check("本期已支付优抚补助与账簿一致", paid_y == led_y, f"核定记录{_w(paid_y)}元，账簿{_w(led_y)}元"))
    elif kind == "SUBSIDY":
        from funding.models import Payment, SubsidyResult

        rows = SubsidyResult.objects.filter(year=period.year, amount__gt=0)
        by_cat = {c: [n, _m(a)] for c, n, a in rows.values_list("category").annotate(n=Count("person_id", distinct=True), a=Sum("amount"))}
        tot = rows.aggregate(n=Count("person_id", distinct=True), a=Sum("amount"))
        out.append(_diff("统计数与资助参保计算结果一致", {"people": check.get("people"), "amount": check.get("amount")}
                         | {c: tuple(v) for c, v in check.get("by_category", {}).items()},
                         {"people": tot["n"] or 0, "amount": _m(tot["a"])} | {c: tuple(v) for c, v in by_cat.items()}))
        paid = Payment.objects.filter(status=Payment.Status.PAID, line__spending="SUBSIDY", batch__paid_on__gte=start,
                                      batch__paid_on__lte=end).aggregate(s=Sum("amount"))["s"] or ZERO
        led = _ledger_out(start, end, ["PAY_SUBSIDY"], "EXPENDITURE")
        out.append(Check("本期资助参保支付与账簿一致（支付明细 = 资助参保支出）", paid == led, f"支付明细{_w(paid)}元，账簿{_w(led)}元"))
    else:
        from funding.models import Account, JournalLine, Payment

        for code, closing in check.get("closing", {}).items():
            bal = JournalLine.objects.filter(account__code=code, entry__date__lte=end).aggregate(s=Sum("amount"))["s"] or ZERO
            acc = Account.objects.get(code=code)
            out.append(Check(f"{acc.name}：期初+收入+划拨−支出=期末=账户余额", _m(bal) == closing and bal >= 0,
                             f"表内期末{_w(Decimal(closing))}元，账户余额{_w(bal)}元" + ("（余额为负）" if bal < 0 else "")))
        spending = {"PAY_PERSON": ("ASSISTANCE", "BENEFIT_PERSON"), "PAY_INSTITUTION": ("ASSISTANCE", "INSTITUTION"),
                    "PAY_SUBSIDY": ("ASSISTANCE", "SUBSIDY")}
        from funding.models import EntryKind

        kinds = dict(EntryKind.choices)
        for k, (fund, sp) in spending.items():
            paid = Payment.objects.filter(status=Payment.Status.PAID, line__fund=fund, line__spending=sp,
                                          batch__paid_on__gte=start, batch__paid_on__lte=end).aggregate(s=Sum("amount"))["s"] or ZERO
            ours = check.get("spending", {}).get(k)
            out.append(Check(f"支出与支付明细一致：{kinds[k]}", _m(paid) == ours,
                             f"支付明细{_w(paid)}元，表内{_w(Decimal(ours or 0))}元"))
        paid_y = Payment.objects.filter(status=Payment.Status.PAID, line__fund="YOUFU", batch__paid_on__gte=start,
                                        batch__paid_on__lte=end).aggregate(s=Sum("amount"))["s"] or ZERO
        ours_y = check.get("spending", {}).get("PAY_YOUFU")
        out.append(Check(f"支出与支付明细一致：{kinds['PAY_YOUFU']}", _m(paid_y) == ours_y,
                         f"支付明细{_w(paid_y)}元，表内{_w(Decimal(ours_y or 0))}元"))
    return out


# --- versions ---------------------------------------------------------------------------------------
def changes_between(old: dict, new: dict) -> list[dict]:
    """Every cell that differs between two versions' figures: row, column, before, after."""
    out = []
    old_rows = {r["label"]: r["values"] for r in old.get("rows", [])}
    new_rows = {r["label"]: r["values"] for r in new.get("rows", [])}
    cols = new.get("columns", [])
    for label in list(new_rows) + [lb for lb in old_rows if lb not in new_rows]:
        a, b = old_rows.get(label), new_rows.get(label)
        for i, col in enumerate(cols):
            va = a[i] if a else None
            vb = b[i] if b else None
            if va != vb:
                out.append({"row": label, "column": col.replace("|", ""), "before": va, "after": vb})
    return out


# --- services -----------------------------------------------------------------------------------------
PREPARERS = (Role.DISTRICT_CLERK, Role.FINANCE)
APPROVERS = (Role.DISTRICT_REVIEWER, Role.FINANCE)


def return_prepare(*, kind: str, period: Period, user, correction_note: str = "") -> StatReturn:
    if kind not in FIGURES:
        raise ReturnError(f"未知的报表：{kind}")
    if period.code == "Y":
        raise ReturnError("统计报表按月或按季度编制。")
    if not (user.is_superuser or user.has_role(*PREPARERS)):
        raise ReturnError("只有区医保经办或财务人员可以编制统计报表。")
    if period.year > timezone.localdate().year or (period.year, period.months[0]) > (
        timezone.localdate().year, timezone.localdate().month
    ):
        raise ReturnError(f"{period.zh}尚未开始，不能编制报表。")
    figures = figures_for(kind, period)
    checks = tie_out(kind, period, figures)
    with transaction.atomic():
        qs = StatReturn.objects.select_for_update().filter(kind=kind, year=period.year, period=period.code)
        existing = list(qs)
        if any(r.status == R.PREPARED for r in existing):
            raise ReturnError("该期间已有待审核的报表，请先审核或作废。")
        approved = next((r for r in existing if r.status == R.APPROVED), None)
        changes = []
        if approved is not None:
            changes = changes_between(approved.figures, figures)
            if not changes:
                raise ReturnError(f"数字与已审核的第{approved.version}版相同，无需更正。")
            if not correction_note.strip():
                raise ReturnError("更正已审核的报表须写明更正说明。")
        try:
            ret = StatReturn.objects.create(
                kind=kind, year=period.year, period=period.code, version=max([r.version for r in existing], default=0) + 1,
                status=R.PREPARED, figures=figures, tie_out=[c.as_json() for c in checks],
                tie_out_ok=all(c.ok for c in checks), tie_out_at=timezone.now(), changes=changes,
                correction_note=correction_note.strip(), previous=approved, unit=settings.YFBZ_BUREAU_NAME,
                prepared_by=user,
            )
        except IntegrityError:
            raise ReturnError("该期间已有待审核的报表（可能刚由他人编制），请刷新。") from None
        record_start(ret, by=user, reason="编制" if approved is None else f"更正第{approved.version}版：{correction_note.strip()}")
    return ret


def return_approve(*, return_id: int, user, responsible: str) -> StatReturn:
    failed = ""
    with transaction.atomic():
        ret = StatReturn.objects.select_for_update().get(pk=return_id)
        if user.pk == ret.prepared_by_id:
            raise ReturnError("填表人不能审核自己编制的报表（须由另一人审核）。")
        if not (user.is_superuser or user.has_role(*APPROVERS)):
            raise ReturnError("只有区医保审核或财务人员可以审核统计报表。")
        if not responsible.strip():
            raise ReturnError("请填写单位负责人。")
        period = Period.from_code(ret.year, ret.period)
        checks = tie_out(ret.kind, period, ret.figures)
        ret.tie_out = [c.as_json() for c in checks]
        ret.tie_out_ok = all(c.ok for c in checks)
        ret.tie_out_at = timezone.now()
        if not ret.tie_out_ok:
            # the failed check is kept on the draft (shown on its page), then the approval is refused
            ret.save(update_fields=["tie_out", "tie_out_ok", "tie_out_at"])
            failed = "；".join(f"{c.name}：{c.detail}" for c in checks if not c.ok)
        else:
            if ret.previous_id:
                prev = StatReturn.objects.select_for_update().get(pk=ret.previous_id)
                transition(prev, R.SUPERSEDED, by=user, reason=f"由第{ret.version}版更正")
            ret.approved_by, ret.approved_at, ret.responsible = user, timezone.now(), responsible.strip()[:50]
            transition(ret, R.APPROVED, by=user, reason="审核通过",
                       update_fields=["approved_by", "approved_at", "responsible", "tie_out", "tie_out_ok", "tie_out_at"])
    if failed:
        raise ReturnError(f"勾稽核对未通过，不能审核：{failed}。如数字已变化，请作废本稿后重新编制。")
    return ret


def return_cancel(*, return_id: int, user, reason: str) -> StatReturn:
    with transaction.atomic():
        ret = StatReturn.objects.select_for_update().get(pk=return_id)
        if not (user.is_superuser or user.has_role(*PREPARERS, *APPROVERS)):
            raise ReturnError("无权作废统计报表。")
        transition(ret, R.CANCELLED, by=user, reason=reason.strip())
    return ret
