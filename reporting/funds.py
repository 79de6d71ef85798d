"""Budgets and the fund risk warning (docs/statistics.md "Budget and fund risk warning").

For each fund and year: the budget (FundBudget rows entered by finance), what has been decided
(承诺: approved assistance of the year's settlements, from the statistics' aggregates; for the
assistance fund also the year's contribution subsidies), what has been paid (the ledger), the
monthly burn, and a projection to the year's end from the months so far and last year's
seasonality (the share of last year's decided amount reached by the same month; without last
year, an even twelfth a month). A warning is raised when the projection runs out of the budget
before the month the threshold names, or when what was decided so far departs from the
seasonal plan by more than the threshold share (WarningRule rows, dated data).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum

from yfbz.core.memo import remembered

from .models import Aggregate, FundBudget, SubsidyAggregate, WarningRule
from .selectors import yuan

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
FUND_LABELS = {"ASSISTANCE": "医疗救助资金", "YOUFU": "优抚对象医疗补助资金"}
PAY_KINDS = {"ASSISTANCE": (["PAY_PERSON", "PAY_INSTITUTION", "PAY_SUBSIDY"], "EXPENDITURE"), "YOUFU": (["PAY_YOUFU"], "YOUFU")}


def rule(key: str, on: date) -> Decimal | None:
    """The warning threshold in force on ``on`` (dated data, shipped by a migration; read once per
    request), or None when none is in force: the position then says so instead of assuming a figure."""
    rows = remembered("warning-rules", lambda: list(WarningRule.objects.order_by("-effective_from")))
    row = next((r for r in rows if r.key == key and r.effective_from <= on), None)
    return None if row is None else row.value


@dataclass
class FundPosition:
    fund: str
    year: int
    months_done: int  # months of the year counted (1..12)
    budget: Decimal | None
    monthly: list[Decimal]  # decided per month (settlement month)
    fixed: Decimal  # decided for the year at once (contribution subsidies)
    spent: Decimal  # paid to date (ledger)
    shares: list[Decimal]  # cumulative seasonal share by the end of each month
    seasonality: str
    deviation_limit: Decimal | None  # None: no threshold in force (said among the warnings)
    run_out_limit: int | None
    warnings: list[str] = field(default_factory=list)

    @property
    def fund_label(self) -> str:
        return FUND_LABELS[self.fund]

    @property
    def committed(self) -> Decimal:
        return sum(self.monthly[: self.months_done], ZERO) + self.fixed

    @property
    def burn(self) -> Decimal:
        """Average decided per month so far."""
        return (sum(self.monthly[: self.months_done], ZERO) / self.months_done).quantize(CENT) if self.months_done else ZERO

    @property
    def projected(self) -> Decimal:
        share = self.shares[self.months_done - 1] if self.months_done else Decimal(0)
        so_far = sum(self.monthly[: self.months_done], ZERO)
        if share <= 0:
            return self.committed
        return (so_far / share).quantize(CENT, rounding=ROUND_HALF_UP) + self.fixed

    @property
    def projected_by_month(self) -> list[Decimal]:
        """Cumulative decided amount by the end of each month: actual up to now, projected after."""
        out, run = [], self.fixed
        total_var = self.projected - self.fixed
        for m in range(12):
            if m < self.months_done:
                run += self.monthly[m]
                out.append(run)
            else:
                out.append((self.fixed + total_var * self.shares[m]).quantize(CENT))
        return out

    @property
    def run_out_month(self) -> int | None:
        if self.budget is None:
            return None
        for m, cum in enumerate(self.projected_by_month, start=1):
            if cum > self.budget:
                return m
        return None

    @property
    def plan_to_date(self) -> Decimal | None:
        if self.budget is None or not self.months_done:
            return None
        return ((self.budget - self.fixed) * self.shares[self.months_done - 1]).quantize(CENT) + self.fixed

    @property
    def deviation(self) -> Decimal | None:
        plan = self.plan_to_date
        if not plan:
            return None
        return ((self.committed - plan) / plan).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def warning_text(self) -> str:
        return "；".join(self.warnings)


def _monthly_decided(year: int, fund: str) -> list[Decimal]:
    """Decided per settlement month of ``year`` for one fund (both funds' months are read in one query
    per request)."""
    rows = remembered(f"monthly-decided-{year}", lambda: {
        period: (amount, youfu) for period, amount, youfu in Aggregate.objects.filter(
            year=year, grouping="", period__startswith="M").values_list("period", "amount", "youfu_amount")})
    column = 1 if fund == "YOUFU" else 0
    return [yuan(rows[f"M{m:02d}"][column] if f"M{m:02d}" in rows else 0) for m in range(1, 13)]


def _shares(last_year: list[Decimal]) -> tuple[list[Decimal], str]:
    total = sum(last_year, ZERO)
    if total <= 0:
        return [Decimal(m) / 12 for m in range(1, 13)], "上年无数据，按各月平均测算"
    run, out = ZERO, []
    for v in last_year:
        run += v
        out.append(run / total)
    return out, "按上年各月支出进度（季节性）测算"


def _spent(year: int, fund: str, until: date) -> Decimal:
    """Paid from the fund in ``year`` up to ``until`` (the ledger; both funds summed in one query)."""
    from funding.models import JournalLine

    def both():
        sums = {}
        for name, (kinds, account) in PAY_KINDS.items():
            sums[name] = Sum("amount", filter=Q(account__code=account) & (
                Q(entry__kind__in=kinds) | Q(entry__kind="REVERSAL", entry__reverses__kind__in=kinds)))
        return JournalLine.objects.filter(entry__date__gte=date(year, 1, 1), entry__date__lte=until).aggregate(**sums)

    s = remembered(f"fund-spent-{year}-{until}", both)[fund]
    return -(s or ZERO)


def position(fund: str, year: int, today: date, budgets=None) -> FundPosition:
    months_done = 12 if year < today.year else (today.month if year == today.year else 0)
    budgets = FundBudget.objects.filter(year=year) if budgets is None else budgets
    lines = [b for b in budgets if b.fund == fund]
    budget = sum((b.amount for b in lines), ZERO) if lines else None
    fixed = ZERO
    if fund == "ASSISTANCE":
        t = SubsidyAggregate.objects.filter(year=year, grouping="").first()
        fixed = yuan(t.amount) if t else ZERO
    shares, how = _shares(_monthly_decided(year - 1, fund))
    until = min(today, date(year, 12, 31))
    pos = FundPosition(
        fund=fund, year=year, months_done=months_done, budget=budget, monthly=_monthly_decided(year, fund), fixed=fixed,
        spent=_spent(year, fund, until), shares=shares, seasonality=how,
        deviation_limit=rule(WarningRule.Key.DEVIATION, until), run_out_limit=None,
    )
    run_out = rule(WarningRule.Key.RUN_OUT_MONTH, until)
    pos.run_out_limit = int(run_out) if run_out is not None else None
    if pos.deviation_limit is None or pos.run_out_limit is None:
        pos.warnings.append(f"{until:%Y-%m-%d}没有生效的资金风险预警阈值（预算进度偏离、资金用尽月份），请在“资金风险预警阈值”中录入")
    if budget is None:
        pos.warnings.append("尚未录入年度预算")
    elif months_done:
        out = pos.run_out_month
        if out is not None and pos.run_out_limit is not None and out < pos.run_out_limit:
            pos.warnings.append(f"按当前进度预计{out}月资金用尽（年度预算{budget:,.2f}元，全年预计{pos.projected:,.2f}元）")
        elif pos.projected > budget:
            pos.warnings.append(f"预计全年支出{pos.projected:,.2f}元，超出预算{pos.projected - budget:,.2f}元")
        dev = pos.deviation
        if dev is not None and pos.deviation_limit is not None and abs(dev) > pos.deviation_limit:
            direction = "快于" if dev > 0 else "慢于"
            pos.warnings.append(
                f"支出进度{direction}预算序时进度{abs(dev) * 100:.1f}%（预警线{pos.deviation_limit * 100:.0f}%）"
            )
    return pos


def positions(year: int, today: date) -> list[FundPosition]:
    budgets = list(FundBudget.objects.filter(year=year))  # read once for both funds
    return [position(f, year, today, budgets) for f in ("ASSISTANCE", "YOUFU")]


def budget_save(*, year: int, amounts: dict[str, Decimal | None], note: str, user) -> None:
    """Set the year's budget lines (finance). The veterans' fund's line is kept in funding.YoufuBudget
    too (the monthly fund report reads it)."""
    from django.db import transaction

    from funding.models import YoufuBudget
    from yfbz.core.roles import Role

    from .returns import ReturnError

    if not (user.is_superuser or user.has_role(Role.FINANCE)):
        raise ReturnError("只有财务人员可以录入预算。")
    with transaction.atomic():
        for line, amount in amounts.items():
            if amount is None:
                continue
            if amount < 0:
                raise ReturnError("预算金额不能为负数。")
            FundBudget.objects.update_or_create(year=year, line=line, defaults={"amount": amount, "note": note[:200],
                                                                                 "updated_by": user})
            if line == FundBudget.Line.YOUFU:
                YoufuBudget.objects.update_or_create(year=year, defaults={"amount": amount})


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])
