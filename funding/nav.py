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
    from django.urls import reverse

    from yfbz.core.roles import Role

    from .models import EntryProposal, SelfPaidReport

    items = []
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER, Role.DISTRICT_CLERK):
        reports = SelfPaidReport.objects.visible_to(user).filter(status=SelfPaidReport.Status.REPORTED)
        items.append(("镇街上报、待区级审核的自缴资助", reports.count(), reverse("funding:selfpaid")))
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER, Role.FINANCE):
        proposals = EntryProposal.objects.filter(status=EntryProposal.Status.PENDING)
        items.append(("待复核的记账申请", proposals.count(), reverse("funding:ledger")))
    return items
