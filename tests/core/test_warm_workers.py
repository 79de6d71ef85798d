"""Web workers start warm (issue 14; yfbz/core/warm.py, yfbz/webserver.py).

A gunicorn worker used to compile each page's templates and import its views at its first visit to that kind
of page (an admin list 190 ms cold, 57 ms warm on the million-people build), and under load those first
visits were the slowest requests of their kind. The master now warms the application once and forks warm
workers: a page drawn after ``warm()`` compiles no template, and gunicorn started with the deployed
configuration preloads and warms before it serves."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.template import engines
from django.template.base import Template

ROOT = Path(__file__).resolve().parents[2]


def _fresh_loaders():
    """Forget every compiled template, as a newly started process has none."""
    for loader in engines["django"].engine.template_loaders:
        if hasattr(loader, "reset"):
            loader.reset()


@pytest.mark.django_db
def test_after_the_warm_up_no_page_compiles_a_template(client, admin_user, staff, people, monkeypatch):
    from yfbz.core.warm import warm

    def pages():
        compiled = []
        real = Template.compile_nodelist

        def counting(self):
            compiled.append(self.origin.template_name if self.origin else "?")
            return real(self)

        monkeypatch.setattr(Template, "compile_nodelist", counting)
        client.force_login(admin_user)
        for url in ("/admin/", "/admin/policy/groupmembership/", "/admin/policy/schemerule/1/change/",
                    "/admin/claims/decision/", "/admin/beneficiaries/person/"):
            assert client.get(url).status_code == 200, url
        client.force_login(staff["district_clerk"])
        for url in ("/", f"/people/{people['slh'].pk}/", "/people/", "/claims/", "/policy/"):
            assert client.get(url).status_code == 200, url
        monkeypatch.setattr(Template, "compile_nodelist", real)
        return compiled

    _fresh_loaders()
    cold = pages()
    assert len(cold) > 10  # a fresh process compiles the pages' templates on their first visit

    _fresh_loaders()
    done = warm()
    assert done["templates"] > 100 and done["views"] > 100 and done["apps"] >= 1
    assert pages() == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_gunicorn_as_deployed_preloads_warms_and_serves():
    """The deployed command (docs/deployment.md) starts a master that warms the application before forking
    its workers, which then answer with their own database connection (the master's was closed before the fork)."""
    port = _free_port()
    name = connection.settings_dict["NAME"]
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}", "YFBZ_PRODUCTION": "1",
           "SECRET_KEY": "test-" + "k" * 60, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "WEB_CONCURRENCY": "2"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:yfbz.webserver", "yfbz.wsgi",
         "-b", f"127.0.0.1:{port}", "--log-level", "info"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        answer = None
        for _ in range(120):
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    answer = (resp.status, json.loads(resp.read()))
                break
            except urllib.error.HTTPError as exc:
                answer = (exc.code, {})
                break
            except OSError:
                time.sleep(0.5)
        assert answer is not None and answer[0] == 200 and answer[1]["database"]["ok"], answer
    finally:
        os.killpg(proc.pid, 15)
        out = proc.communicate(timeout=30)[0]
    warm_line = next((line for line in out.splitlines() if "warm: {" in line), "")
    assert "'templates': " in warm_line, out[-3000:]
    # the master warmed before any worker was forked
    assert out.index("warm: {") < out.index("Booting worker"), out[-3000:]
