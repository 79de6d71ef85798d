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
    page, except logging in and out and their own password and second factor."""

    SAFE = ("GET", "HEAD", "OPTIONS")
    OWN = ("/accounts/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (request.method not in self.SAFE and user is not None and user.is_authenticated
                and is_read_only(user) and not request.path.startswith(self.OWN)):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("审计岗位只能查看，不能修改任何数据（包括打印决定书、生成批次等会占用文号的操作）。")
        return self.get_response(request)


def is_read_only(user) -> bool:
    from .roles import READ_ONLY_ROLES

    return not user.is_superuser and bool(user.roles) and user.roles <= READ_ONLY_ROLES
