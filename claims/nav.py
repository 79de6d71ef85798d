ITEMS = [
    ("手工报销", "claims:bill-list", "claims.view_bill"),
    ("一站式结算审核", "claims:settlement-list", "claims.view_settlementline"),
    ("批量打印记录", "claims:notice-batches", "claims.view_bill"),
]


def todo(user):
    """What waits for this user on the home page (yfbz.core.context_processors.todo_items)."""
    from django.urls import reverse

    from yfbz.core.roles import Role

    from .models import Bill, SettlementLine

    items = []
    if user.is_superuser or user.has_role(Role.DISTRICT_CLERK):
        entered = Bill.objects.visible_to(user).filter(status=Bill.Status.ENTERED)
        items.append(("已录入、待核定的票据", entered.count(), reverse("claims:bill-list") + "?status=ENTERED"))
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER):
        decided = Bill.objects.visible_to(user).filter(status=Bill.Status.DECIDED)
        items.append(("已核定待审批的票据", decided.count(), reverse("claims:bill-list") + "?status=DECIDED"))
        disputed = SettlementLine.objects.visible_to(user).filter(outcome=SettlementLine.Outcome.DISPUTED, resolution="")
        items.append(("待处理的一站式结算异议", disputed.count(), reverse("claims:settlement-list")))
        from django.db.models import Count, Exists, Min, OuterRef

        from .models import SettlementMonth

        # no line of the month both disputed and unresolved (``exclude(lines__outcome=…, lines__resolution="")``
        # asked "no disputed line, or no line with an empty resolution" — every agreed line has one — so a month
        # that ever had a dispute was never listed); counted with its first month in one query (issue 14)
        waiting = SettlementLine.objects.filter(settlement_month=OuterRef("pk"), outcome=SettlementLine.Outcome.DISPUTED,
                                                resolution="")
        ready = (SettlementMonth.objects.filter(status=SettlementMonth.Status.OPEN).filter(~Exists(waiting))
                 .aggregate(n=Count("pk"), first=Min("pk")))
        first = ready["first"]
        items.append(("异议已处理完、待确认的一站式结算月份", ready["n"],
                      reverse("claims:settlement-month", args=[first]) if first else reverse("claims:settlement-list")))
    return items
