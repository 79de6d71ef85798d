"""Shared fixtures: staff of every role, people in two towns, and the browser harness.

Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright against
pytest-django's live_server; Playwright cannot download its own browser here.
"""

import os
from datetime import date

import pytest
from django.contrib.auth.models import Group

from yfbz.core.roles import Role

PASSWORD = "test-pass-2025"
CHROMIUM = os.environ.get("YFBZ_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def towns(db):
    from beneficiaries.models import Town

    return {t.code: t for t in Town.objects.all()}


@pytest.fixture
def departments(db):
    from beneficiaries.models import Department

    return {d.code: d for d in Department.objects.all()}


@pytest.fixture
def make_user(db, towns, departments):
    from yfbz.core.models import User

    def make(username, role: Role | None, town=None, department=None, **extra):
        from django.utils import timezone

        # established staff: their password was changed recently (an account made by the security
        # administrator must change it at the first login: tests/security/test_authentication.py)
        extra.setdefault("password_changed_at", timezone.now())
        user = User.objects.create_user(
            username=username,
            password=PASSWORD,
            town=towns[town] if town else None,
            department=departments[department] if department else None,
            is_staff=extra.pop("is_staff", role not in (None, Role.TOWN_CLERK, Role.DEPT_OFFICER)),
            **extra,
        )
        if role:
            user.groups.add(Group.objects.get(name=role.value))
        return user

    return make


@pytest.fixture
def admin_user(db):
    """pytest-django's superuser, as established staff (password changed recently)."""
    from django.utils import timezone

    from yfbz.core.models import User

    return User.objects.create_superuser("admin", "admin@example.com", "password-2025", password_changed_at=timezone.now())


@pytest.fixture
def staff(make_user):
    """One user per role; two town clerks (双龙湖 SLH, 回兴 HX) to try crossing between towns."""
    return {
        "slh_clerk": make_user("slh_clerk", Role.TOWN_CLERK, town="SLH"),
        "hx_clerk": make_user("hx_clerk", Role.TOWN_CLERK, town="HX"),
        "townless_clerk": make_user("townless_clerk", Role.TOWN_CLERK),
        "civil_officer": make_user("civil_officer", Role.DEPT_OFFICER, department="CIVIL"),
        "veterans_officer": make_user("veterans_officer", Role.DEPT_OFFICER, department="VETERANS"),
        "district_clerk": make_user("district_clerk", Role.DISTRICT_CLERK),
        "reviewer": make_user("reviewer", Role.DISTRICT_REVIEWER),
        "finance": make_user("finance", Role.FINANCE),
        "auditor": make_user("auditor", Role.AUDITOR),
        "sysadmin": make_user("sysadmin", Role.SYSADMIN),
        "nobody": make_user("nobody", None),
    }


def valid_id(birth: date, seq: int, region: str = "500112") -> str:
    from yfbz.rules.idcard import check_character

    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


@pytest.fixture
def make_person(db, towns):
    from beneficiaries.models import Category, Identity, Person

    counter = iter(range(100, 999))

    def make(name, town="SLH", categories=("DIBAO",), birth=date(1960, 5, 1), valid_from=date(2024, 1, 1), **extra):
        seq = next(counter)
        person = Person.objects.create(
            id_number=valid_id(birth, seq),
            name=name,
            birth_date=birth,
            sex="M" if seq % 2 else "F",
            town=towns[town] if town else None,
            **extra,
        )
        for code in categories:
            Identity.objects.create(person=person, category=Category.objects.get(code=code), valid_from=valid_from)
        return person

    return make


@pytest.fixture
def people(make_person):
    """张双龙 in 双龙湖 (DIBAO, civil), 李回兴 in 回兴 (BINGGU_YISHU, veterans), 王无镇 with no town."""
    return {
        "slh": make_person("张双龙", town="SLH", categories=("DIBAO",)),
        "hx": make_person("李回兴", town="HX", categories=("BINGGU_YISHU",)),
        "none": make_person("王无镇", town=None, categories=("DIBAO",)),
    }


@pytest.fixture
def login(client):
    def do(user):
        client.force_login(user)
        return client

    return do


# --- browser harness ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _playwright():
    pytest.importorskip("playwright")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (./dev test does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls tests make
    # between browser steps are still synchronous, so Django must allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(_playwright):
    b = _playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"],
    )
    yield b
    b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


@pytest.fixture
def browser_login(page):
    def do(username, password=PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return do


@pytest.fixture(autouse=True, scope="session")
def _tasks_inline():
    """Tasks run inline, as under ``./dev test`` (CELERY_TASK_ALWAYS_EAGER=1), however pytest is
    started (a bare ``pytest`` with REDIS_URL set would send them to a broker nobody reads); the
    worker tests switch to a real worker themselves (``celery_worker_real``)."""
    from yfbz.celery import app

    app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: figures kept per version of their inputs (yfbz.core.versioned)
    must not be found by a later test whose new database happens to have the same high-water marks."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def celery_worker_real(transactional_db):
    """A real Celery worker (in a thread of this process) consuming from Redis.

    Tasks sent while it runs leave this process through the broker, exactly as in production.
    Needs REDIS_URL (./dev test sets it); skipped without it."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: the real-worker tests need Redis")
    from celery.contrib.testing.worker import start_worker

    from yfbz.celery import app

    old = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(task_always_eager=False, broker_url=os.environ["REDIS_URL"], result_backend=os.environ["REDIS_URL"])
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING") as worker:
            yield worker
    finally:
        app.conf.update(**old)


def restore_migration_data():
    """Put back what the data migrations load (reference data, role groups, policy defaults).

    A transactional test (browser, real worker, races) ends with a flush that empties every
    table; the next test would otherwise start without towns or policy."""
    from django.apps import apps

    from beneficiaries.models import Town
    from beneficiaries.reference import load_reference
    from yfbz.areas.reference import load_areas
    from yfbz.core.roles import sync_role_groups
    from yfbz.policy.services import load_default_policy

    if Town.objects.exists():
        return
    load_reference(apps)
    load_areas(apps)
    sync_role_groups()
    load_default_policy()
    # the other data migrations' shipped rows (each idempotent): accounts, benefit group names, warning
    # thresholds, monitoring thresholds and deadlines
    import importlib

    for module, fn in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), fn)(apps, None)


#: data migrations whose rows a flush removes and the next test needs (run with the live app registry)
DATA_MIGRATIONS = (
    # the shipped policy rows belong to the towns of former 渝北 (as after migrate; without it the areas demo
    # found no rules to copy for its arriving town when it ran after a flush)
    ("yfbz.policy.migrations.0005_policy_area", "shipped_rows_are_former_yubei"),
    ("funding.migrations.0002_accounts_and_append_only", "add_accounts"),
    ("yfbz.policy.migrations.0006_benefitgroup", "load"),
    ("reporting.migrations.0005_warning_defaults", "add"),
    ("monitoring.migrations.0002_provisional_thresholds", "ship"),
    ("monitoring.migrations.0004_applications", "ship"),
)


@pytest.fixture(autouse=True)
def _migration_data(request):
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if marker or "db" in names or "transactional_db" in names:
        transactional = "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction"))
        request.getfixturevalue("transactional_db" if transactional else "db")
        restore_migration_data()
