"""Roster pages: upload and list, one roster (summary, progress, rows, workflow), town review, the
errors download, the duty board and the retroactive changes. Every query starts from selectors
(visible_to); every change goes through services."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yfbz.core import jobs
from yfbz.core.errors import YfbzError
from yfbz.core.paging import EstimatedPaginator
from yfbz.core.roles import Role
from yfbz.core.workflow import history_of

from . import selectors, services, towncounts
from .exports import roster_issues_xlsx
from .forms import RosterUploadForm
from .models import Department, RosterRow, RosterUpload, Town


def _upload_departments(user):
    if user.is_superuser or user.has_role(Role.DISTRICT_CLERK, Role.SYSADMIN):
        return Department.objects.all()
    if user.has_role(Role.DEPT_OFFICER) and user.department_id:
        return Department.objects.filter(pk=user.department_id)
    return Department.objects.none()


def _refuse(request, exc):
    messages.error(request, exc.messages[0] if isinstance(exc, ValidationError) else (str(exc) or "无权执行该操作"))


@login_required
def roster_list(request):
    departments = _upload_departments(request.user)
    form = None
    if departments.exists():
        form = RosterUploadForm(request.POST or None, request.FILES or None, departments=departments)
        if request.method == "POST" and form.is_valid():
            f = form.cleaned_data["file"]
            try:
                result = services.roster_upload_create(
                    user=request.user, department=form.cleaned_data["department"], month=form.cleaned_data["month"],
                    mode=form.cleaned_data["mode"], file_name=f.name, data=f.read(),
                )
            except (ValidationError, PermissionDenied, YfbzError) as exc:
                _refuse(request, exc)
            else:
                (messages.success if result.created else messages.info)(request, result.message)
                return redirect("beneficiaries:roster-detail", result.upload.pk)
    elif request.method == "POST":
        raise PermissionDenied("无权上传名单")
    uploads = selectors.uploads_for(request.user).order_by("-month", "-id")
    if status := request.GET.get("status"):
        uploads = uploads.filter(status=status)
    page = Paginator(uploads, 30).get_page(request.GET.get("page"))
    for u in page:
        u.figures = _list_figures(request.user, u)
    return render(request, "beneficiaries/roster_list.html", {
        "form": form, "page": page, "statuses": RosterUpload.Status.choices,
    })


def _row_filter(request, rows):
    outcome = request.GET.get("outcome")
    if outcome == "issues":
        rows = rows.filter(Q(outcome=RosterRow.Outcome.INVALID) | ~Q(warnings=[]))
    elif outcome in RosterRow.Outcome.values:
        rows = rows.filter(outcome=outcome)
    if (review := request.GET.get("review")) in RosterRow.Review.values:
        rows = rows.filter(review=review)
    if (town := request.GET.get("town", "")).isdigit():
        rows = rows.filter(town_id=int(town))
    return rows


@login_required
def roster_detail(request, pk):
    upload = selectors.upload_for(request.user, pk)
    user = request.user
    rows = selectors.rows_for(user, upload)
    # the towns' figures are counted at check time and kept by the review moves (issue 14: the page read
    # the upload's 652,886 rows for them); a town clerk's counts are their town's only
    counts = towncounts.for_user(user, upload)
    by_town = [c for c in counts if c.reviewable]
    pending_in_towns = sum(c.pending for c in counts if c.town_id is not None)
    page = EstimatedPaginator(_row_filter(request, rows).order_by("row_number", "id"), 50).get_page(request.GET.get("page"))
    is_town_clerk = services.can_review(user)
    can_confirm = services.can_confirm(user, upload)
    if not (can_confirm and upload.status == RosterUpload.Status.TOWN_REVIEW):
        pending_total = 0  # shown beside the confirm button only
    elif _sees_whole_roster(user, upload):
        pending_total = pending_in_towns  # by_town covers the whole upload
    else:
        pending_total = services.pending_review_count(upload)
    job = services.latest_job(upload) if upload.status in (RosterUpload.Status.UPLOADED, RosterUpload.Status.CONFIRMING) else None
    context = {
        "upload": upload,
        "summary": _summary_for(user, upload, counts),
        "progress": _progress_for(user, upload),
        "job": job,
        "job_stopped": job is not None and (job.status == job.Status.FAILED or jobs.stalled(job)),
        "page": page,
        "by_town": by_town,
        "history": history_of(upload),
        "can_upload": services.can_upload(user, upload.department),
        "can_confirm": can_confirm,
        "can_review": is_town_clerk and upload.status == RosterUpload.Status.TOWN_REVIEW,
        # a town clerk's rows are their town's: by_town holds them
        "my_pending": sum(c.pending for c in counts) if is_town_clerk else 0,
        "pending_total": pending_total,
        "review_deadline": services.review_deadline(upload) if upload.submitted_at else None,
        "review_overdue": upload.status == RosterUpload.Status.TOWN_REVIEW and services.review_overdue(upload),
        "max_share": services.max_ending_share() * 100,
        "outcomes": RosterRow.Outcome.choices,
        "reviews": RosterRow.Review.choices,
    }
    return render(request, "beneficiaries/roster_detail.html", context)


def _sees_whole_roster(user, upload) -> bool:
    """District staff and the sending department see the whole file's figures; a town clerk sees only
    the figures of their own town's rows (issue 9, finding 10: no other town's totals)."""
    return user.is_superuser or user.sees_everything or (user.has_role(Role.DEPT_OFFICER)
                                                          and user.department_id == upload.department_id)


def _list_figures(user, upload) -> dict:
    if _sees_whole_roster(user, upload):
        return {"rows": upload.rows_total, "invalid": upload.rows_invalid, "new": upload.count_new,
                "changed": upload.count_changed, "ended": upload.count_ended}
    return _summary_for(user, upload)


def _summary_for(user, upload, counts=None) -> dict:
    if _sees_whole_roster(user, upload):
        return {"rows": upload.rows_total, "valid": upload.rows_valid, "invalid": upload.rows_invalid,
                "new": upload.count_new, "continuing": upload.count_continuing, "changed": upload.count_changed,
                "ended": upload.count_ended, "previous_open": upload.previous_open, "whole": True}
    counts = towncounts.for_user(user, upload) if counts is None else counts
    return {**towncounts.summed(counts), "previous_open": None, "whole": False}


def _progress_for(user, upload) -> dict:
    progress = services.roster_progress(upload)
    if not _sees_whole_roster(user, upload):  # the file's row count is other towns' business: a percentage
        total = progress["total"] or 0
        progress = {**progress, "done": int(100 * progress["done"] / total) if total else 0, "total": 100 if total else 0}
    return progress


@login_required
def roster_progress(request, pk):
    upload = selectors.upload_for(request.user, pk)
    return JsonResponse(_progress_for(request.user, upload), json_dumps_params={"ensure_ascii": False})


@login_required
def roster_issues(request, pk):
    from yfbz.core.downloads import download
    from yfbz.core.exports import offload
    from yfbz.core.pii import full_numbers_requested

    from .exports import issue_rows, issues_name

    upload = selectors.upload_for(request.user, pk)
    full = full_numbers_requested(request, what=f"导出名单{upload.pk}的错误和提示（含完整号码）", model=RosterUpload, obj=upload)
    if (queued := offload(request, "beneficiaries.roster_issues", full=full, extra={"upload": upload.pk},
                          title=f"{''.join(issues_name(upload))}")) is not None:
        return queued  # over the limit: built by a task, downloaded from the job's page (issue 14)
    return download(roster_issues_xlsx(upload, issue_rows(request.user, upload), full=full), *issues_name(upload),
                    ext="xlsx", full=full)


@login_required
@require_POST
def roster_action(request, pk):
    upload = selectors.upload_for(request.user, pk)
    action = request.POST.get("action")
    user = request.user
    try:
        if action == "submit":
            services.roster_submit(upload=upload, user=user)
            messages.success(request, "已提交镇街审核")
        elif action == "revalidate":
            services.roster_revalidate(upload=upload, user=user)
            messages.success(request, "已开始重新校验")
        elif action == "rerun":
            services.roster_rerun(upload=upload, user=user)
            messages.info(request, "任务已重新排队")
        elif action == "reject":
            services.roster_reject(upload=upload, user=user, reason=request.POST.get("reason", ""))
            messages.success(request, "名单已退回")
        elif action == "confirm":
            services.roster_confirm(upload=upload, user=user, confirm_endings=request.POST.get("confirm_endings") == "1",
                                    overdue_reason=request.POST.get("overdue_reason", ""))
            messages.success(request, "已确认，名单正在生效")
        else:
            messages.error(request, "未知操作")
    except (ValidationError, PermissionDenied, YfbzError) as exc:
        _refuse(request, exc)
    return redirect("beneficiaries:roster-detail", upload.pk)


@login_required
@require_POST
def roster_review(request, pk):
    upload = selectors.upload_for(request.user, pk)
    decision = request.POST.get("decision")
    row_ids = None
    if request.POST.get("row"):
        # the row must be one this clerk can see: the service also restricts to their town
        row = get_object_or_404(selectors.rows_for(request.user, upload), pk=request.POST["row"])
        row_ids = [row.pk]
    try:
        n = services.roster_rows_review(
            upload=upload, user=request.user, row_ids=row_ids, accept=decision != "send_back",
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, f"已{'接受' if decision != 'send_back' else '退回'}{n}行")
    except (ValidationError, PermissionDenied, YfbzError) as exc:
        _refuse(request, exc)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("beneficiaries:roster-detail", args=[upload.pk])
    return redirect(back)


@login_required
def duty_board(request):
    today = timezone.localdate()
    month = today.replace(day=1)
    if text := request.GET.get("month"):
        from yfbz.core.params import BadParameter, parse_month

        try:
            month = parse_month(text)
        except BadParameter as exc:
            messages.error(request, str(exc))
    if not (request.user.is_superuser or request.user.roles):
        raise PermissionDenied("无权查看")
    return render(request, "beneficiaries/duty_board.html", {"board": selectors.duty_board(month), "today": today})


@login_required
def retroactive_list(request):
    """The changes that need staff (by default), what each reaches and the money at stake; district
    staff close many at once. Town clerks see their town's changes and no action they cannot take."""
    from django.db.models import Sum

    from .filters import RetroactiveChangeFilter
    from .models import RetroactiveChange

    if not request.user.has_perm("beneficiaries.view_identity"):
        raise PermissionDenied("无权查看")
    changes = selectors.retroactive_changes_for(request.user)
    rosters = RosterUpload.objects.filter(pk__in=changes.values("roster_upload")).select_related("department")
    f = RetroactiveChangeFilter(request.GET, queryset=changes.order_by("-created_at", "-id"), rosters=rosters)
    if not (request.user.is_superuser or request.user.sees_everything):
        f.filters["town"].queryset = Town.objects.filter(pk=request.user.town_id)  # a town clerk's own town only
    qs = f.qs
    totals = qs.aggregate(decisions=Sum("decisions_reached"), lines=Sum("lines_reached"), decided=Sum("amount_reached"),
                          estimate=Sum("amount_estimate"))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "beneficiaries/retroactive_list.html", {
        "filter": f, "page": page, "totals": totals, "can_act": services.can_handle_retroactive(request.user),
        "waiting_count": changes.filter(status__in=RetroactiveChange.WAITING).count(),
    })


@login_required
@require_POST
def retroactive_bulk(request):
    """Close the selected waiting changes with a reason, or check again what they reach (closing
    those that reach nothing)."""
    if not services.can_handle_retroactive(request.user):
        raise PermissionDenied("只有区医保经办或审核人员可以处理追溯变化")
    ids = [int(i) for i in request.POST.getlist("change") if i.isdigit()]
    back = request.POST.get("next") or reverse("beneficiaries:retroactive-list")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("beneficiaries:retroactive-list")
    if not ids:
        messages.error(request, "请先勾选追溯变化")
        return redirect(back)
    try:
        if request.POST.get("action") == "check":
            reaching, closed = services.retroactive_changes_check(change_ids=ids, user=request.user)
            messages.success(request, f"已核查{len(ids)}条：{reaching}条涉及已核定救助，{closed}条未涉及、已关闭")
        else:
            n = services.retroactive_changes_close(change_ids=ids, user=request.user, note=request.POST.get("note", ""))
            messages.success(request, f"已关闭{n}条追溯变化")
    except (ValidationError, PermissionDenied, YfbzError) as exc:
        _refuse(request, exc)
    return redirect(back)
