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


