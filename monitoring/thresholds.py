"""The thresholds H (负担仍重) and S (疑似因病致贫返贫) in force on a date (POLICY.md D13): dated policy
rows (``BurdenThreshold``), a fixed amount or a share of last year's per-capita disposable income
(``DisposableIncome``, by year). Shipped PROVISIONAL (migration 0002): H = 10,000.00, S = 20,000.00."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .models import BurdenThreshold, DisposableIncome, round_cent


def _in_force(rows, on: date):
    """The latest row effective on or before ``on`` (an inactive row ends the key from its date)."""
    best = None
    for r in rows:
        if r.effective_from <= on and (best is None or r.effective_from > best.effective_from):
            best = r
    return best if best is not None and best.active else None


class Thresholds:
    """Read once per import; ``of(kind, on)`` → (amount or None, the basis in Chinese)."""

    def __init__(self):
        self.rows: dict[str, list[BurdenThreshold]] = {}
        for r in BurdenThreshold.objects.all():
            self.rows.setdefault(r.alert, []).append(r)
        self.income: dict[int, list[DisposableIncome]] = {}
        for r in DisposableIncome.objects.all():
            self.income.setdefault(r.year, []).append(r)

    def income_of(self, year: int, on: date) -> DisposableIncome | None:
        return _in_force(self.income.get(year, []), on)

    def of(self, kind: str, on: date) -> tuple[Decimal | None, str]:
        row = _in_force(self.rows.get(kind, []), on)
        if row is None:
            return None, "无在用标准"
        status = "（暂行，待确认）" if row.is_provisional else ""
        if row.income_share is not None:
            income = self.income_of(on.year - 1, on)
            if income is not None:
                amount = round_cent(row.income_share * income.amount)
                return amount, (f"{on.year - 1}年居民人均可支配收入{income.amount:,.2f}元×{row.income_share * 100:g}%"
                                f"（{row.source}，{row.effective_from}起）{status}")
        return row.amount, f"{row.amount:,.2f}元（{row.source}，{row.effective_from}起）{status}"


def thresholds_in_force(on: date) -> list[dict]:
    """For the docs and pages: each alert's threshold on a date."""
    t = Thresholds()
    return [{"alert": k, "amount": t.of(k, on)[0], "basis": t.of(k, on)[1]} for k in ("FDZZ", "YBZP")]
