"""Every page at a district's size (issue 14): build the data set once, serve it with gunicorn as
deployed, and time every page of every role under a bounded load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz_bench_pages .venv/bin/python bench/pages.py
        [--people 1004440] [--rebuild] [--users 20] [--seconds 120] [--workers 4] [--port 8108] [--crawl 150] [--crawl-only]

1. **Build** (skipped when the database already holds a build of that size: re-measuring takes
   minutes). ``migrate``, then INSERT … SELECT over ``generate_series`` for the big tables (no bulk
   path of the project makes a million people in minutes; the project's own paths are timed by the
   job benches), then ``VACUUM (ANALYZE)`` as autovacuum would: per person ~1.21 identities, 1.0 bill with its current decision, 0.70 one-stop
   settlement lines (600 institution months, each file 100 KB of bytes), 1.84 enrolments, a roster
   in town review with 0.65 rows, a subsidy run with 0.91 changes. Staff: one user per role.
2. **Pages**: each role crawls the site from its home page with Django's test client in this process
   (every link, one sample per kind of page, exports included): each page's queries are counted (warm: a page
   over 30 on its first fetch is counted again, as the process's caches are then filled) and its single fetch timed (the slowest are printed; ``--crawl-only`` stops there).
3. **Load**: gunicorn ``yfbz.wsgi`` with production settings (``YFBZ_PRODUCTION=1``, ``--workers``
   sync workers, the configuration of docs/deployment.md: ``-c python:yfbz.webserver``) on ``--port``; ``--users`` threads, each
   a role's session, request the role's pages in turn with a 1 s pause, for ``--seconds``, after ``--warmup``
   seconds of the same load that are not measured (production workers are warm). The
   second factor is switched off for the bench's sessions (``YFBZ_OTP_REQUIRED=0``): the pages are
   measured, not the login.
4. **Memory per page**: before the load, every page is fetched again in this process (the crawl warmed it) and the
   growth of the process's resident memory over each single fetch is printed, largest first.
5. **Prints** per kind of page: requests, p50 and p95 (ms), p95 ÷ the person detail page's p95
   (the baseline: one indexed lookup and a template), queries, and each gunicorn worker's memory
   growth over the run; the machine's load before and after.

The database named must be used for nothing else: a build drops its schema and migrates again.
Nothing is asserted: figures are printed, with the date and the load.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
# as deployed, tasks go to the broker (REDIS_URL) and the request does not run them: a big export is
# measured as its request (queue the job), not as the job; no worker runs here and the queue is purged at the end
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
# one key for this process (which makes the sessions) and gunicorn (which reads them: sessions are signed)
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

PER_PERSON = {"identities": 1.207, "bills": 0.996, "lines": 0.697, "enrolments": 1.84, "roster": 0.65, "changes": 0.908}
MONTHS = 600  # settlement months (50 institutions × 12), one file each
FILE_BYTES = 100_000
ROLES = ["district_clerk", "slh_clerk", "civil_officer", "reviewer", "finance", "auditor", "leader", "admin"]
SKIP = ("/accounts/logout", "/static/", "/healthz", "delete/", "/history/", "import/", "/admin/logout",
        "/admin/password_change", "/admin/jsi18n")
SAMPLES = 1  # one page of each kind per role
BASELINE = "/people/N/"


def say(*a):
    print(*a, flush=True)


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


# --- build ------------------------------------------------------------------------------------------
def _const(field):
    """SQL and params for a column the caller did not give."""
    from django.db import models

    if field.has_default():
        return "%s", [field.get_db_prep_save(field.get_default(), connection)]
    if field.null:
        return "NULL", []
    if field.is_relation:
        return f"(SELECT min(id) FROM {field.related_model._meta.db_table})", []
    if isinstance(field, models.BinaryField):
        return "''::bytea", []
    if isinstance(field, models.JSONField):
        return "'{}'::jsonb", []
    if isinstance(field, models.BooleanField):
        return "false", []
    if isinstance(field, (models.DateTimeField,)):
        return "now()", []
    if isinstance(field, models.DateField):
        return "current_date", []
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return "0", []
    return "''", []


def fill(model, n: int, exprs: dict[str, str]) -> None:
    """INSERT n rows of ``model``: ``exprs`` maps columns to SQL over g (1..n); the rest get the
    field's default (or a neutral value). ``id`` is g unless given."""
    t = time.perf_counter()
    cols, sql, params = [], [], []
    exprs = {"id": "g", **exprs}
    for f in model._meta.concrete_fields:
        cols.append(f.column)
        if f.column in exprs:
            sql.append(exprs[f.column].replace("%", "%%"))
        else:
            s, p = _const(f)
            sql.append(s)
            params += p
    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in cols)}) SELECT {', '.join(sql)} FROM generate_series(1, {n}) AS g", params)
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    say(f"  {table}: {n:,} rows in {time.perf_counter() - t:.1f} s")


def built_people() -> int:
    """The size of the finished build kept in this database (-1: none)."""
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_pages_build') IS NOT NULL")
        if not cur.fetchone()[0]:
            return -1
        cur.execute("SELECT people FROM bench_pages_build")
        row = cur.fetchone()
    return row[0] if row else -1


def empty_all():
    """A new schema: ``migrate`` then loads the reference data (towns, categories, policy) again."""
    with connection.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def build(people: int) -> None:
    from django.core.management import call_command

    from beneficiaries.models import (
        Category,
        Department,
        Identity,
        Person,
        RosterFile,
        RosterRow,
        RosterUpload,
        Town,
    )
    from claims.models import Bill, Decision, Institution, SettlementFile, SettlementLine, SettlementMonth
    from funding.models import Enrolment, SubsidyChange, SubsidyRun

    t0 = time.perf_counter()
    empty_all()
    call_command("migrate", verbosity=0)  # reference data (towns, departments, categories, policy) and roles
    users = staff()
    clerk = users["district_clerk"].pk
    towns = list(Town.objects.order_by("id").values_list("pk", flat=True))
    cats = list(Category.objects.order_by("id").values_list("pk", "code"))
    town_of = f"(ARRAY{towns})[1 + (({{p}}) % {len(towns)})]"
    P = people

    def person_of(expr):
        return f"(1 + (({expr}) - 1) % {P})"

    fill(Person, P, {
        "id_number": "'500112' || lpad(g::text, 11, '0') || 'X'", "name": "'测试' || g",
        "birth_date": "date '1930-01-01' + (g % 25000)", "sex": "CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END",
        "town_id": town_of.format(p="g"), "village": "'第' || (g % 30) || '村'", "phone": "''",
    })
    cat_ids = [c for c, _ in cats]
    fill(Identity, int(P * PER_PERSON["identities"]), {
        "person_id": person_of("g"), "category_id": f"(ARRAY{cat_ids})[1 + ((g / {P}) + g) % {len(cat_ids)}]",
        "valid_from": "date '2024-01-01'",
    })
    for i in range(50):
        Institution.objects.create(code=f"B{i:03d}", name=f"测试医院{i}", level=1 + i % 3, bank_name="银行", bank_account=f"62{i:08d}")
    inst = list(Institution.objects.order_by("id").values_list("pk", flat=True))
    nb = int(P * PER_PERSON["bills"])
    statuses = ["ENTERED", "DECIDED", "APPROVED", "APPROVED", "PAID", "PAID", "PAID", "REFUSED"]
    fill(Bill, nb, {
        "person_id": person_of("g"), "institution_id": f"(ARRAY{inst})[1 + g % {len(inst)}]",
        "kind": "CASE WHEN g % 3 = 0 THEN 'OUTPATIENT' ELSE 'INPATIENT' END", "settled_on": "date '2025-01-01' + (g % 365)",
        "total_cost": "10000.00", "in_policy_cost": "8000.00", "basic_paid": "4000.00", "critical_paid": "0",
        "town_id": town_of.format(p=person_of("g")), "status": f"(ARRAY{statuses})[1 + g % {len(statuses)}]",
        "entered_by_id": str(clerk), "account_holder": "'测试'", "bank_name": "'银行'", "bank_account": "'6228'",
    })
    codes = [c for _, c in cats]
    schemes = ["OUTPATIENT", "INPATIENT", "MAJOR_DISEASE", "LARGE_EXPENSE"]
    fill(Decision, nb, {
        "bill_id": "g", "person_id": person_of("g"), "year": "2025", "settled_on": "date '2025-01-01' + (g % 365)",
        "town_id": town_of.format(p=person_of("g")), "policy_version": "'bench'",
        "scheme": f"(ARRAY{schemes})[1 + g % 4]", "category": f"(ARRAY{codes})[1 + g % {len(codes)}]",
        "category_name": "'类别'", "assistance": "1000.00", "is_current": "true", "decided_by_id": str(clerk),
        "decided_at": "now() - g * interval '1 second'",
    })
    with connection.cursor() as cur:
        cur.execute("UPDATE claims_decision SET reviewed_by_id = decided_by_id, reviewed_at = decided_at "
                    "WHERE bill_id IN (SELECT id FROM claims_bill WHERE status IN ('APPROVED', 'PAID', 'REFUSED'))")
    fill(SettlementMonth, MONTHS, {
        "institution_id": f"(ARRAY{inst})[1 + (g - 1) % {len(inst)}]", "month": "date '2025-01-01' + ((g - 1) / 50) * interval '1 month'",
    })
    fill(SettlementFile, MONTHS, {
        "settlement_month_id": "g", "file_name": "'bench-' || g || '.csv'", "data": f"convert_to(repeat('x', {FILE_BYTES}), 'UTF8')",
        "sha256": "md5(g::text) || md5((g + 1)::text)", "uploaded_by_id": str(clerk), "status": "'DONE'",
    })
    nl = int(P * PER_PERSON["lines"])
    fill(SettlementLine, nl, {
        "file_id": f"1 + (g - 1) % {MONTHS}", "settlement_month_id": f"1 + (g - 1) % {MONTHS}",
        "institution_id": f"(ARRAY{inst})[1 + ((g - 1) % {MONTHS}) % {len(inst)}]", "line_no": "g",
        "settlement_no": "'S' || g", "person_id": person_of("g * 7"),
        "id_number": f"'500112' || lpad({person_of('g * 7')}::text, 11, '0') || 'X'", "name": f"'测试' || {person_of('g * 7')}",
        "kind": "'INPATIENT'", "settled_on": "date '2025-01-01' + ((g - 1) % 365)", "scheme": "'INPATIENT'",
        "category": f"(ARRAY{codes})[1 + g % {len(codes)}]", "policy_version": "'bench'",
        "outcome": "CASE WHEN g % 10 = 0 THEN 'DISPUTED' ELSE 'AGREED' END",
    })
    civil = Department.objects.get(code="CIVIL")
    upload = RosterUpload.objects.create(department=civil, month=date(2025, 10, 1), file_name="bench.xlsx", sha256="bench",
                                         uploaded_by=users["civil_officer"], status=RosterUpload.Status.TOWN_REVIEW)
    RosterFile.objects.create(upload=upload, data=b"bench")
    nr = int(P * PER_PERSON["roster"])
    fill(RosterRow, nr, {
        "upload_id": str(upload.pk), "row_number": "g", "id_number": "'500112' || lpad(g::text, 11, '0') || 'X'",
        "name": "'测试' || g", "category_id": str(cat_ids[0]), "town_id": town_of.format(p="g"), "village": "''", "phone": "''",
        "outcome": "'continuing'", "review": "CASE WHEN g % 4 = 0 THEN 'pending' ELSE 'accepted' END",
    })
    RosterUpload.objects.filter(pk=upload.pk).update(rows_total=nr, rows_valid=nr, count_continuing=nr)
    from beneficiaries import towncounts

    towncounts.refresh(upload.pk)  # the page's per-town figures, as the check would have counted them
    ne = int(P * PER_PERSON["enrolments"])
    fill(Enrolment, ne, {"person_id": person_of("g"), "year": f"2024 + (g - 1) / {P}", "kind": "'RESIDENT_T1'", "source": "'IMPORT'"})
    run = SubsidyRun.objects.create(year=2025, started_by=users["finance"], status=SubsidyRun.Status.DONE)
    fill(SubsidyChange, int(P * PER_PERSON["changes"]), {
        "run_id": str(run.pk), "person_id": "g", "old_category": "''", "new_category": f"(ARRAY{codes})[1 + g % {len(codes)}]",
        "new_amount": "350.00", "town_id": town_of.format(p="g"),
    })
    with connection.cursor() as cur:
        t = time.perf_counter()
        # as autovacuum leaves a live database: statistics, and the visibility map that lets a count over an
        # index (the home page's open bills) skip the table — without it 125,052 entered bills took 3.3 s, with it 57 ms
        cur.execute("VACUUM (ANALYZE)")
        say(f"  VACUUM (ANALYZE) {time.perf_counter() - t:.1f} s")
        cur.execute("CREATE TABLE bench_pages_build (people integer, built_at timestamptz)")
        cur.execute("INSERT INTO bench_pages_build VALUES (%s, now())", [P])
    say(f"built {P:,} people in {time.perf_counter() - t0:.0f} s (load {load()})")


def staff() -> dict:
    from django.contrib.auth.models import Group
    from django.utils import timezone as tz

    from beneficiaries.management.commands.demo_data import STAFF, TOWN_CLERK_PATTERN
    from yfbz.core.models import User
    from yfbz.core.roles import Role

    users = {}
    slh = (TOWN_CLERK_PATTERN.format(code="slh"), "双龙湖街道经办员", Role.TOWN_CLERK, "SLH", None)
    for username, full_name, role, _town, dept in [*STAFF, slh]:
        from beneficiaries.models import Department, Town

        u, _ = User.objects.get_or_create(username=username, defaults={"full_name": full_name})
        u.is_staff = role not in (Role.TOWN_CLERK, Role.DEPT_OFFICER)
        u.is_superuser = username == "admin"
        u.password_changed_at = tz.now()
        if username == "slh_clerk":
            u.town = Town.objects.get(code="SLH")
        if dept:
            u.department = Department.objects.get(code=dept)
        u.save()
        u.groups.add(Group.objects.get(name=role.value))
        users[username] = u
    return users


# --- pages --------------------------------------------------------------------------------------------
class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")) and not href.startswith(("#", "javascript:", "mailto:")):
            self.hrefs.append(href)


def kind_of(path: str) -> str:
    parts = urlsplit(path)
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(sorted({p.split("=")[0] for p in parts.query.split("&")})) if parts.query else "")


CRAWL_MS: dict[str, float] = {}  # kind of page -> slowest single fetch in the crawl (one user, in process)
CRAWL_LIMIT_S = 120  # a fetch still running after this is abandoned and reported (it is over every target)


class FetchTooLong(BaseException):  # not an Exception: no view or middleware may swallow it
    pass


def _too_long(signum, frame):
    raise FetchTooLong


def crawl(client, start: str, queries: dict, limit: int = 150) -> list[str]:
    """Every page the client reaches from ``start`` (one sample per kind of page), each page's
    number of queries counted and its time taken as it is fetched."""
    from django.test.utils import CaptureQueriesContext

    seen, queue, per, visited = [], [start], defaultdict(int), set()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        t0 = time.perf_counter()
        signal.signal(signal.SIGALRM, _too_long)
        signal.alarm(CRAWL_LIMIT_S)
        try:
            with CaptureQueriesContext(connection) as ctx:
                resp = client.get(url)
                body = b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content
        except FetchTooLong:
            say(f"  over {CRAWL_LIMIT_S} s, abandoned: {url}")
            CRAWL_MS[kind_of(url)] = CRAWL_LIMIT_S * 1000.0
            connection.close()  # the query it was waiting on dies with the connection
            continue
        finally:
            signal.alarm(0)
        ms = (time.perf_counter() - t0) * 1000
        CRAWL_MS[kind_of(url)] = max(CRAWL_MS.get(kind_of(url), 0), ms)
        if resp.status_code == 302 and re.search(r"\.(xlsx|pdf|csv)|format=", url):
            seen.append(url)  # a file over its inline limit: the request queues a job (measured with the job page)
            continue
        if resp.status_code != 200:
            continue
        seen.append(url)
        n = len(ctx.captured_queries)
        if n > 30:  # as tests/core/test_page_queries.py: the first request of a process reads the policy book and
            with CaptureQueriesContext(connection) as again:  # the area tree once; a page is counted warm
                client.get(url)
            n = min(n, len(again.captured_queries))
        queries[kind_of(url)] = max(queries.get(kind_of(url), 0), n)
        if "text/html" not in resp.get("Content-Type", ""):
            continue
        p = Links()
        p.feed(body.decode("utf-8", errors="replace"))
        for href in p.hrefs:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc not in ("", "testserver"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if any(s in path for s in SKIP) or path in visited or "page=" in path or "full=" in path:
                continue
            if per[kind_of(path)] >= SAMPLES:
                continue
            per[kind_of(path)] += 1
            queue.append(path)
    return seen


def pages_and_queries(users, limit: int) -> tuple[dict, dict]:
    from django.test import Client

    pages, queries = {}, {}
    for role in ROLES:
        c = Client()
        c.force_login(users[role])
        t = time.perf_counter()
        pages[role] = crawl(c, "/admin/" if role == "admin" else "/", queries, limit)
        say(f"  {role}: {len(pages[role])} pages ({time.perf_counter() - t:.0f} s)")
    return pages, queries


def rss_mib() -> float:
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024


def page_memory(users, pages) -> list[tuple[float, str, str]]:
    """Each page's fetch again in this process, after the crawl loaded every page's code, templates and caches
    once: how much the process's resident memory grew over that one fetch (what a worker keeps after serving
    it), largest first. The gunicorn figures below add each worker's own warm-up."""
    from django.test import Client

    out = []
    for role in ROLES:
        c = Client()
        c.force_login(users[role])
        for url in pages[role]:
            before = rss_mib()
            resp = c.get(url)
            if getattr(resp, "streaming", False):
                b"".join(resp.streaming_content)
            del resp
            out.append((rss_mib() - before, role, url))
    return sorted(out, reverse=True)


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = next(b for b in settings.AUTHENTICATION_BACKENDS if "axes" not in b.lower())
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.set_expiry(24 * 3600)
    s.create()
    return f"{settings.SESSION_COOKIE_NAME}={s.session_key}"


# --- load -------------------------------------------------------------------------------------------------
def worker_rss(master: int) -> dict[int, int]:
    out = {}
    for pid in subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split():
        try:
            rss = next(int(line.split()[1]) for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS"))
            out[int(pid)] = rss // 1024
        except (OSError, StopIteration):
            pass
    return out


def serve(port: int, workers: int) -> subprocess.Popen:
    with __import__("socket").socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken (a gunicorn left from an earlier run?): stop it first")
    env = {**os.environ, "YFBZ_PRODUCTION": "1", "YFBZ_OTP_REQUIRED": "0",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "DEBUG": "0"}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    # as deployed: the static files collected (production serves them from the manifest)
    subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "python:yfbz.webserver", "yfbz.wsgi", "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)
    for _ in range(240):
        try:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                                          headers={"X-Forwarded-Proto": "https"}), timeout=5)
            return proc
        except urllib.error.HTTPError:
            return proc
        except OSError:  # refused, reset, timed out: not up yet
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def run_load(port, pages, cookies, users_n, seconds):
    times, errors = defaultdict(list), defaultdict(int)
    stop = time.monotonic() + seconds
    roles = [r for r in ROLES if pages[r]]

    def user(i):
        role = roles[i % len(roles)]
        urls = pages[role]
        j = i * 7
        while time.monotonic() < stop:
            url = urls[j % len(urls)]
            j += 1
            req = urllib.request.Request(f"http://127.0.0.1:{port}{url}",
                                         headers={"Cookie": cookies[role], "X-Forwarded-Proto": "https"})
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    r.read()
                times[kind_of(url)].append((time.perf_counter() - t) * 1000)
            except Exception:  # noqa: BLE001 — counted and printed
                errors[kind_of(url)] += 1
            time.sleep(1)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def purge() -> None:
    """Drop the tasks the crawl and the load queued (export jobs …): no worker runs them here."""
    from yfbz.celery import app

    say(f"purged {app.control.purge()} queued tasks")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_004_440)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=8108)
    ap.add_argument("--crawl", type=int, default=150, help="pages per role at most")
    ap.add_argument("--crawl-only", action="store_true", help="build, crawl and print each page's single fetch; no load")
    ap.add_argument("--warmup", type=int, default=60, help="seconds of load before the measured run (0: cold workers)")
    a = ap.parse_args()
    if not connection.settings_dict["NAME"].startswith("yfbz_bench"):
        raise SystemExit("bench/pages.py empties its database: point DATABASE_URL at yfbz_bench_pages")
    say(f"bench/pages.py {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load()}, {os.cpu_count()} cores")
    from django.core.management import call_command

    if a.rebuild or built_people() != a.people:
        say(f"building {a.people:,} people …")
        build(a.people)
    else:
        call_command("migrate", verbosity=0)  # today's indexes on the kept data
        say(f"reusing the build of {a.people:,} people")
    users = staff()
    say("crawling every role's pages and counting queries …")
    pages, queries = pages_and_queries(users, a.crawl)
    say(f"slowest single fetches in the crawl (ms, one user in this process, load {load()}):")
    for k, ms in sorted(CRAWL_MS.items(), key=lambda kv: -kv[1])[:40]:
        say(f"  {k[:70]:70} {ms:8.0f} {queries.get(k, 0):4} queries")
    say("memory per page (one process, each page fetched again after the crawl warmed its code and caches) …")
    jumps = page_memory(users, pages)
    for mib, role, url in jumps[:8]:
        say(f"  {mib:6.1f} MiB  {role:15} {url[:90]}")
    say(f"largest growth of one page's fetch: {jumps[0][0] if jumps else 0:.1f} MiB (target ≤ 50 MB)")
    if a.crawl_only:
        purge()
        return
    cookies = {r: session_cookie(users[r]) for r in ROLES}
    connection.close()
    proc = serve(a.port, a.workers)
    try:
        if a.warmup:  # production workers are warm: every kind of page once loads its code, templates and caches
            say(f"warm-up: {a.users} users for {a.warmup} s (not measured; workers' memory {sorted(worker_rss(proc.pid).values())} MiB)")
            run_load(a.port, pages, cookies, a.users, a.warmup)
        rss0 = worker_rss(proc.pid)
        say(f"load: {a.users} users, 1 s pause, {a.seconds} s, gunicorn {a.workers} workers (load {load()})")
        times, errors = run_load(a.port, pages, cookies, a.users, a.seconds)
        rss1 = worker_rss(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    purge()
    base = pct(times[BASELINE], 95) if times.get(BASELINE) else None
    say(f"\nbaseline {BASELINE} p95 {base:.0f} ms" if base else "\nno baseline page measured")
    say(f"{'page':60} {'n':>5} {'p50':>7} {'p95':>7} {'×base':>6} {'queries':>7} {'errors':>6}")
    over = []
    for k in sorted(times, key=lambda k: -pct(times[k], 95)):
        p95 = pct(times[k], 95)
        ratio = p95 / base if base else 0
        q = queries.get(k, 0)
        say(f"{k[:60]:60} {len(times[k]):5} {pct(times[k], 50):7.0f} {p95:7.0f} {ratio:6.1f} {q:7} {errors.get(k, 0):6}")
        if p95 > 300 or (base and ratio > 3) or q > 30:
            over.append(k)
    for k, n in errors.items():
        if k not in times:
            say(f"{k[:60]:60} errors only: {n}")
    growth = {pid: rss1.get(pid, 0) - rss0.get(pid, 0) for pid in rss0}
    say(f"\nworkers' memory (MiB) after the warm-up {sorted(rss0.values())}, after the run {sorted(rss1.values())}; growth "
        f"{sorted(growth.values())} (workers replaced by --max-requests are not compared)")
    say(f"{len(over)} kinds of page over a target (p95 > 300 ms, > 3× baseline, > 30 queries); load now {load()}")


if __name__ == "__main__":
    main()
