"""Password rules of 等保2.0 level 3 (GB/T 22239-2019 8.1.4.1 a: 口令具有复杂度要求并定期更换).

- at least 10 characters (settings: MinimumLengthValidator) of at least three kinds of
  upper-case letters, lower-case letters, digits and other characters (``CharacterKindsValidator``);
- not the username, nor containing it (``NotUsernameValidator``), nor a common password;
- changed at the first login (an account made or reset by the security administrator has
  ``password_changed_at`` empty) and every ``YFBZ_PASSWORD_MAX_AGE_DAYS`` (90) days: until then every
  page leads to the password change page (``PasswordPolicyMiddleware``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone


class CharacterKindsValidator:
    def __init__(self, kinds: int = 3):
        self.kinds = kinds

    def validate(self, password, user=None):
        found = sum((
            any(c.isupper() and c.isascii() for c in password),
            any(c.islower() and c.isascii() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() or not c.isascii() for c in password),
        ))
        if found < self.kinds:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、其他符号中的至少{self.kinds}种。", code="password_kinds"
            )

    def get_help_text(self):
        return f"密码须包含大写字母、小写字母、数字、其他符号中的至少{self.kinds}种。"


class NotUsernameValidator:
    def validate(self, password, user=None):
        name = (getattr(user, "username", "") or "").lower()
        if name and name in password.lower():
            raise ValidationError("密码不能包含用户名。", code="password_has_username")

    def get_help_text(self):
        return "密码不能包含用户名。"


def password_expired(user) -> bool:
    changed = getattr(user, "password_changed_at", None)
    if changed is None:
        return True
    return timezone.now() - changed > timedelta(days=settings.YFBZ_PASSWORD_MAX_AGE_DAYS)


# paths a user whose password must change may still reach
ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz")


class PasswordPolicyMiddleware:
    """A logged-in user whose password was set by someone else or is older than the limit changes it
    before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(ALLOWED_PREFIXES)
                and password_expired(user)):
            return redirect("password-change")
        return self.get_response(request)
