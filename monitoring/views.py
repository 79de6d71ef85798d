"""Monitoring pages: alerts for the towns, their follow-up, referrals for the departments, the
district's table. Every object comes from ``visible_to(request.user)`` (yfbz.core.scoping); every
change goes through monitoring.followup (which checks roles again and moves through transition())."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from beneficiaries.models import Category, Department, Town
from yfbz.core.params import parse_date
from yfbz.core.roles import Role
from yfbz.core.workflow import history_of

from .followup import MonitoringError, alert_act, overview, referral_decide
from .models import Alert, AlertKind, FollowUp, HighCostImport, HighCostRow, Referral

VIEW_ALERT = "monitoring.view_alert"
VIEW_REFERRAL = "monitoring.view_referral"


def _can_act(user, alert: Alert) -> bool:
    if alert.status not in Alert.OPEN_STATUSES:
        return False
    if user.is_superuser or user.has_role(Role.DISTRICT_CLERK):
        return True
    return user.has_role(Role.TOWN_CLERK) and user.town_id == alert.town_id


@permission_required(VIEW_ALERT, raise_exception=True)
def alert_list(request):
    today = timezone.localdate()
    qs = Alert.objects.visible_to(request.user).select_related("town").order_by("due_on", "id")
    kind = request.GET.get("kind", "")
    if kind in AlertKind.values:
        qs = qs.filter(kind=kind)
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=Alert.OPEN_STATUSES)
    elif status == "late":
        qs = qs.filter(status__in=Alert.OPEN_STATUSES, due_on__lt=today)
    elif status in Alert.Status.values:
        qs = qs.filter(status=status)
    town = request.GET.get("town", "")
    if town:
        if Town.objects.filter(code=town.replace("\x00", "")).exists() and "\x00" not in town:
            qs = qs.filter(town__code=town)
        else:  # a mistyped or hostile parameter shows every town the user may see, never a 500
            town = ""
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    imports = HighCostImport.objects.all()[:6] if (request.user.is_superuser or request.user.sees_everything) else []
    return render(request, "monitoring/alert_list.html", {
        "page": page, "kinds": AlertKind.choices, "statuses": Alert.Status.choices, "kind": kind, "status": status,
        "town": town, "towns": Town.objects.filter(active=True).order_by("code") if request.user.sees_everything else [],
        "today": today, "imports": imports,
    })


@permission_required(VIEW_ALERT, raise_exception=True)
def alert_detail(request, pk: int):
    alert = Alert.objects.select_related("town", "person", "row").get_visible_or_404(request.user, pk=pk)
    rows = HighCostRow.objects.visible_to(request.user).filter(id_number=alert.id_number, year=alert.year).order_by("settled_on")
    return render(request, "monitoring/alert_detail.html", {
        "alert": alert, "rows": rows, "follow_ups": alert.follow_ups.select_related("department", "recorded_by"),
        "referrals": alert.referrals.select_related("department"), "history": history_of(alert),
        "can_act": _can_act(request.user, alert), "actions": FollowUp.Action.choices,
        "departments": Department.objects.order_by("code"), "today": timezone.localdate(),
    })


@require_POST
@permission_required(VIEW_ALERT, raise_exception=True)
def alert_action(request, pk: int):
    alert = Alert.objects.get_visible_or_404(request.user, pk=pk)
    department = Department.objects.filter(pk=request.POST.get("department") or None).first()
    try:
        done_on = parse_date(request.POST.get("done_on", ""), "办理日期")
        alert_act(alert_id=alert.pk, user=request.user, action=request.POST.get("action", ""), done_on=done_on,
                  note=request.POST.get("note", ""), department=department)
    except MonitoringError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已登记跟进情况。")
    return redirect("monitoring:alert-detail", pk=alert.pk)


@permission_required(VIEW_REFERRAL, raise_exception=True)
def referral_list(request):
    today = timezone.localdate()
    qs = Referral.objects.visible_to(request.user).select_related("town", "department").order_by("due_on", "id")
    status = request.GET.get("status", "WAITING")
    if status in Referral.Status.values:
        qs = qs.filter(status=status)
    elif status == "late":
        qs = qs.filter(status=Referral.Status.WAITING, due_on__lt=today)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "monitoring/referral_list.html", {
        "page": page, "status": status, "statuses": Referral.Status.choices, "today": today,
    })


@permission_required(VIEW_REFERRAL, raise_exception=True)
def referral_detail(request, pk: int):
    r = Referral.objects.select_related("town", "department", "alert").get_visible_or_404(request.user, pk=pk)
    can_decide = r.status == Referral.Status.WAITING and (
        request.user.is_superuser or (request.user.has_role(Role.DEPT_OFFICER) and request.user.department_id == r.department_id))
    return render(request, "monitoring/referral_detail.html", {
        "r": r, "history": history_of(r), "can_decide": can_decide,
        "categories": Category.objects.filter(department=r.department_id).order_by("code"), "today": timezone.localdate(),
    })


@require_POST
@permission_required(VIEW_REFERRAL, raise_exception=True)
def referral_outcome(request, pk: int):
    r = Referral.objects.get_visible_or_404(request.user, pk=pk)
    certified = request.POST.get("certified") == "yes"
    try:
        decided_on = parse_date(request.POST.get("decided_on", ""), "认定结果日期")
        certified_from = parse_date(request.POST["certified_from"], "认定起始日期") if certified and request.POST.get("certified_from") else None
        category = Category.objects.filter(pk=request.POST.get("category") or None).first()
        referral_decide(referral_id=r.pk, user=request.user, certified=certified, decided_on=decided_on,
                        certified_from=certified_from, category=category, reason=request.POST.get("reason", ""))
    except MonitoringError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已登记认定结果，预警已退回镇街继续跟进。")
    return redirect("monitoring:referral-detail", pk=r.pk)


@permission_required(VIEW_ALERT, raise_exception=True)
def overview_page(request):
    return render(request, "monitoring/overview.html", overview(request.user))
