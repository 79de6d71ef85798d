"""Funding's checks of ``verify_books`` (yfbz.core.books; registered in FundingConfig.ready)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from yfbz.core.display import money

from .models import Account, JournalEntry, JournalLine, PayableLine, Payment, SelfPaidReport, SubsidyRoute
from .payables import PROVIDERS

ZERO = Decimal("0.00")


def check_balances() -> list[str]:
    """Every entry's lines sum to zero, and every own account's balance — the sum of its lines — is
    never negative at the end of any day."""
    found = []
    for number, total in (JournalEntry.objects.annotate(t=Sum("lines__amount")).exclude(t=0)
                          .order_by("number").values_list("number", "t")):
        found.append(f"凭证 {number} 借贷不平：分录合计 {money(total)} 元")
    for acc in Account.objects.filter(kind=Account.Kind.OWN).order_by("pk"):
        running = ZERO
        days = (JournalLine.objects.filter(account=acc).values("entry__date").annotate(s=Sum("amount"))
                .order_by("entry__date"))
        for row in days:
            running += row["s"]
            if running < ZERO:
                found.append(f"「{acc.name}」{row['entry__date']:%Y年%m月%d日}日终余额为 {money(running)} 元（为负）")
                break
    return found


def _unpaid_sources() -> dict[str, set[str]]:
    """provider → the source keys it lists as approved and not yet paid, up to this month's end."""
    today = timezone.localdate()
    return {name: {p.source_key for p in provider.payables(year=today.year, month=today.month)}
            for name, provider in PROVIDERS.items()}


def check_payables() -> list[str]:
    """Every payable is on at most one request line; every line waiting for payment stands on a source
    still approved and unpaid; every paid line's source is marked paid."""
    found = []
    for key, n in (PayableLine.objects.exclude(status=PayableLine.Status.CANCELLED).values("source_key").annotate(n=Count("pk")).filter(n__gt=1)
                   .order_by("source_key").values_list("source_key", "n")):
        found.append(f"应付款 {key} 出现在{n}条资金申请明细上")
    unpaid = _unpaid_sources()
    lines = PayableLine.objects.exclude(status__in=[PayableLine.Status.WITHDRAWN, PayableLine.Status.CANCELLED]).select_related("request").order_by("pk")
    for line in lines.only("pk", "provider", "source_key", "status", "request__number").iterator(chunk_size=5000):
        listed = line.source_key in unpaid.get(line.provider, set())
        if line.status in (PayableLine.Status.PENDING, PayableLine.Status.IN_BATCH) and not listed:
            found.append(f"资金申请 {line.request.number} 明细 {line.source_key}（{line.get_status_display()}）"
                         "的来源不是已审批待支付的款项")
        elif line.status == PayableLine.Status.PAID and listed:
            found.append(f"资金申请 {line.request.number} 明细 {line.source_key} 已支付，但来源仍显示未支付")
    return found


def check_payments() -> list[str]:
    """Every payment maps to one line, for its amount; a line has at most one payment not failed; a
    paid line has exactly one paid payment."""
    found = []
    for pk, number, amount, line_amount in (Payment.objects.exclude(amount=F("line__amount"))
                                            .values_list("pk", "batch__number", "amount", "line__amount").order_by("pk")):
        found.append(f"支付批次 {number} 明细号 {pk} 金额 {money(amount)} 元，与申请明细金额 {money(line_amount)} 元不符")
    live = (Payment.objects.exclude(status=Payment.Status.FAILED).values("line_id").annotate(n=Count("pk"))
            .filter(n__gt=1).values_list("line_id", "n"))
    for line_id, n in live.order_by("line_id"):
        found.append(f"申请明细 {line_id} 有{n}笔未失败的支付（同一明细只能支付一次）")
    paid_lines = PayableLine.objects.filter(status=PayableLine.Status.PAID).annotate(
        n=Count("payments", filter=Q(payments__status=Payment.Status.PAID)))
    for key, n in paid_lines.exclude(n=1).values_list("source_key", "n").order_by("pk"):
        found.append(f"已支付的申请明细 {key} 对应{n}笔已支付的支付明细（应为1笔）")
    for pk, key in (Payment.objects.filter(status=Payment.Status.PAID).exclude(line__status=PayableLine.Status.PAID)
                    .values_list("pk", "line__source_key").order_by("pk")):
        found.append(f"支付明细号 {pk} 已支付，但申请明细 {key} 未标记为已支付")
    return found


def check_routes() -> list[str]:
    """Routes (a) and (b) of the contribution subsidy never both for one person and year: every approved
    self-paid report is the route row of its person-year."""
    found = []
    reports = SelfPaidReport.objects.filter(status__in=[SelfPaidReport.Status.APPROVED, SelfPaidReport.Status.PAID])
    routes = {(p, y): (r, rep) for p, y, r, rep in SubsidyRoute.objects.values_list("person_id", "year", "route", "report_id")}
    for pk, pid, year, name in reports.values_list("pk", "person_id", "year", "person__name").order_by("pk"):
        route, report_id = routes.get((pid, year), (None, None))
        if route == SubsidyRoute.Route.TAX:
            found.append(f"{name} {year}年既经途径二（自缴后资助，申报{pk}）又经途径一（税务代缴）资助参保")
        elif route is None or report_id != pk:
            found.append(f"{name} {year}年自缴后资助（申报{pk}）未登记资助途径，可能被重复资助")
    return found
