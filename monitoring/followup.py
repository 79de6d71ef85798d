"""The follow-up of alerts by the person's town (POLICY.md §15; docs/monitoring.md "The loop")."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from yfbz.core.errors import YfbzError
from yfbz.core.roles import Role
from yfbz.core.workflow import record_start, transition

from .deadlines import Step, add_working_days, due  # noqa: F401 - add_working_days: used by the tests
from .models import Alert, FollowUp, Referral


def due_date(raised_on: date) -> date:
    """The town's deadline for an alert raised on a date (DeadlineRule ALERT_FOLLOW_UP)."""
    return due(Step.ALERT_FOLLOW_UP, raised_on)


# --- the town's actions and the department's outcome ---------------------------------------------
A = FollowUp.Action
#: the alert's status after each action of the town
AFTER = {
    A.CONTACTED: Alert.Status.FOLLOWING,
    A.HELPED_APPLY: Alert.Status.CLOSED,
    A.REFERRED: Alert.Status.REFERRED,
    A.NOT_ELIGIBLE: Alert.Status.CLOSED,
    A.DECLINED: Alert.Status.CLOSED,
    A.UNREACHABLE: Alert.Status.CLOSED,
}


class MonitoringError(YfbzError):
    """A refused action of the follow-up loop (Chinese, for the page)."""


def _check_done_on(done_on: date, what: str = "办理日期") -> None:
    if done_on is None:
        raise MonitoringError(f"请填写{what}。")
    if done_on > timezone.localdate():
        raise MonitoringError(f"{what}{done_on}晚于今天，请填写实际办理的日期。")


def alert_act(*, alert_id: int, user, action: str, done_on: date, note: str = "", department=None) -> FollowUp:
    """The town records what it did about an alert, with the date. Only the clerk of the alert's town
    (or the district's clerk) may; a referral names the department and reaches its officer."""
    if action not in A.values:
        raise MonitoringError("请选择跟进措施。")
    if not (user.is_superuser or user.has_role(Role.TOWN_CLERK, Role.DISTRICT_CLERK)):
        raise MonitoringError("只有镇街经办员或区医保经办人员可以登记预警的跟进情况。")
    _check_done_on(done_on)
    if action == A.REFERRED and department is None:
        raise MonitoringError("转部门认定须选择认定部门。")
    if action in (A.NOT_ELIGIBLE, A.DECLINED, A.UNREACHABLE) and not note.strip():
        raise MonitoringError(f"“{A(action).label}”须写明情况说明。")
    with transaction.atomic():
        alert = Alert.objects.visible_to(user).select_for_update(of=("self",)).filter(pk=alert_id).first()
        if alert is None:
            raise MonitoringError("没有这条预警，或不属于您的镇街。")
        if user.has_role(Role.TOWN_CLERK) and not user.sees_everything and alert.town_id != user.town_id:
            raise MonitoringError("只能登记本镇街的预警。")
        to = AFTER[A(action)]
        label = A(action).label
        transition(alert, to, by=user, reason=f"{done_on} {label}" + (f"：{note.strip()}" if note.strip() else ""))
        f = FollowUp.objects.create(alert=alert, action=action, done_on=done_on, note=note.strip(),
                                    department=department if action == A.REFERRED else None, recorded_by=user)
        if action == A.REFERRED:
            referral = Referral.objects.create(
                alert=alert, department=department, town=alert.town, id_number=alert.id_number, name=alert.name,
                person=alert.person, referred_on=done_on, due_on=due(Step.REFERRAL, done_on),
                note=note.strip(), referred_by=user,
            )
            record_start(referral, by=user, reason=f"{alert.get_kind_display()}预警转{department.name}认定")
        return f


def referral_decide(*, referral_id: int, user, certified: bool, decided_on: date, certified_from: date | None = None,
                    category=None, reason: str = "") -> Referral:
    """The department's officer records the outcome: certified from a date (and in which category), or
    not, with why. The alert goes back to its town (跟进中, a new deadline) to finish the follow-up."""
    if not (user.is_superuser or user.has_role(Role.DEPT_OFFICER)):
        raise MonitoringError("只有认定部门的数据员可以登记认定结果。")
    _check_done_on(decided_on, "认定结果日期")
    if certified and certified_from is None:
        raise MonitoringError("已认定须填写认定起始日期。")
    if not certified and not reason.strip():
        raise MonitoringError("不予认定须写明原因。")
    with transaction.atomic():
        r = Referral.objects.visible_to(user).select_for_update(of=("self",)).filter(pk=referral_id).first()
        if r is None or (not user.is_superuser and r.department_id != user.department_id):
            raise MonitoringError("没有这条转介，或不是转给您所在部门的。")
        if category is not None and category.department_id != r.department_id:
            raise MonitoringError(f"{category.name}不是{r.department.name}认定的身份类别。")
        to = Referral.Status.CERTIFIED if certified else Referral.Status.NOT_CERTIFIED
        r.certified_from = certified_from if certified else None
        r.category = category if certified else None
        r.outcome_reason = reason.strip()
        r.decided_by, r.decided_on = user, decided_on
        text = (f"自{certified_from}起认定" + (f"为{category.name}" if category else "")) if certified else f"不予认定：{reason.strip()}"
        transition(r, to, by=user, reason=text,
                   update_fields=["certified_from", "category", "outcome_reason", "decided_by", "decided_on"])
        if r.application_id:
            from .applications import referral_returns

            referral_returns(r, user, certified, text)
        if r.alert_id:
            alert = Alert.objects.select_for_update().get(pk=r.alert_id)
            if alert.status == Alert.Status.REFERRED:
                alert.due_on = due(Step.ALERT_FOLLOW_UP, decided_on)
                transition(alert, Alert.Status.FOLLOWING, by=user, reason=f"{r.department.name}{text}", update_fields=["due_on"])
        return r


# --- the district's view -------------------------------------------------------------------------
def overview(user, today: date | None = None) -> dict:
    """Per town (alerts) and per department (referrals): open, late (past the deadline) and closed,
    of what the user may see."""
    from django.db.models import Count, Q

    today = today or timezone.localdate()
    open_q = Q(status__in=Alert.OPEN_STATUSES)
    towns = (Alert.objects.visible_to(user).values("town__name").order_by("town__code")
             .annotate(open=Count("pk", filter=open_q), late=Count("pk", filter=open_q & Q(due_on__lt=today)),
                       referred=Count("pk", filter=Q(status=Alert.Status.REFERRED)),
                       closed=Count("pk", filter=Q(status=Alert.Status.CLOSED)), total=Count("pk")))
    waiting = Q(status=Referral.Status.WAITING)
    departments = (Referral.objects.visible_to(user).values("department__name").order_by("department__code")
                   .annotate(open=Count("pk", filter=waiting), late=Count("pk", filter=waiting & Q(due_on__lt=today)),
                             closed=Count("pk", filter=~waiting), total=Count("pk")))
    return {"towns": list(towns), "departments": list(departments), "today": today}
