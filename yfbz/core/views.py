from auditlog.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from . import health
from .roles import Role


@login_required
def home(request):
    from .context_processors import home_panels, todo_items

    return render(
        request, "home.html", {"roles": sorted(r.value for r in request.user.roles), "todo": todo_items(request.user),
                               "panels": home_panels(request.user)}
    )


@never_cache
def healthz(request):
    checks = {
        "database": health.check_database(),
        "broker": health.check_broker(),
        "pdf_fonts": health.check_pdf_fonts(),
    }
    # database and broker are required; the PDF fonts only slow printing down
    ok = checks["database"][0] and checks["broker"][0]
    body = {"status": "ok" if ok else "error"}
    body.update({name: {"ok": good, "detail": detail} for name, (good, detail) in checks.items()})
    # the last verify_books (yfbz.core.books): reported, not a reason to take the site out of service
    from .books import last

    books = last()
    body["books"] = ({"ok": books.ok, "detail": books.summary, "ran_at": books.ran_at.isoformat()} if books
                     else {"ok": None, "detail": "尚未核对"})
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})


@login_required
def audit_log(request):
    """The audit trail, for auditors (三权分立: not the administrators whose acts it records).
    Append-only: nothing here edits it."""
    from .display import audit_changes, prime_audit_memo

    entries = _audit_entries(request)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    memo: dict = {}  # the objects the page's entries refer to, named in one query per kind (issue 14)
    prime_audit_memo(page.object_list, memo)
    for entry in page.object_list:
        entry.changes_in_words = audit_changes(entry, memo)
    return render(request, "core/audit_log.html", {"page": page})


def may_audit(user) -> bool:
    return user.is_superuser or user.has_role(Role.AUDITOR)


def _audit_entries(request):
    from .params import parse_date

    user = request.user
    if not may_audit(user):
        raise PermissionDenied("只有审计人员可以查看审计日志")
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
    if q := request.GET.get("object", "").strip():
        entries = entries.filter(object_repr__icontains=q[:200])
    if who := request.GET.get("actor", "").strip():
        entries = entries.filter(actor__username=who[:150])
    if text := request.GET.get("from", "").strip():
        entries = entries.filter(timestamp__date__gte=parse_date(text, "起始日期"))
    if text := request.GET.get("to", "").strip():
        entries = entries.filter(timestamp__date__lte=parse_date(text, "截止日期"))
    return entries


AUDIT_EXPORT_MAX = 200_000
#: entries built in the request within ~150 ms; more is a job. Measured on the bench's 478 entries: 0.26–0.5 ms an
#: entry at load 2, 2.5 ms at load 5 — auditlog's ``changes_display_dict`` (dates parsed by dateutil per field)
#: is most of it (docs/scaling.md "Exports")
AUDIT_INLINE_ROWS = 100


def audit_xlsx(entries) -> bytes:
    from django.utils import timezone

    from .display import AUDIT_ACTIONS, audit_changes, audit_object, prime_audit_memo
    from .exports import stream
    from .spreadsheets import write_xlsx

    def rows(chunk=2000):
        # the objects the entries refer to are named a chunk at a time, one query per kind of object
        memo: dict = {}
        batch: list = []
        for e in [*stream(entries[:AUDIT_EXPORT_MAX], chunk), None]:
            if e is not None:
                batch.append(e)
                if len(batch) < chunk:
                    continue
            memo.clear()
            prime_audit_memo(batch, memo)
            for e in batch:
                yield [e.pk, timezone.localtime(e.timestamp).strftime("%Y-%m-%d %H:%M:%S"), str(e.actor or "系统"),
                       AUDIT_ACTIONS.get(e.action, str(e.action)), e.content_type.name if e.content_type_id else "",
                       audit_object(e),
                       "；".join(f"{field}：{before} → {after}" for field, before, after in audit_changes(e, memo)),
                       e.remote_addr or ""]
            batch = []

    return write_xlsx("审计日志", ["编号", "时间", "操作人", "动作", "对象类型", "对象", "变更（前 → 后）", "地址"], rows())


def audit_file_name() -> str:
    from django.utils import timezone

    return f"审计日志-{timezone.localdate():%Y%m%d}.xlsx"


def register_exports() -> None:
    from . import exports

    def entries(user, params):  # the file holds the first AUDIT_EXPORT_MAX of them (audit_xlsx)
        return _audit_entries(exports.Asked(user, params))

    exports.register("core.audit", title="审计日志", permission=may_audit, rows=entries,
                     build=lambda user, params, full: (audit_xlsx(entries(user, params)), audit_file_name()),
                     inline_rows=AUDIT_INLINE_ROWS)


@login_required
def audit_export(request):
    """The audit trail as xlsx for auditors (the same filters as the page); the export itself is an
    access entry, written when it is asked for (a job's file is built later as the auditor who asked).
    Values are as recorded (ID and phone numbers masked in the trail)."""
    from .exports import offload
    from .pii import record_access

    entries = _audit_entries(request)
    record_access(user=request.user, what="导出审计日志", model=LogEntry, reason="审计检查",
                  detail=request.GET.urlencode()[:500])
    if (queued := offload(request, "core.audit", full=False)) is not None:
        return queued  # over the limit: built by a task, downloaded from the job's page (issue 14)
    from .uploads import attachment_response

    return attachment_response(audit_xlsx(entries), file_name=audit_file_name(),
                               content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def csrf_failure(request, reason=""):
    return render(request, "403.html", {"exception": "页面已过期或来源无法验证（安全校验未通过），请刷新页面后重新提交。"}, status=403)


@login_required
def job_rerun(request, label, pk):
    """"重新运行" of any job row (yfbz.core.jobs): a failed job, or one whose worker died."""
    from django.contrib import messages
    from django.http import Http404, HttpResponseNotAllowed
    from django.shortcuts import get_object_or_404, redirect
    from django.utils.http import url_has_allowed_host_and_scheme

    from . import jobs
    from .errors import YfbzError

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    model = jobs.REGISTRY.get(label)
    if model is None:
        raise Http404("没有这种任务")
    obj = get_object_or_404(model._base_manager, pk=pk)
    try:
        jobs.rerun(obj, by=request.user)
        messages.success(request, f"{obj}：已重新排队运行。")
    except YfbzError as exc:
        messages.error(request, str(exc))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)


def _my_export(request, pk):
    from django.shortcuts import get_object_or_404

    from .models import ExportJob

    # an export's file is for the one who asked (it holds their area's rows): anyone else gets a 404
    return get_object_or_404(ExportJob.objects.all(), pk=pk, requested_by=request.user)


@login_required
def export_list(request):
    """The user's own exports built in the background, newest first (only theirs: the files hold their area)."""
    from django.shortcuts import render

    from .models import ExportJob

    jobs_ = ExportJob.objects.filter(requested_by=request.user).order_by("-requested_at", "-id")[:50]
    return render(request, "core/export_list.html", {"jobs": jobs_})


@login_required
def export_detail(request, pk):
    """A large export built in the background (yfbz.core.exports): its state, and the file when ready."""
    from django.shortcuts import render

    from . import jobs
    from .exports import KINDS, params_of

    job = _my_export(request, pk)
    kind = KINDS.get(job.kind)
    document = kind is not None and kind.document
    back = kind.back(params_of(job.params)) if document and kind.back else None
    stalled = jobs.stalled(job)  # its worker died, or its message was lost: 重新运行, not waiting forever
    return render(request, "core/export_job.html", {
        "job": job, "document": document, "back": back, "stalled": stalled,
        "pending": job.status in job.JOB.pending and not stalled,
    })


@login_required
def export_download(request, pk):
    from django.http import Http404

    from .models import ExportJob
    from .pii import record_access
    from .uploads import attachment_response

    job = _my_export(request, pk)
    if job.status != ExportJob.Status.DONE:
        raise Http404("文件尚未生成")
    if job.full:  # the file holds full numbers: each download is an access entry of its own
        record_access(user=request.user, what=f"下载{job.file_name}", model=ExportJob,
                      reason="下载后台生成的导出文件（申请时已记录原因）", detail=f"导出任务{job.pk}")
    data = ExportJob.objects.filter(pk=job.pk).values_list("data", flat=True).first()
    ext = job.file_name.rpartition(".")[2]
    from .downloads import CONTENT_TYPES

    return attachment_response(bytes(data), file_name=job.file_name,
                               content_type=CONTENT_TYPES.get(ext, "application/octet-stream"))
