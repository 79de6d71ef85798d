import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_without_login(client):
    resp = client.get(reverse("healthz"))
    body = resp.json()
    assert resp.status_code == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert "pdf_fonts" in body


@pytest.mark.django_db
def test_healthz_says_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    resp = client.get(reverse("healthz"))
    assert resp.status_code == 503
    assert resp.json()["broker"]["ok"] is False


@pytest.mark.django_db
def test_every_page_but_login_and_health_needs_a_login(client):
    for url in ("/", "/people/", "/admin/", "/audit/"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login/" in resp["Location"], url


@pytest.mark.django_db
def test_the_admin_is_in_chinese_and_titled_for_the_district(staff, login):
    page = login(staff["sysadmin"]).get("/admin/").content.decode()
    assert "渝北区医疗救助管理系统" in page
    assert "站点管理" in page or "管理后台" in page


# what a production host would not have: the test database and the browser tests' async switch
TEST_ONLY_ENV = ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY")


def _manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    full_env.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True)


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        YFBZ_PRODUCTION="1", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="yb.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", YFBZ_PRODUCTION="1")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_fresh_database_holds_reference_data_and_roles(db):
    from django.contrib.auth.models import Group

    from beneficiaries.models import Category, CategoryAlias, Department, Town
    from yfbz.core.roles import Role

    assert Town.objects.count() == 30
    assert Town.objects.get(code="SLH").short_name == "双龙湖"
    assert set(Department.objects.values_list("code", flat=True)) == {"CIVIL", "VETERANS", "RURAL", "DISABILITY", "EDUCATION"}
    assert Category.objects.count() == 27
    assert CategoryAlias.objects.get(wording="城市低保").category.code == "DIBAO"
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}
    auditor = Group.objects.get(name=Role.AUDITOR.value)
    assert not auditor.permissions.exclude(codename__startswith="view_").exists(), "auditors are read-only"
