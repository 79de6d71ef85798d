"""Authentication of 等保2.0 level 3 (issue 9, finding 6): lockout after 5 failures per account and per
address, a password policy, 30 minutes idle ends a session, a second factor for the roles that move
money or grant access."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from yfbz.core.models import User
from yfbz.core.roles import Role

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_account_and_then_the_right_one_is_refused_in_chinese(staff):
    client = Client()
    for _ in range(4):
        assert _login(client, "district_clerk", "wrong-Password-1").status_code == 200
    assert _login(client, "district_clerk", "wrong-Password-1").status_code == 429  # the fifth locks
    resp = _login(client, "district_clerk", PASSWORD)
    assert resp.status_code == 429
    text = resp.content.decode()
    assert "已被锁定30分钟" in text and "安全管理员" in text
    assert "_auth_user_id" not in client.session
    # from another address too: the account itself is locked
    assert _login(Client(), "district_clerk", PASSWORD, ip="10.0.0.99").status_code == 429


def test_five_failures_from_one_address_lock_that_address_for_every_account(staff):
    client = Client()
    for name in ("a1", "a2", "a3", "a4", "a5"):
        _login(client, name, "wrong-Password-1", ip="10.9.9.9")
    assert _login(client, "reviewer", PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(Client(), "reviewer", PASSWORD, ip="10.1.1.1").status_code == 302  # elsewhere: fine


def _age(minutes: float):
    """Let time pass for the lockout: every recorded failure happened ``minutes`` earlier."""
    from axes.models import AccessAttempt
    from django.db.models import F

    from yfbz.core.models import LoginFailure

    d = timedelta(minutes=minutes)
    LoginFailure.objects.update(at=F("at") - d)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - d)


def test_failures_spread_over_more_than_15_minutes_do_not_lock(staff):
    """A sliding window, not a running count: 4 wrong passwords, a coffee, 1 more — not locked."""
    client = Client()
    for _ in range(4):
        assert _login(client, "district_clerk", "wrong-Password-1").status_code == 200
    _age(16)
    assert _login(client, "district_clerk", "wrong-Password-1").status_code == 200  # only 1 in the window
    assert _login(client, "district_clerk", PASSWORD).status_code == 302


def test_five_failures_within_15_minutes_lock_however_they_are_spread(staff):
    client = Client()
    for _ in range(4):  # at minutes 0, 3.5, 7, 10.5
        assert _login(client, "district_clerk", "wrong-Password-1").status_code == 200
        _age(3.5)
    resp = _login(client, "district_clerk", "wrong-Password-1")  # minute 14: the fifth within 15 minutes
    assert resp.status_code == 429 and "已被锁定30分钟" in resp.content.decode()
    assert _login(client, "district_clerk", PASSWORD).status_code == 429


def test_the_lock_ends_30_minutes_after_it_began_whatever_is_tried_meanwhile(staff):
    client = Client()
    for _ in range(5):
        _login(client, "finance", "wrong-Password-1")
    _age(29)
    assert _login(client, "finance", "wrong-Password-1").status_code == 429  # still locked; not extended
    assert _login(client, "finance", PASSWORD).status_code == 429
    _age(2)
    assert _login(client, "finance", PASSWORD).status_code == 302
    # the successful login cleared the slate: four new failures do not lock
    client = Client()
    for _ in range(4):
        assert _login(client, "finance", "wrong-Password-1").status_code == 200
    assert _login(client, "finance", PASSWORD).status_code == 302


def test_the_lockout_settings_are_the_issues():
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.YFBZ_LOGIN_FAILURE_WINDOW == timedelta(minutes=15)
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=30)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AXES_HANDLER == "yfbz.core.lockout.SlidingWindowHandler"


def test_the_lock_lasts_30_minutes_and_the_security_administrator_can_lift_it(staff, make_user, login):
    from axes.models import AccessAttempt

    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=30) and settings.AXES_FAILURE_LIMIT == 5
    for _ in range(5):
        _login(Client(), "finance", "wrong-Password-1")
    assert _login(Client(), "finance", PASSWORD).status_code == 429
    secadmin = make_user("secadmin", Role.SECURITY_ADMIN, is_staff=True)
    resp = login(secadmin).post(reverse("admin:axes_accessattempt_changelist"), {
        "action": "unlock", "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True))})
    assert resp.status_code == 302
    assert _login(Client(), "finance", PASSWORD).status_code == 302
    # a district clerk cannot unlock anyone
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("password, why", [
    ("Yubei2025", "10"),               # the issue's example: 9 characters
    ("yubeiyubei2025", "3种"),          # two kinds only
    ("Reviewer-2025x", "用户名"),        # contains the username
])
def test_weak_passwords_are_refused(staff, password, why):
    user = staff["reviewer"]
    with pytest.raises(ValidationError) as exc:
        password_validation.validate_password(password, user)
    assert why in " ".join(exc.value.messages)


def test_a_strong_password_is_accepted(staff):
    password_validation.validate_password("Yb-2025-jiuzhu", staff["reviewer"])


def test_an_account_made_by_the_security_administrator_changes_its_password_at_first_login(staff, make_user, login):
    secadmin = make_user("secadmin", Role.SECURITY_ADMIN, is_staff=True)
    from django.contrib.auth.models import Group

    resp = login(secadmin).post(reverse("admin:core_user_add"), {
        "username": "newclerk", "password1": "Xin-Jingban-2026", "password2": "Xin-Jingban-2026",
        "usable_password": "true", "full_name": "新经办", "groups": [Group.objects.get(name=Role.DISTRICT_CLERK.value).pk],
    })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    client = Client()
    assert _login(client, "newclerk", "Xin-Jingban-2026").status_code == 302
    resp = client.get("/", follow=True)
    assert resp.redirect_chain[-1][0] == reverse("password-change")
    assert "首次登录" in resp.content.decode()
    resp = client.post(reverse("password-change"), {
        "old_password": "Xin-Jingban-2026", "new_password1": "Wo-de-mima-2026", "new_password2": "Wo-de-mima-2026"})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200
    assert User.objects.get(username="newclerk").password_changed_at is not None


def test_a_password_older_than_90_days_must_be_changed(staff, login):
    user = staff["auditor"]
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client = login(User.objects.get(pk=user.pk))
    resp = client.get("/")
    assert resp.status_code == 302 and resp.url == reverse("password-change")
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=89))
    assert client.get("/").status_code == 200


def test_a_session_ends_after_30_minutes_idle():
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_RENEW_AFTER == 60  # renewed at most once a minute: it ends 29–30 minutes idle


def test_a_session_left_idle_for_30_minutes_is_over_and_one_in_use_goes_on(staff):
    """Finding 6 said 8-hour sessions: the server keeps a session 30 minutes past its last request."""
    from django.contrib.sessions.models import Session

    client = Client()
    assert _login(client, "auditor", PASSWORD).status_code == 302
    key = client.session.session_key
    expiry = Session.objects.get(session_key=key).expire_date
    assert timedelta(minutes=29) < expiry - timezone.now() <= timedelta(minutes=30)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=5))  # 25 idle
    assert client.get("/").status_code == 200  # still in: and the request renews it to 30 minutes
    assert Session.objects.get(session_key=key).expire_date - timezone.now() > timedelta(minutes=29)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))  # 30 idle
    resp = client.get("/")
    assert resp.status_code == 302 and resp["Location"].startswith(LOGIN)


def test_the_session_cookie_is_renewed_once_its_expiry_lags_a_minute(staff):
    from django.contrib.sessions.models import Session

    client = Client()
    _login(client, "auditor", PASSWORD)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=28))  # 2 idle
    resp = client.get("/")
    assert resp.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 1800
    assert Session.objects.get(session_key=key).expire_date - timezone.now() > timedelta(minutes=29)


def test_pages_in_a_row_do_not_write_the_session_each_time(staff):
    """Issue 14: SESSION_SAVE_EVERY_REQUEST wrote the session row (UPDATE and commit) and a new cookie on every
    page view; within a minute of the last renewal a page neither writes the row nor sends the cookie."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    _login(client, "auditor", PASSWORD)
    client.get("/")
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/")
    assert resp.status_code == 200
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]]
    assert writes == []
    assert settings.SESSION_COOKIE_NAME not in resp.cookies


# --- the second factor ---------------------------------------------------------------------------
def _totp(device):
    from django_otp.oath import totp

    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def otp_on(settings):
    settings.YFBZ_OTP_REQUIRED = True


def test_with_the_second_factor_on_a_reviewer_must_enrol_then_give_the_code(staff, otp_on):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    _login(client, "reviewer", PASSWORD)
    resp = client.get("/")
    assert resp.status_code == 302 and resp.url == reverse("otp-setup")
    page = client.get(reverse("otp-setup")).content.decode()
    assert "data:image/svg+xml" in page and "6位数字" in page
    device = TOTPDevice.objects.get(user=staff["reviewer"])
    assert "不正确" in client.post(reverse("otp-setup"), {"token": "000000" if _totp(device) != "000000" else "111111"}).content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    device.refresh_from_db()
    assert client.post(reverse("otp-setup"), {"token": _totp(device)}).status_code == 302
    assert client.get("/").status_code == 200
    # the next login asks for the code
    client2 = Client()
    _login(client2, "reviewer", PASSWORD)
    assert client2.get("/claims/").url == reverse("otp-verify")
    device.refresh_from_db()
    device.last_t = -1
    device.save()
    assert client2.post(reverse("otp-verify"), {"token": _totp(device)}).status_code == 302
    assert client2.get("/claims/").status_code == 200


@pytest.mark.parametrize("who, needed", [("reviewer", True), ("finance", True), ("sysadmin", True),
                                         ("district_clerk", False), ("auditor", False), ("slh_clerk", False)])
def test_the_roles_that_move_money_or_grant_access_need_it_and_others_do_not(staff, otp_on, who, needed):
    client = Client()
    _login(client, who, PASSWORD)
    resp = client.get("/")
    assert (resp.status_code == 302 and resp.url == reverse("otp-setup")) == needed


def test_the_second_factor_is_off_outside_production_and_the_dev_script_says_so():
    from pathlib import Path

    assert settings.YFBZ_OTP_REQUIRED is False  # tests run as development
    assert "second factor (TOTP) OFF" in Path(settings.BASE_DIR, "dev").read_text()


def test_the_security_administrator_resets_a_lost_device(staff, make_user, login, otp_on):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=staff["finance"], name="手机", confirmed=True)
    secadmin = make_user("secadmin", Role.SECURITY_ADMIN, is_staff=True)
    # (the security administrator is verified in this test by switching the requirement off for them)
    from django.test import override_settings

    with override_settings(YFBZ_OTP_REQUIRED=False):
        resp = login(secadmin).post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert resp.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(object_repr="重置动态口令设备", actor=secadmin).exists()
