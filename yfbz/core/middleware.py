from django.conf import settings

# Paths anyone may reach: the login page itself, the health check, static files.
PUBLIC_PREFIXES = ("/accounts/login/", "/healthz", "/" + settings.STATIC_URL.lstrip("/"), "/admin/login/")


class LoginRequiredEverywhere:
    """Every page needs a logged-in member of staff, the admin included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)




class ReadOnlyRoles:
    """The auditor changes nothing and allocates nothing (issue 9, finding 8): a member of staff whose
    only roles are read-only ones (审计) is refused every POST, PUT, PATCH and DELETE, whatever the
    page, except logging in and out and their own password and second factor, and the views marked
    ``read_only_allowed`` (a POST that only asks for something to be read, e.g. 查看 an issued notice:
    the view and its service keep the role from changing anything)."""

    SAFE = ("GET", "HEAD", "OPTIONS")
    OWN = ("/accounts/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if (request.method not in self.SAFE and user is not None and user.is_authenticated
                and is_read_only(user) and not request.path.startswith(self.OWN)
                and not getattr(view_func, "read_only_allowed", False)):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("审计岗位只能查看，不能修改任何数据（包括打印决定书、生成批次等会占用文号的操作）。")
        return None


def read_only_allowed(view):
    """Mark a view whose POST a read-only role may send (``ReadOnlyRoles``): it must change no data the
    role may not change — the view (and the service it calls) checks ``is_read_only`` itself. Put it
    outermost, above ``login_required`` and the others."""
    view.read_only_allowed = True
    return view


def is_read_only(user) -> bool:
    from .roles import READ_ONLY_ROLES

    return not user.is_superuser and bool(user.roles) and user.roles <= READ_ONLY_ROLES


# --- a conflict between two people's simultaneous actions ---------------------------------------
# SQLSTATEs PostgreSQL gives when it had to give up one of two transactions: deadlock, serialization
# failure, lock not available (NOWAIT). The losing transaction was rolled back as a whole.
CONFLICT_SQLSTATES = {"40P01", "40001", "55P03"}
CONFLICT_MESSAGE = "操作冲突，请重试"


def is_conflict(exc: BaseException) -> bool:
    """Whether a database error (or anything it caused) means "another action ran at the same
    moment and the database gave up this one" — worth retrying, never a defect of the data."""
    from django.db import DatabaseError

    seen, depth = exc, 0
    while seen is not None and depth < 10:
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if state in CONFLICT_SQLSTATES:
            return True
        if isinstance(seen, DatabaseError) and "database is locked" in str(seen):  # SQLite's busy timeout
            return True
        seen, depth = seen.__cause__ or seen.__context__, depth + 1
    return False


class ConflictMiddleware:
    """A deadlock or serialization failure that reaches a user is a Chinese 409 page, not a 500.

    The database rolled back the losing transaction entirely (services are atomic), so nothing of
    the action is half-applied and retrying is safe: the page says so and offers the way back. The
    event is logged for the developers. Background jobs say the same through ``yfbz.core.jobs.reason``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_conflict(exception):
            return None
        import logging

        from django.db import connection
        from django.http import HttpResponse
        from django.shortcuts import render
        from django.template.loader import render_to_string

        logging.getLogger("yfbz.conflict").warning("conflict on %s %s: %s", request.method, request.get_full_path(),
                                                   str(exception).splitlines()[0] if str(exception) else "",
                                                   exc_info=exception)
        context = {"message": CONFLICT_MESSAGE, "back": _same_site_referer(request)}
        if connection.in_atomic_block and connection.needs_rollback:  # the page cannot read the database now
            return HttpResponse(render_to_string("409_plain.html", context), status=409)
        try:
            return render(request, "409.html", context, status=409)
        except Exception:  # noqa: BLE001 - the layout needs the database; the plain page does not
            return HttpResponse(render_to_string("409_plain.html", context), status=409)


def _same_site_referer(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    ref = request.META.get("HTTP_REFERER", "")
    if ref and url_has_allowed_host_and_scheme(ref, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return ref
    return request.path if request.method in ("GET", "HEAD") else ""
