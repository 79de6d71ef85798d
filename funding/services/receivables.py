"""Recoveries: money paid wrongly becomes a receivable; what is recovered is booked back (2号 五(四))."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from yfbz.core.workflow import record_start, transition
from yfbz.rules.money import money

from ..models import EntryKind, Fund, Receivable
from .errors import FundingError
from .ledger import entry_post

FUND_ACCOUNT = {Fund.ASSISTANCE: "EXPENDITURE", Fund.YOUFU: "YOUFU"}


def receivable_open(*, source_key: str, debtor_name: str, fund: str, amount: Decimal, reason: str, user) -> Receivable:
    """Record an overpayment to be recovered. Safe to call twice with the same source_key (the claims
    engine calls it on a re-decision): the same receivable comes back; a different amount is refused."""
    if fund not in Fund.values:
        raise FundingError(f"资金类型「{fund}」无效，应为 ASSISTANCE 或 YOUFU")
    try:
        amt = money(amount)
    except (TypeError, ValueError):
        raise FundingError(f"应收金额「{amount}」不是有效金额") from None
    if amt <= 0:
        raise FundingError("应收金额应大于零")
    if not source_key or not debtor_name:
        raise FundingError("应收款须有来源编号和欠款方")
    with transaction.atomic():
        existing = Receivable.objects.select_for_update().filter(source_key=source_key).first()
        if existing:
            if existing.amount != amt or existing.fund != fund:
                raise FundingError(
                    f"来源 {source_key} 已登记应收款 {existing.amount} 元（{existing.get_fund_display()}），与本次 {amt} 元不符"
                )
            return existing
        from .requests import _district_served

        rec = Receivable.objects.create(
            source_key=source_key, debtor_name=debtor_name, fund=fund, amount=amt, reason=reason, opened_by=user,
            district_id=_district_served(user, timezone.localdate()),
        )
        record_start(rec, by=user, reason=reason)
        return rec


def receivable_recover(*, receivable_id: int, amount: Decimal, on: date, source_document: str, entered_by,
                       approved_by) -> Receivable:
    """Book money recovered back into the fund it was paid from (支出户 or 优抚资金)."""
    amt = money(amount)
    if amt <= 0:
        raise FundingError("追回金额应大于零")
    with transaction.atomic():
        rec = Receivable.objects.select_for_update().get(pk=receivable_id)
        if amt > rec.outstanding:
            raise FundingError(f"追回金额 {amt} 元超过尚未追回的 {rec.outstanding} 元")
        account = FUND_ACCOUNT[Fund(rec.fund)]
        entry = entry_post(on=on, kind=EntryKind.RECOVERY, lines=[(account, amt), ("DEBTOR", -amt)], counterpart="DEBTOR",
                   source_document=source_document, description=f"追回 {rec.debtor_name}：{rec.reason}"[:200],
                   entered_by=entered_by, approved_by=approved_by, receivable=rec)
        rec.recovered += amt
        to = Receivable.Status.SETTLED if rec.recovered == rec.amount else Receivable.Status.PARTLY
        transition(rec, to, by=approved_by, reason=f"凭证 {entry.number} 追回 {amt} 元（{source_document}）",
                   update_fields=["recovered"])
    return rec
