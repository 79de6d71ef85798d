"""Sessions that end after ``SESSION_COOKIE_AGE`` seconds without a request (等保: 登录连接超时自动退出),
renewed at most once every ``SESSION_RENEW_AFTER`` seconds instead of on every request.

``SESSION_SAVE_EVERY_REQUEST`` wrote the session row (an UPDATE and a commit) and sent a new cookie with
every page: at 20 users that is a write per page view for nothing but moving the expiry a few seconds.
Here the store remembers the row's expiry when it reads it, and ``IdleRenewal`` marks the session
modified only when the expiry is more than ``SESSION_RENEW_AFTER`` (60 s) behind a fresh one, so
Django's ``SessionMiddleware`` saves it and re-sends the cookie. A session therefore ends between
``AGE − RENEW_AFTER`` and ``AGE`` seconds after its last request (29–30 minutes), never later.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.utils import timezone


def renew_after() -> int:
    return int(getattr(settings, "SESSION_RENEW_AFTER", 60))


class SessionStore(DbStore):
    """Django's database store, remembering the expiry of the row it read."""

    stored_expiry = None

    def _get_session_from_db(self):
        s = super()._get_session_from_db()
        self.stored_expiry = s.expire_date if s is not None else None
        return s


class IdleRenewal:
    """After ``SessionMiddleware`` in ``MIDDLEWARE``: its response phase runs first and asks for the save."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.modified or not session.accessed or session.is_empty():
            return response
        stored = getattr(session, "stored_expiry", None)
        fresh = timezone.now() + timedelta(seconds=session.get_expiry_age())
        if stored is None or fresh - stored > timedelta(seconds=renew_after()):
            session.modified = True  # SessionMiddleware saves it: a new expiry in the row and the cookie
        return response
