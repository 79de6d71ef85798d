"""A real Celery worker in its own process, to kill with SIGKILL (issue 10, finding 5).

``tests/conftest.py``'s ``celery_worker_real`` runs a worker in a thread of the test process: it
cannot be killed. This one is ``celery -A yfbz worker`` started as a child process against the test
database and the test's Redis, exactly as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition, timeout: float = 60, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


@contextmanager
def sending_to_redis():
    """Tasks sent by the test process go through Redis (the land runs with tasks inline)."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: the real-worker tests need Redis")
    from yfbz.celery import app

    old = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(task_always_eager=False, broker_url=os.environ["REDIS_URL"], result_backend=os.environ["REDIS_URL"])
    try:
        yield
    finally:
        app.conf.update(**old)


def as_web_process(script: str, *args: str, timeout: float = 180) -> dict:
    """Run ``script`` in a fresh interpreter configured as the deployed web process (the test database, tasks
    sent to Redis, not run inline) and read its last line of output as JSON. Inside ``sending_to_redis()``;
    the queue is emptied first, so no message of an earlier test waits."""
    import json

    from django.db import connection

    from yfbz.celery import app

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the web process and the worker are separate processes")
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("celery")
    web = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, "DATABASE_URL": url, "CELERY_TASK_ALWAYS_EAGER": "0", "YFBZ_OTP_REQUIRED": "0",
             "DJANGO_SETTINGS_MODULE": "yfbz.settings"},
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )
    assert web.returncode == 0, web.stderr[-3000:]
    return json.loads(web.stdout.strip().splitlines()[-1])


class WorkerProcess:
    def __init__(self, **env):
        from django.db import connection

        s = connection.settings_dict
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL")
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"yfbz-worker-{uuid.uuid4().hex[:8]}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "yfbz", "worker", "--pool=solo", "-l", "INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"killtest-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "CELERY_TASK_ALWAYS_EAGER": "0", **env},
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def worker_process(**env):
    w = WorkerProcess(**env)
    try:
        yield w
    finally:
        w.stop()


@contextmanager
def held_in_another_transaction(fn):
    """Run ``fn()`` in a thread's own transaction and keep that transaction open (its row locks or
    uncommitted rows block a worker at a known point) until the block ends; then roll it back."""
    from django.db import connections, transaction

    ready, release = threading.Event(), threading.Event()
    failure = []

    class Rollback(Exception):
        pass

    def run():
        try:
            with transaction.atomic():
                fn()
                ready.set()
                release.wait(timeout=120)
                raise Rollback
        except Rollback:
            pass
        except Exception as exc:  # noqa: BLE001 - reported below
            failure.append(exc)
            ready.set()
        finally:
            connections.close_all()

    t = threading.Thread(target=run)
    t.start()
    ready.wait(timeout=30)
    assert not failure, failure
    try:
        yield
    finally:
        release.set()
        t.join(timeout=60)


def backend_waiting_on_lock(pid_hint: str = "") -> bool:
    """Whether some other database session of this database waits on a lock now."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                    "AND pid <> pg_backend_pid()")
        return cur.fetchone()[0] > 0


@contextmanager
def another_worker_holding(obj):
    """A second database session holding the job's lock (yfbz.core.jobs), as a live worker does."""
    import psycopg
    from django.db import connection

    from yfbz.core import jobs

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (advisory locks)")
    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"],
                         autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", jobs._key(type(obj), obj.pk))
        yield
