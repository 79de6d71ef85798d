"""Login lockout as a sliding window (issue 9: "lockout after 5 failures in 15 minutes for 30 minutes,
per account and per address").

django-axes records the failures and refuses a locked login; it counts failures with one counter per
attempt row that only resets after ``AXES_COOLOFF_TIME`` without a failure, so 4 failures in the
morning and 1 in the afternoon would lock. This handler keeps axes's records, its admin (解除锁定) and
its reset on a successful login, and changes only what counts:

- every failure's time is kept (``LoginFailure``, under axes's attempt row, deleted with it);
- an account — and, separately, an address (``AXES_LOCKOUT_PARAMETERS``) — is locked when
  ``AXES_FAILURE_LIMIT`` (5) of its failures fall within ``YFBZ_LOGIN_FAILURE_WINDOW`` (15 minutes),
  and stays locked for ``AXES_COOLOFF_TIME`` (30 minutes) after the failure that locked it;
- failures older than the window no longer count; failures while locked are not recorded, so the
  lock ends 30 minutes after it began (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.utils import timezone


def window() -> timedelta:
    return getattr(settings, "YFBZ_LOGIN_FAILURE_WINDOW", timedelta(minutes=15))


def failures_that_count(times: list[datetime], now: datetime, *, limit: int, window: timedelta,
                        cool_off: timedelta) -> int:
    """``limit`` when locked at ``now`` (some ``limit`` failures within ``window`` of each other, the
    last of them less than ``cool_off`` ago), else the number of failures within the last ``window``."""
    times = sorted(times)
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= window and now - times[i] < cool_off:
            return limit
    return sum(1 for t in times if now - t <= window)


class SlidingWindowHandler(AxesDatabaseHandler):
    def post_save_access_attempt(self, instance, **kwargs):
        """axes saves its attempt row exactly once per recorded failure: keep that failure's time."""
        from .models import LoginFailure

        LoginFailure.objects.create(attempt=instance, at=instance.attempt_time or timezone.now())

    def get_failures(self, request, credentials=None) -> int:
        from .models import LoginFailure

        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        limit = get_failure_limit(request, credentials)
        cool_off = get_cool_off(request) or timedelta(minutes=30)
        span = window()
        worst = 0
        for attempts in self.filter_user_attempts(request, credentials):  # per account, per address
            times = list(LoginFailure.objects.filter(attempt__in=attempts, at__gt=now - cool_off - span)
                         .values_list("at", flat=True))
            worst = max(worst, failures_that_count(times, now, limit=limit, window=span, cool_off=cool_off))
        return worst
