ITEMS = [
    ("高额费用监测", "monitoring:alert-list", "monitoring.view_alert"),
    ("转部门认定", "monitoring:referral-list", "monitoring.view_referral"),
    ("依申请救助", "monitoring:application-list", "monitoring.view_application"),
    ("部门救助结果", "monitoring:department-results", "monitoring.view_referral"),
]


def todo(user):
    """What waits on the home page: the town's open and late alerts, the department's referrals."""
    from django.urls import reverse
    from django.utils import timezone

    from yfbz.core.roles import Role

    from .models import Alert, Referral

    today = timezone.localdate()
    items = []
    if user.is_superuser or user.has_role(Role.TOWN_CLERK, Role.DISTRICT_CLERK):
        alerts = Alert.objects.visible_to(user).filter(status__in=Alert.OPEN_STATUSES)
        items.append(("待跟进的高额费用预警", alerts.count(), reverse("monitoring:alert-list")))
        items.append(("已超期未跟进的预警", alerts.filter(due_on__lt=today).count(), reverse("monitoring:alert-list") + "?status=late"))
    if user.is_superuser or user.has_role(Role.DEPT_OFFICER):
        waiting = Referral.objects.visible_to(user).filter(status=Referral.Status.WAITING)
        items.append(("待认定的转介", waiting.count(), reverse("monitoring:referral-list")))
        items.append(("已超期的转介", waiting.filter(due_on__lt=today).count(), reverse("monitoring:referral-list") + "?status=late"))
    from .applications import waiting_for
    from .models import Application

    url = reverse("monitoring:application-list")
    for label, qs, _ in waiting_for(user):
        items.append((label, qs.count(), url))
        late = qs.filter(due_on__lt=today).exclude(status=Application.Status.REFERRED)
        items.append((f"{label.replace('待', '', 1)}已超期", late.count(), url + "?status=late"))
    return items
