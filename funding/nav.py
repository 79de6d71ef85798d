ITEMS = [
    ("资助参保", "funding:subsidy", "funding.view_subsidyresult"),
    ("自缴资助申报", "funding:selfpaid", "funding.view_selfpaidreport"),
    ("资金申请与支付", "funding:home", "funding.view_fundrequest"),
    ("记账", "funding:ledger", "funding.view_journalentry"),
    ("应收追回", "funding:receivables", "funding.view_receivable"),
    ("资金报表", "funding:report", "funding.view_journalentry"),
]


def todo(user):
    """What waits for this user on the home page (yfbz.core.context_processors.todo_items)."""
    from django.db.models import Count, Min
    from django.urls import reverse

    from yfbz.core.roles import Role
    from yfbz.core.scoping import district_q

    from .models import EntryProposal, FundRequest, PayableLine, Payment, PaymentBatch, SelfPaidReport

    items = []
    home = reverse("funding:home")
    requests = FundRequest.objects.filter(district_q(user))  # their district's (docs/areas.md)
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER, Role.DISTRICT_CLERK):
        reports = SelfPaidReport.objects.visible_to(user).filter(status=SelfPaidReport.Status.REPORTED)
        items.append(("镇街上报、待区级审核的自缴资助", reports.count(), reverse("funding:selfpaid")))
    # each count and the request it links to in one query (issue 14: the administrator's home page was over 30)
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER):
        n = requests.filter(status=FundRequest.Status.DRAFT).aggregate(n=Count("pk"), first=Min("pk"))
        items.append(("已编制、待审核报送的资金申请", n["n"], _request_url(n["first"], home)))
        n = (PaymentBatch.objects.filter(district_q(user, "request__district"), status=PaymentBatch.Status.EXPORTED)
             .aggregate(n=Count("pk"), first=Min("request_id")))
        items.append(("已生成支付文件、待银行回单确认的批次", n["n"], _request_url(n["first"], home)))
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER, Role.FINANCE):
        # a proposal waits for someone else: its maker cannot approve it (maker ≠ checker)
        proposals = EntryProposal.objects.filter(status=EntryProposal.Status.PENDING).exclude(proposed_by=user)
        items.append(("待复核的记账申请", proposals.count(), reverse("funding:ledger")))
    if user.is_superuser or user.has_role(Role.FINANCE):
        n = (requests.filter(status=FundRequest.Status.FUNDED, lines__status=PayableLine.Status.PENDING)
             .exclude(lines__bank_account="").aggregate(n=Count("pk", distinct=True), first=Min("pk")))
        items.append(("财政已划拨、待制作支付文件的资金申请", n["n"], _request_url(n["first"], home)))
        n = (PayableLine.objects.filter(district_q(user, "request__district"), status=PayableLine.Status.PENDING,
                                        payments__status=Payment.Status.FAILED)
             .aggregate(n=Count("pk", distinct=True), first=Min("request_id")))
        items.append(("支付失败、待更正账号后重新支付的款项", n["n"], _request_url(n["first"], home)))
    return items


def _request_url(first: int | None, fallback: str) -> str:
    from django.urls import reverse

    return reverse("funding:request-detail", args=[first]) if first else fallback


def panels(user):
    """The finance officer's (and the reviewer's) home page: the last verify_books result (yfbz.core.books)."""
    from yfbz.core.books import last
    from yfbz.core.roles import Role

    if not (user.is_superuser or user.has_role(Role.FINANCE, Role.DISTRICT_REVIEWER)):
        return []
    return [{"template": "funding/_books_panel.html", "books": last()}]
