from django.db.models import Count, Q

ITEMS = [
    ("高额费用监测", "monitoring:alert-list", "monitoring.view_alert"),
    ("转部门认定", "monitoring:referral-list", "monitoring.view_referral"),
    ("依申请救助", "monitoring:application-list", "monitoring.view_application"),
    ("部门救助结果", "monitoring:department-results", lambda user: user.has_perm("monitoring.view_referral")
     and results_open_to(user)),
]


def results_open_to(user) -> bool:
    """The departments' results are for the departments and the district bureau (monitoring.results)."""
    from yfbz.core.roles import Role

    return user.is_superuser or user.sees_everything or user.has_role(Role.DEPT_OFFICER)


def _with_late(qs, late) -> dict:
    return qs.order_by().aggregate(all=Count("pk"), late=Count("pk", filter=late))


def todo(user):
    """What waits on the home page: the town's open and late alerts, the department's referrals."""
    from django.urls import reverse
    from django.utils import timezone

    from yfbz.core.roles import Role

    from .models import Alert, Referral

    today = timezone.localdate()
    items = []
    # each list and its late part in one query (issue 14: the administrator's home page was over 30 queries)
    if user.is_superuser or user.has_role(Role.TOWN_CLERK, Role.DISTRICT_CLERK):
        n = _with_late(Alert.objects.visible_to(user).filter(status__in=Alert.OPEN_STATUSES), Q(due_on__lt=today))
        items.append(("待跟进的高额费用预警", n["all"], reverse("monitoring:alert-list")))
        items.append(("已超期未跟进的预警", n["late"], reverse("monitoring:alert-list") + "?status=late"))
    if user.is_superuser or user.has_role(Role.DEPT_OFFICER):
        n = _with_late(Referral.objects.visible_to(user).filter(status=Referral.Status.WAITING), Q(due_on__lt=today))
        items.append(("待认定的转介", n["all"], reverse("monitoring:referral-list")))
        items.append(("已超期的转介", n["late"], reverse("monitoring:referral-list") + "?status=late"))
    from .applications import waiting_for
    from .models import Application

    url = reverse("monitoring:application-list")
    for label, qs, _ in waiting_for(user):
        n = _with_late(qs, Q(due_on__lt=today) & ~Q(status=Application.Status.REFERRED))
        items.append((label, n["all"], url))
        items.append((f"{label.replace('待', '', 1)}已超期", n["late"], url + "?status=late"))
    return items
