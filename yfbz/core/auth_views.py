"""Login-related pages: password change (first login, every 90 days), second-factor enrolment and
verification (django-otp TOTP), the lockout page (django-axes)."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .passwords import password_expired


class PasswordChange(PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["must_change"] = password_expired(self.request.user)
        return ctx

    def form_valid(self, form):
        user = form.save(commit=False)
        user.password_changed_at = timezone.now()
        user.save()
        update_session_auth_hash(self.request, user)
        messages.success(self.request, "密码已修改。")
        return redirect(self.get_success_url())


def _qr_data_uri(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def _token(request) -> str:
    return "".join(ch for ch in request.POST.get("token", "") if ch.isdigit())[:8]


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Enrol one's own phone: scan the QR code with a TOTP app, type the code it shows."""
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        messages.info(request, "您已绑定动态口令设备。如手机丢失，请联系安全管理员重置。")
        return redirect("otp-verify" if not user.is_verified() else "home")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name="手机动态口令", confirmed=False
    )
    error = None
    if request.method == "POST":
        if device.verify_token(_token(request)):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            from .audit import audit_bulk

            audit_bulk(actor=user, what="绑定动态口令设备", summary={"工作人员": user.username}, model=TOTPDevice)
            messages.success(request, "动态口令设备已绑定。以后登录时除密码外还须输入手机上显示的6位数字。")
            return redirect("home")
        error = "动态口令不正确，请输入手机上当前显示的6位数字（注意手机时间须准确）。"
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(request, "registration/otp_setup.html", {
        "qr": _qr_data_uri(device.config_url), "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "error": error,
    })


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    from django_otp import login as otp_login
    from django_otp import match_token

    error = None
    if request.method == "POST":
        device = match_token(request.user, _token(request))
        if device is not None:
            otp_login(request, device)
            return redirect(request.GET.get("next") or "home")
        error = "动态口令不正确或已过期，请输入手机上当前显示的6位数字。"
    return render(request, "registration/otp_verify.html", {"error": error})


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes: too many failed logins for this account or this address (AXES_LOCKOUT_CALLABLE)."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked.html", {"minutes": minutes, "limit": settings.AXES_FAILURE_LIMIT},
                  status=429)
