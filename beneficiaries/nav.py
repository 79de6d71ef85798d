ITEMS = [
    ("身份名单", "beneficiaries:roster-list", "beneficiaries.view_identity"),
    ("报送情况", "beneficiaries:duty-board", "beneficiaries.view_identity"),
    ("追溯变化", "beneficiaries:retroactive-list", "beneficiaries.view_identity"),
]


def todo(user):
    """What waits for this user on the home page (yfbz.core.context_processors.todo_items)."""
    from django.urls import reverse

    from yfbz.core.roles import Role

    from . import services
    from .models import RetroactiveChange, RosterRow, RosterUpload

    items = []
    if user.has_role(Role.TOWN_CLERK):
        pending = RosterRow.objects.visible_to(user).filter(
            upload__status=RosterUpload.Status.TOWN_REVIEW, review=RosterRow.Review.PENDING
        )
        items.append(("本镇街待审核的名单行", pending.count(), reverse("beneficiaries:roster-list")))
        for upload in RosterUpload.objects.filter(pk__in=pending.values("upload_id")).select_related("department"):
            if services.review_overdue(upload):
                late = pending.filter(upload=upload).count()
                items.append((f"本镇街逾期未审核：{upload.department.name}{upload.month:%Y年%m月}名单"
                              f"（期限{services.review_deadline(upload):%m月%d日}已过）", late,
                              reverse("beneficiaries:roster-detail", args=[upload.pk])))
    if user.has_role(Role.DEPT_OFFICER) and user.department_id:
        own = RosterUpload.objects.visible_to(user).filter(department_id=user.department_id)
        validated = own.filter(status=RosterUpload.Status.VALIDATED)
        first = validated.values_list("pk", flat=True).first()
        items.append(("已校验、待提交镇街审核的名单", validated.count(),
                      reverse("beneficiaries:roster-detail", args=[first]) if first else reverse("beneficiaries:roster-list")))
        # rows sent back by a town of a roster still in review, or confirmed within the last 30 days (they
        # were not applied: the department checks them and sends them again in its next roster)
        from datetime import timedelta

        from django.db.models import Q
        from django.utils import timezone

        recent = own.filter(Q(status=RosterUpload.Status.TOWN_REVIEW)
                            | Q(status=RosterUpload.Status.CONFIRMED, confirmed_at__gte=timezone.now() - timedelta(days=30)))
        sent_back = RosterRow.objects.filter(upload__in=recent, review=RosterRow.Review.SENT_BACK)
        first = sent_back.order_by("-upload_id").values_list("upload_id", flat=True).first()
        items.append(("镇街退回的名单行（请核实后更正或重报）", sent_back.count(),
                      reverse("beneficiaries:roster-detail", args=[first]) + "?review=sent_back" if first
                      else reverse("beneficiaries:roster-list")))
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER, Role.DISTRICT_CLERK):
        waiting = RosterUpload.objects.visible_to(user).filter(status=RosterUpload.Status.TOWN_REVIEW)
        items.append(("镇街审核中、待区级确认的名单", waiting.count(), reverse("beneficiaries:roster-list")))
        for upload in waiting.select_related("department"):
            towns = services.late_towns(upload) if services.review_overdue(upload) else []
            if towns:  # the duty board shows them too; the reviewer may confirm and accept their rows as sent
                items.append((f"镇街逾期未审核：{upload.department.name}{upload.month:%Y年%m月}名单——"
                              f"{services.towns_text(towns)}（可填写原因确认，按报送接受）", len(towns),
                              reverse("beneficiaries:roster-detail", args=[upload.pk])))
        if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER):
            from .models import IdentityCorrection

            waiting_corrections = IdentityCorrection.objects.visible_to(user).filter(status=IdentityCorrection.Status.PROPOSED)
            first = waiting_corrections.values_list("person_id", flat=True).first()
            items.append(("待确认的名单外身份更正", waiting_corrections.exclude(proposed_by=user).count(),
                          reverse("beneficiaries:person-detail", args=[first]) if first else reverse("beneficiaries:person-list")))
        changes = RetroactiveChange.objects.visible_to(user).filter(status=RetroactiveChange.Status.OPEN)
        items.append(("涉及已核定救助、待重新核定的身份追溯变化", changes.count(), reverse("beneficiaries:retroactive-list")))
    return items
