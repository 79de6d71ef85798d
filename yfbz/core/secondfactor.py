"""A second factor at login (django-otp, TOTP): 等保2.0 level 3 asks for two kinds of
authentication (GB/T 22239-2019 8.1.4.1 d). Required, when ``settings.YFBZ_OTP_REQUIRED`` is on
(default: on in production mode), for the roles that move money or grant access
(``roles.SECOND_FACTOR_ROLES``: reviewer, finance, both administrators); optional for the others,
and required from then on for anyone who has enrolled a device.

A member of staff enrols their own phone at /accounts/otp/setup/ (a QR code for any TOTP app); the
security administrator resets a lost device by deleting it in the admin (记入审计日志).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect

from .roles import SECOND_FACTOR_ROLES

ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz")


def has_device(user) -> bool:
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))


def second_factor_needed(user) -> bool:
    if not settings.YFBZ_OTP_REQUIRED or not user.is_authenticated:
        return False
    if user.is_verified():
        return False
    return user.is_superuser or bool(user.roles & SECOND_FACTOR_ROLES) or has_device(user)


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: a user who must give a second factor and has not, in this
    session, is sent to enrol a device (none yet) or to type the current code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and not request.path.startswith(ALLOWED_PREFIXES) and second_factor_needed(user):
            return redirect("otp-verify" if has_device(user) else "otp-setup")
        return self.get_response(request)
