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
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})


@login_required
def audit_log(request):
    """The audit trail, for auditors (三权分立: not the administrators whose acts it records).
    Append-only: nothing here edits it."""
    user = request.user
    if not (user.is_superuser or user.has_role(Role.AUDITOR)):
        raise PermissionDenied("只有审计人员可以查看审计日志")
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
    if q := request.GET.get("object"):
        entries = entries.filter(object_repr__icontains=q)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"page": page})
