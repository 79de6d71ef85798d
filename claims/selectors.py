"""Queries of claims. Everything a user reaches starts from ``visible_to(user)``; ``payables`` is the
interface the funding app builds its monthly payments from (no user: it is the bureau's own total).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Prefetch, Sum
from django.utils import timezone

from yfbz.core import workflow

from .models import (
    Adjustment,
    Bill,
    CapUsage,
    Decision,
    SettlementLine,
    SettlementMonth,
)


# --- payables: the interface for funding ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Payable:
    source_key: str  # "decision:12:ASSISTANCE", "decision:12:YOUFU", "settlement:H001:2025-03"
    payee_kind: str  # "PERSON" | "INSTITUTION"
    payee_name: str
    bank_name: str
    bank_account: str
    fund: str  # "ASSISTANCE" | "YOUFU"
    spending: str  # "BENEFIT_PERSON" | "INSTITUTION"
    scheme: str  # OUTPATIENT / INPATIENT / MAJOR_DISEASE / LARGE_EXPENSE / YOUFU / ONE_STOP
    town_id: int | None
    amount: Decimal


def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    last = calendar.monthrange(year, month)[1]
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date(year, month, 1), time.min), tz)
    end = timezone.make_aware(datetime.combine(date(year, month, last), time.max), tz)
    return start, end


def payables(*, year: int, month: int) -> list[Payable]:
    """What the bureau owes for ``year``/``month`` and has not paid yet:

    - every current decision approved in that month (local time) whose bill is APPROVED, as one
      payable per fund (assistance and 优抚对象医疗补助 never share a payable, POLICY.md §12); after
      a re-decision only the top-up (what is due less what was paid) is payable;
    - every institution's one-stop settlement month ``year``/``month`` confirmed by a reviewer, for
      its agreed total.

    Stable order (source_key). Amounts are Decimal, never zero.
    """
    start, end = _month_bounds(year, month)
    out: list[Payable] = []
    decisions = (
        Decision.objects.filter(
            is_current=True, bill__status=Bill.Status.APPROVED, reviewed_at__gte=start, reviewed_at__lte=end
        )
        .select_related("bill", "person")
        .order_by("pk")
    )
    for d in decisions:
        b = d.bill
        for fund, amount, paid_on, scheme in (
            ("ASSISTANCE", d.assistance_payable, d.assistance_paid_on, d.scheme),
            ("YOUFU", d.youfu_payable, d.youfu_paid_on, "YOUFU"),
        ):
            if amount > 0 and paid_on is None:
                out.append(
                    Payable(
                        source_key=f"decision:{d.pk}:{fund}",
                        payee_kind="PERSON",
                        payee_name=b.account_holder or d.person.name,
                        bank_name=b.bank_name,
                        bank_account=b.bank_account,
                        fund=fund,
                        spending="BENEFIT_PERSON",
                        scheme=scheme,
                        town_id=d.person.town_id,
                        amount=amount,
                    )
                )
    months = SettlementMonth.objects.filter(
        status=SettlementMonth.Status.CONFIRMED, month=date(year, month, 1), agreed_total__gt=0
    ).select_related("institution")
    for sm in months:
        inst = sm.institution
        out.append(
            Payable(
                source_key=sm.source_key,
                payee_kind="INSTITUTION",
                payee_name=inst.name,
                bank_name=inst.bank_name,
                bank_account=inst.bank_account,
                fund="ASSISTANCE",
                spending="INSTITUTION",
                scheme="ONE_STOP",
                town_id=None,
                amount=sm.agreed_total,
            )
        )
    # institutions' top-ups: one-stop lines of a confirmed month settled higher after a retroactive
    # identity change (claims.settlement._line_difference), from the month they were settled on
    topups = Adjustment.objects.filter(
        settlement_line__isnull=False, kind=Adjustment.Kind.TOP_UP, paid_on__isnull=True, created_at__lte=end
    ).select_related("settlement_line__institution").order_by("pk")
    for adj in topups:
        inst = adj.settlement_line.institution
        out.append(
            Payable(
                source_key=adj.source_key,
                payee_kind="INSTITUTION",
                payee_name=inst.name,
                bank_name=inst.bank_name,
                bank_account=inst.bank_account,
                fund="ASSISTANCE",
                spending="INSTITUTION",
                scheme="ONE_STOP",
                town_id=None,
                amount=adj.amount,
            )
        )
    return sorted(out, key=lambda p: p.source_key)


# --- bills and decisions --------------------------------------------------------------------------
def bills_for(user):
    current = Decision.objects.filter(is_current=True)
    return (
        Bill.objects.visible_to(user)
        .select_related("person", "person__town", "institution")
        .prefetch_related(Prefetch("decisions", queryset=current, to_attr="current_decisions"))
    )


def bill_for(user, pk: int) -> Bill:
    return Bill.objects.select_related("person", "person__town", "institution", "entered_by").get_visible_or_404(user, pk=pk)


def decisions_for(user):
    return Decision.objects.visible_to(user).select_related("bill", "bill__institution", "person", "person__town")


def decision_for(user, pk: int) -> Decision:
    return (
        Decision.objects.select_related("bill", "bill__institution", "person", "person__town")
        .get_visible_or_404(user, pk=pk)
    )


def history_of(bill: Bill):
    return workflow.history_of(bill)


def decisions_of(bill: Bill):
    return Decision.objects.filter(bill=bill).select_related("decided_by", "reviewed_by").order_by("-id")


def caps_of(person, year: int) -> dict[str, Decimal]:
    return dict(CapUsage.objects.filter(person=person, year=year).values_list("scheme", "used"))


def decisions_affected_by(change) -> list[Decision]:
    """Current decisions a beneficiaries.RetroactiveChange reaches (claims.retro.decisions_in_period):
    made on identities since corrected, they may need deciding again."""
    from .retro import decisions_in_period

    return decisions_in_period([change])[change.pk]


def lines_affected_by(change) -> list[SettlementLine]:
    from .retro import lines_in_period

    return lines_in_period([change])[change.pk]


# --- settlements ----------------------------------------------------------------------------------
def settlement_lines_for(user):
    return SettlementLine.objects.visible_to(user).select_related("person", "person__town", "institution", "file")


def settlement_months_for(user):
    """Settlement months are the institutions' (no person): district-wide staff see them all; a town
    clerk sees only the months holding a line of their town."""
    qs = SettlementMonth.objects.select_related("institution")
    if user.is_superuser or user.sees_everything:
        return qs
    return qs.filter(pk__in=SettlementLine.objects.visible_to(user).values("settlement_month"))


def settlement_month_summary(sm: SettlementMonth) -> dict:
    lines = SettlementLine.objects.filter(settlement_month=sm)
    agg = lines.aggregate(advanced_sum=Sum("advanced"), payable_sum=Sum("payable"))
    adjustments = Adjustment.objects.filter(settlement_line__settlement_month=sm)
    return {
        "recovered": adjustments.filter(kind=Adjustment.Kind.RECOVERY).aggregate(s=Sum("amount"))["s"] or Decimal("0.00"),
        "topped": adjustments.filter(kind=Adjustment.Kind.TOP_UP).aggregate(s=Sum("amount"))["s"] or Decimal("0.00"),
        "reopened": lines.filter(prior_payable__isnull=False, outcome=SettlementLine.Outcome.DISPUTED, resolution="").count(),
        "lines": lines.count(),
        "disputed": lines.filter(outcome=SettlementLine.Outcome.DISPUTED).count(),
        "pending": lines.filter(outcome=SettlementLine.Outcome.DISPUTED, resolution="").count(),
        "advanced": agg["advanced_sum"] or Decimal("0.00"),
        "payable": agg["payable_sum"] or Decimal("0.00"),
    }
