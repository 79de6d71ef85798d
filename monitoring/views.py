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

from beneficiaries.models import Category, Department, Person, Town
from yfbz.core.params import parse_date
from yfbz.core.roles import Role
from yfbz.core.workflow import history_of

from .followup import MonitoringError, alert_act, overview, referral_decide
from .models import (
    Alert,
    AlertKind,
    Application,
    ApplicationPaper,
    FollowUp,
    HighCostImport,
    HighCostRow,
    Referral,
)

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
    rows = (HighCostRow.objects.visible_to(request.user).filter(id_number=alert.id_number, year=alert.year)
            .select_related("institution").order_by("settled_on"))
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
    r = Referral.objects.select_related("town", "department", "alert", "application").get_visible_or_404(request.user, pk=pk)
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
        messages.success(request, "已登记认定结果，已退回镇街继续办理。")
    return redirect("monitoring:referral-detail", pk=r.pk)


@permission_required(VIEW_ALERT, raise_exception=True)
def overview_page(request):
    return render(request, "monitoring/overview.html", overview(request.user))


# --- assistance on application (依申请救助) ----------------------------------------------------------
VIEW_APPLICATION = "monitoring.view_application"


def _uploads(files) -> list[tuple[str, bytes]]:
    return [(f.name, f.read()) for f in files]


@permission_required(VIEW_APPLICATION, raise_exception=True)
def application_list(request):
    from .applications import next_actor

    today = timezone.localdate()
    qs = Application.objects.visible_to(request.user).select_related("person", "town").order_by("due_on", "id")
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=Application.OPEN_STATUSES)
    elif status == "late":
        qs = qs.filter(status__in=Application.OPEN_STATUSES, due_on__lt=today).exclude(status=Application.Status.REFERRED)
    elif status in Application.Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for a in page:
        a.next_actor = next_actor(a)
    return render(request, "monitoring/application_list.html", {
        "page": page, "status": status, "statuses": Application.Status.choices, "today": today,
        "can_register": request.user.is_superuser or request.user.has_role(Role.TOWN_CLERK),
    })


@permission_required(VIEW_APPLICATION, raise_exception=True)
def application_new(request):
    from .applications import application_register
    from .forms import ApplicationForm

    alert = None
    if request.GET.get("alert") or request.POST.get("alert"):
        from yfbz.core.params import parse_int

        alert = Alert.objects.visible_to(request.user).filter(pk=parse_int(request.GET.get("alert") or request.POST.get("alert"), "预警", low=1, high=2**31 - 1)).first()
    known = alert.id_number if alert else ""  # carried by the form, shown masked (issue 9, finding 7)
    person_pk = request.GET.get("person") or request.POST.get("person")
    if person_pk:
        from yfbz.core.params import parse_int

        person = Person.objects.visible_to(request.user).filter(pk=parse_int(person_pk, "人员", low=1, high=2**31 - 1)).first()
        if person is not None:
            known = person.id_number
    form = ApplicationForm(request.POST or None, request.FILES or None, user=request.user, known_number=known)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k not in ("id_number", "papers")}
        try:
            app = application_register(user=request.user, person=form.person, alert=alert,
                                       papers=_uploads(form.cleaned_data["papers"]), **fields)
        except MonitoringError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "已登记申请，请审核资料后报区医保局。")
            return redirect("monitoring:application-detail", pk=app.pk)
    return render(request, "monitoring/application_form.html", {"form": form, "alert": alert,
                                                                 "person_pk": person_pk if known and person_pk else ""})


@permission_required(VIEW_APPLICATION, raise_exception=True)
def application_detail(request, pk: int):
    from .applications import next_actor

    app = (Application.objects.select_related("person", "town", "institution", "registered_by", "reviewed_by", "proposed_by",
                                              "decided_by", "bill", "alert")
           .get_visible_or_404(request.user, pk=pk))
    u = request.user
    S = Application.Status
    town_acts = u.is_superuser or (u.has_role(Role.TOWN_CLERK) and u.town_id == app.town_id)
    return render(request, "monitoring/application_detail.html", {
        "app": app, "history": history_of(app), "next_actor": next_actor(app),
        "papers": app.papers.all(), "referrals": app.referrals.select_related("department"),
        "can_review": town_acts and app.status == S.REGISTERED,
        "can_add_papers": town_acts and app.status in Application.WAITING_TOWN,
        "can_withdraw": town_acts and app.status in Application.WAITING_TOWN,
        "can_propose": (u.is_superuser or u.has_role(Role.DISTRICT_CLERK)) and app.status == S.SUBMITTED,
        "can_decide": ((u.is_superuser or u.has_role(Role.DISTRICT_REVIEWER)) and app.status == S.PROPOSED
                       and u.pk not in (app.proposed_by_id, app.registered_by_id)),
        "departments": Department.objects.order_by("code"), "opinions": Application.Opinion.choices,
    })


@require_POST
@permission_required(VIEW_APPLICATION, raise_exception=True)
def application_step(request, pk: int, step: str):
    from . import applications as svc

    app = Application.objects.get_visible_or_404(request.user, pk=pk)
    p, note = request.POST, request.POST.get("note", "")
    try:
        if step == "review":
            department = Department.objects.filter(pk=p.get("department") or None).first() if (p.get("department") or "").isdigit() else None
            svc.application_review(application_id=app.pk, user=request.user, complete=p.get("complete") == "yes",
                                   note=note, department=department)
        elif step == "papers":
            from django import forms

            from claims.forms import MultipleFileField

            try:
                files = MultipleFileField(required=False).clean(request.FILES.getlist("papers"))
            except forms.ValidationError as exc:
                raise MonitoringError("；".join(exc.messages)) from None
            svc.application_add_papers(application_id=app.pk, user=request.user, papers=_uploads(files), note=note)
        elif step == "withdraw":
            svc.application_withdraw(application_id=app.pk, user=request.user, reason=note)
        elif step == "propose":
            svc.application_propose(application_id=app.pk, user=request.user, opinion=p.get("opinion", ""), note=note,
                                    back_to_town=p.get("back") == "yes")
        elif step == "decide":
            grant = {"grant": True, "refuse": False, "back": None}.get(p.get("decision", ""), "missing")
            if grant == "missing":
                raise MonitoringError("请选择审批意见。")
            svc.application_decide(application_id=app.pk, user=request.user, grant=grant, note=note)
        else:
            raise MonitoringError("没有这一步。")
    except MonitoringError as exc:
        messages.error(request, str(exc))
    else:
        app.refresh_from_db()
        messages.success(request, f"已办理，申请当前为“{app.get_status_display()}”。")
    return redirect("monitoring:application-detail", pk=app.pk)


@permission_required(VIEW_APPLICATION, raise_exception=True)
def application_paper(request, pk: int, paper: int):
    from yfbz.core.uploads import attachment_response

    app = Application.objects.get_visible_or_404(request.user, pk=pk)
    p = ApplicationPaper.objects.visible_to(request.user).filter(application=app, pk=paper).defer(None).first()
    if p is None:
        from django.http import Http404

        raise Http404("没有这份扫描件。")
    return attachment_response(bytes(p.data), file_name=p.file_name, content_type=p.content_type)


# --- results shared with the departments ----------------------------------------------------------
@permission_required(VIEW_REFERRAL, raise_exception=True)
def department_results(request):
    """A department officer: their department's people's results of a month (page + xlsx); district staff
    choose the department."""
    from yfbz.core.downloads import download
    from yfbz.core.exports import offload
    from yfbz.core.params import BadParameter
    from yfbz.core.pii import full_numbers_requested

    from .results import PAGE_ROWS, department_and_month, results, results_title, results_xlsx

    u = request.user
    today = timezone.localdate()
    department, month = department_and_month(u, request.GET)
    if request.GET.get("format") == "xlsx":
        try:
            full = full_numbers_requested(request, what=f"{department.name}{month:%Y年%m月}医疗救助结果", model=Person)
        except BadParameter as exc:
            messages.error(request, str(exc))
            return redirect(request.path + f"?month={month:%Y-%m}&department={department.code}")
        title = results_title(department, month)
        if (queued := offload(request, "monitoring.results", full=full, title=title)) is not None:
            return queued
        data = results(u, department.pk, month)
        return download(results_xlsx(data, title=title, full=full), department.name, f"{month:%Y年%m月}医疗救助结果",
                        ext="xlsx", full=full)
    data = results(u, department.pk, month, limit=PAGE_ROWS)
    waiting = Referral.objects.visible_to(u).filter(department=department, status=Referral.Status.WAITING).select_related("town")
    return render(request, "monitoring/department_results.html", {
        "department": department, "month": month, "data": data, "waiting": waiting, "today": today,
        "departments": Department.objects.order_by("code") if (u.is_superuser or u.sees_everything) else [],
    })


# --- the indicator ----------------------------------------------------------------------------------
@permission_required(VIEW_ALERT, raise_exception=True)
def indicator_page(request):
    """Recipients' in-policy self-pay ratio before and after assistance (high-cost export), by month,
    category and town, for a year; and the open work per town."""
    from yfbz.core.params import parse_int

    from .indicator import CUTS, open_work_by_town, self_pay

    today = timezone.localdate()
    year = parse_int(request.GET["year"], "年度", low=2000, high=2100) if request.GET.get("year") else today.year
    tables = [(label, self_pay(request.user, year, by)) for by, label in CUTS.items()]
    return render(request, "monitoring/indicator.html", {
        "year": year, "tables": tables, "open_work": open_work_by_town(request.user, today),
        "years": sorted({today.year, today.year - 1, year}, reverse=True),
    })
