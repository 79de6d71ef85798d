"""Queries of claims. Everything a user reaches starts from ``visible_to(user)``; ``payables`` is the
interface the funding app builds its monthly payments from (no user: it is the bureau's own total).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Prefetch, Sum
from django.utils import timezone

from funding.payables import Payable
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
# The record is funding's (funding.payables.Payable); claims registers ``payables`` and
# ``claims.services.payables_mark_paid`` as a provider in ClaimsConfig.ready().


def _month_end(year: int, month: int) -> datetime:
    last = calendar.monthrange(year, month)[1]
    return timezone.make_aware(datetime.combine(date(year, month, last), time.max), timezone.get_current_timezone())


def payables(*, year: int, month: int) -> list[Payable]:
    """Everything claims owes by the end of ``year``/``month`` (local time) and has not paid yet,
    whatever month it was approved, settled or confirmed in (the funding contract: the fund request
    leaves out what an earlier request already holds, so nothing is lost between months and nothing
    is requested twice):

    - every current decision approved by the month's end whose bill is APPROVED, as one payable per
      fund still unpaid (assistance and 优抚对象医疗补助 never share a payable, POLICY.md §12); after
      a re-decision only the top-up (what is due less what was paid) is payable;
    - every institution's one-stop settlement month confirmed by a reviewer by the month's end and
      not paid, whatever its settlement month, for its agreed total;
    - institutions' top-ups of lines settled again after their month was confirmed, by the month's end.

    Stable order (source_key). Amounts are Decimal, never zero.
    """
    end = _month_end(year, month)
    out: list[Payable] = []
    decisions = (
        Decision.objects.filter(is_current=True, bill__status=Bill.Status.APPROVED, reviewed_at__lte=end)
        .select_related("bill", "person")
        .order_by("pk")
    )
    for d in decisions.iterator(chunk_size=2000):
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
                        town_id=d.town_id if d.town_id is not None else d.person.town_id,  # recorded when decided
                        amount=amount,
                        on=d.settled_on,
                    )
                )
    months = SettlementMonth.objects.filter(
        status=SettlementMonth.Status.CONFIRMED, confirmed_at__lte=end, agreed_total__gt=0
    ).select_related("institution").order_by("pk")
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
    return SettlementLine.objects.visible_to(user).select_related("person", "person__town", "institution")


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


def identity_disagreements(user, month=None):
    """One-stop lines whose platform 救助身份 is not an identity we hold on the settlement date (issue 18),
    those the user sees (by the line's own town and date), of a settlement month or all."""
    qs = SettlementLine.objects.visible_to(user).exclude(identity_note="")
    if month is not None:
        qs = qs.filter(settlement_month__month=month)
    return qs


def identity_disagreements_by_town(user, month=None) -> list[dict]:
    """Per town (those the user sees): lines whose 救助身份 disagrees."""
    from django.db.models import Count

    from beneficiaries.models import Town

    counts = dict(identity_disagreements(user, month).order_by().values_list("town_id").annotate(n=Count("id")))
    towns = Town.objects.in_bulk([t for t in counts if t])
    return [{"town": towns.get(t), "count": n} for t, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
