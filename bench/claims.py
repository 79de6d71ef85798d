"""Claims speed (issue 5): a 200,000-line one-stop settlement file imported and every line decided
again; one decision notice as a clerk prints it; 1,000 notices into one PDF.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz_bench_claims .venv/bin/python bench/claims.py
        [--lines 200000] [--people 50000] [--baseline 2000] [--notices 1000]

    # the settlement audit in one process, then on a worker of 2 processes (started and stopped here):
    DATABASE_URL=… REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python -u bench/claims.py --skip-notices --workers

Baselines, run in the same process:
- settlement: the naive way on the first ``--baseline`` lines — per line a query for the person,
  one for the identities, get_or_create + SELECT FOR UPDATE of the cap rows and one INSERT — inside
  a transaction that is rolled back. It is also the oracle: its decided amounts must equal the
  bulk import's on those lines.
- notices: one PDF per notice (a new HTML document each time) beside the batch rate; with
  ``--workers`` the batch runs on a Celery worker of 1 process, then one of 2 (started and stopped by
  the bench, same DATABASE_URL and REDIS_URL, the queue purged first), and the ratio of the two is printed.
- settlement with ``--workers``: the audit in this one process (its parts one after the other), then
  the same file again (lines and caps taken out) as a chord of parts on a worker of
  ``--settlement-workers`` processes (default 2); both times, their ratio, and the oracle: every
  line's decision and the caps equal between the two.

The database named must be used for nothing else: people, identities and every claims table are
emptied first. Figures are printed; nothing is asserted about wall-clock time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import resource
import socket
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
WORKERS = "--workers" in sys.argv  # the batch on a Celery worker of 1, then 2 processes started here (REDIS_URL)
if not WORKERS:
    os.environ.pop("REDIS_URL", None)  # jobs run inline: the benchmark times the work, not a queue

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

CATEGORIES = ["DIBAO"] * 30 + ["TEKUN"] * 6 + ["DIBAO_BIANYUAN"] * 10 + ["FANPIN_ZHIPIN"] * 6 + ["ZHONGDU_CANJI"] * 8 + \
    ["BINGGU_YISHU", "ZAIXIANG_FUYUAN", "CANZHAN", "NONGCUN_60", "KUNNAN_DAXUESHENG", "YINBING_ZHIPIN"] * 2
DISEASES = [""] * 12 + ["肺癌", "脑梗死", "终末期肾病（尿毒症）"]


def empty_tables():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = current_schema() "
            "AND (tablename LIKE 'claims\\_%%' OR tablename IN ('beneficiaries_identity', 'beneficiaries_person'))"
        )
        cur.execute(f"TRUNCATE {cur.fetchone()[0]} RESTART IDENTITY CASCADE")


def user(username, role):
    from django.contrib.auth.models import Group

    from yfbz.core.models import User

    u, _ = User.objects.get_or_create(username=username)
    u.groups.add(Group.objects.get(name=role.value))
    return u


def make_people(n: int) -> list[tuple[str, str]]:
    from beneficiaries.models import Category, Identity, Person, Town
    from yfbz.rules.idcard import check_character

    rng = random.Random(5)
    towns = list(Town.objects.values_list("pk", flat=True))
    cats = dict(Category.objects.values_list("code", "pk"))
    people = []
    for i in range(n):
        birth = date(1930, 1, 1) + timedelta(days=i % 25_000)
        first17 = f"500112{birth:%Y%m%d}{(i // 25_000) % 1000:03d}"
        people.append(Person(id_number=first17 + check_character(first17), name=f"测试{i}", birth_date=birth,
                             sex="M" if i % 2 else "F", town_id=towns[i % len(towns)]))
    Person.objects.bulk_create(people, batch_size=5000)
    idents = []
    for pk in Person.objects.order_by("pk").values_list("pk", flat=True):
        idents.append(Identity(person_id=pk, category_id=cats[rng.choice(CATEGORIES)],
                               valid_from=date(2024, 1, 1) + timedelta(days=rng.randrange(500))))
    Identity.objects.bulk_create(idents, batch_size=5000)
    return [(p.id_number, p.name) for p in people]


def settlement_xlsx(people, n: int) -> bytes:
    """n lines of March 2025; the advanced amount is the engine's own figure for 93% of lines
    (with the year's caps running), off by a little for the rest: a realistic mix of disputes."""
    from openpyxl import Workbook

    from claims.settlement import LABEL
    from yfbz.rules import Bill, BillKind, CapLedger, Identity, Person, default_book

    rng = random.Random(11)
    book = default_book()
    ledger = CapLedger()
    idents = {}
    from beneficiaries.models import Identity as DbIdentity

    for idn, code, vf in DbIdentity.objects.values_list("person__id_number", "category__code", "valid_from"):
        idents.setdefault(idn, []).append(Identity(code, vf))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("结算")
    ws.append([LABEL[k] for k in ("settlement_no", "id_number", "name", "kind", "disease", "admitted_on", "settled_on",
                                  "total_cost", "in_policy_cost", "basic_paid", "critical_paid", "advanced")])
    rows = []
    for i in range(n):
        idn, name = people[rng.randrange(len(people))]
        day = date(2025, 3, 1 + i * 31 // n)
        inpatient = rng.random() < 0.6
        inpol = Decimal(rng.randrange(20_000, 6_000_000)) / 100 if inpatient else Decimal(rng.randrange(5_000, 200_000)) / 100
        basic = (inpol * Decimal("0.55")).quantize(Decimal("0.01"))
        disease = rng.choice(DISEASES)
        rows.append((f"H001-{i:07d}", idn, name, inpatient, disease, day, inpol, basic))
    for sno, idn, name, inpatient, disease, day, inpol, basic in sorted(rows, key=lambda r: r[5]):
        bill = Bill(BillKind.INPATIENT if inpatient else BillKind.OUTPATIENT, day, 2, inpol, basic,
                    Decimal("0.00"), disease or None, inpol)
        d = ledger.adjudicate(book.in_force(day), Person(idn, None, tuple(idents.get(idn, ()))), bill)
        adv = d.amount if rng.random() < 0.93 else d.amount + Decimal(rng.randrange(1, 50_000)) / 100
        ws.append([sno, idn, name, "住院" if inpatient else "门诊", disease, None, day.isoformat(),
                   str(inpol), str(inpol), str(basic), "0.00", str(adv)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def naive_baseline(data: bytes, month: date, count: int, institution) -> tuple[float, dict[str, Decimal]]:
    """Per-line queries and inserts, rolled back. Returns (lines/s, decided amount by settlement number)."""
    from beneficiaries.models import Person
    from claims import caps as cap_ledger
    from claims.models import SettlementFile, SettlementLine, SettlementMonth
    from claims.settlement import read_settlement_file
    from yfbz.policy.inputs import person_for_engine
    from yfbz.policy.selectors import policy_in_force
    from yfbz.rules import Bill, BillKind, adjudicate

    rows = sorted(read_settlement_file(data, "b.xlsx", month), key=lambda r: (r.settled_on, r.line_no))[:count]
    out = {}
    t = time.perf_counter()
    with transaction.atomic():
        sm = SettlementMonth.objects.create(institution=institution, month=date(2000, 1, 1))
        f = SettlementFile.objects.create(settlement_month=sm, file_name="baseline", data=b"", sha256="baseline",
                                          uploaded_by=_clerk())
        for r in rows:
            p = Person.objects.filter(id_number=r.id_number).first()
            ledger = cap_ledger.lock({(p.pk, r.settled_on.year)})
            used = ledger.used(p.pk, r.settled_on.year)
            bill = Bill(BillKind(r.kind), r.settled_on, institution.level, r.in_policy_cost, r.basic_paid,
                        r.critical_paid, r.disease or None, r.total_cost, r.admitted_on, r.settlement_no)
            d = adjudicate(policy_in_force(r.settled_on), person_for_engine(p), bill, used)
            if d.scheme is not None and d.amount:
                ledger.add(p.pk, r.settled_on.year, str(d.scheme), d.amount)
            SettlementLine.objects.create(
                file=f, settlement_month=sm, institution=institution, line_no=r.line_no, settlement_no="B" + r.settlement_no,
                person=p, id_number=r.id_number, name=r.name, kind=r.kind, settled_on=r.settled_on,
                in_policy_cost=r.in_policy_cost, basic_paid=r.basic_paid, advanced=r.advanced, decided=d.amount,
                outcome="AGREED" if d.amount == r.advanced else "DISPUTED",
            )
            out[r.settlement_no] = d.amount
        rate = len(rows) / (time.perf_counter() - t)
        transaction.set_rollback(True)
    return rate, out


_CLERK = []


def _clerk():
    from yfbz.core.roles import Role

    if not _CLERK:
        _CLERK.append(user("bench_clerk", Role.DISTRICT_CLERK))
    return _CLERK[0]


def bench_settlement(args, people):
    from claims.models import Institution, SettlementLine
    from claims.settlement import settlement_file_import, settlement_file_upload

    inst = Institution.objects.create(code="H001", name="基准测试医院", level=2)
    t = time.perf_counter()
    data = settlement_xlsx(people, args.lines)
    print(f"data: {args.lines} settlement lines written to xlsx ({len(data) / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")
    month = date(2025, 3, 1)
    clerk = _clerk()
    base_rate, base_amounts = naive_baseline(data, month, args.baseline, inst)
    t = time.perf_counter()
    f = settlement_file_upload(institution=inst, month=month, file_name="H001-2025-03.xlsx", data=data, user=clerk)
    uploaded = time.perf_counter() - t
    t = time.perf_counter()
    f = settlement_file_import(file_id=f.pk, user=clerk, inline=True)
    audit = time.perf_counter() - t
    total = uploaded + audit
    rate = f.lines_total / total
    got = dict(SettlementLine.objects.filter(file=f, settlement_no__in=list(base_amounts)).values_list("settlement_no", "decided"))
    mismatches = sum(1 for k, v in base_amounts.items() if got.get(k) != v)
    print(f"settlement import: {f.lines_total} lines read, decided again, sorted and stored in {total:.1f} s "
          f"({rate:,.0f} lines/s; upload {uploaded:.1f} s, audit {audit:.1f} s in one process, "
          f"{f.parts.count()} parts); agreed {f.lines_agreed}, disputed {f.lines_disputed}, agreed total {f.agreed_total}")
    print(f"  baseline (per-line queries, first {args.baseline} lines): {base_rate:,.0f} lines/s; "
          f"ratio {rate / base_rate:.1f}x; oracle mismatches {mismatches} of {len(base_amounts)}")
    print(f"  target: {args.lines} lines < 60 s -> {'met' if total < 60 else 'NOT met'}")
    if WORKERS:
        settlement_on_workers(args, f, audit)


def _outcome(f):
    from claims.models import CapUsage, SettlementLine

    lines = dict((r[0], r[1:]) for r in SettlementLine.objects.filter(file=f).values_list(
        "line_no", "settlement_no", "outcome", "dispute", "decided", "payable", "duplicate", "scheme"))
    caps = set(CapUsage.objects.filter(used__gt=0).values_list("person_id", "year", "scheme", "used"))
    return lines, caps


def settlement_on_workers(args, f, one_process: float):
    """The same file's audit again on N worker processes (lines and caps taken out first)."""
    from claims.models import CapUsage, SettlementFile, SettlementFilePart, SettlementLine
    from claims.tasks import settlement_import

    lines_one, caps_one = _outcome(f)
    f_totals = (f.lines_total, f.lines_agreed, f.lines_disputed, f.agreed_total)
    with transaction.atomic():
        SettlementLine.objects.filter(file=f).delete()
        SettlementFilePart.objects.filter(file=f).delete()
        CapUsage.objects.update(used=Decimal("0.00"))
        SettlementFile.objects.filter(pk=f.pk).update(status="QUEUED", job_token="", job_tries=0, lines_total=0,
                                                      lines_agreed=0, lines_disputed=0)
    with celery_worker(args.settlement_workers):
        t = time.perf_counter()
        settlement_import.delay(f.pk)
        while True:
            f.refresh_from_db()
            if f.status in ("DONE", "FAILED"):
                break
            time.sleep(0.05)
        took = time.perf_counter() - t
    assert f.status == "DONE", f.error
    lines_n, caps_n = _outcome(f)
    bad = sum(1 for k, v in lines_one.items() if lines_n.get(k) != v) + len(set(lines_n) - set(lines_one))
    same_caps = caps_n == caps_one
    print(f"settlement audit with {args.settlement_workers} workers (`celery -A yfbz worker -c {args.settlement_workers}`, "
          f"{f.parts.count()} parts of <= {_part_lines()} lines): {took:.1f} s; one process: {one_process:.1f} s; "
          f"ratio {one_process / took:.2f}x")
    print(f"  oracle: {len(lines_one) - bad} of {len(lines_one)} lines decided alike, {bad} differ; caps "
          f"{'equal' if same_caps else 'DIFFER'} ({len(caps_n)} rows); totals "
          f"{'equal' if (f.lines_total, f.lines_agreed, f.lines_disputed, f.agreed_total) == f_totals else 'DIFFER'}")
    verdict = ("n/a (the target is for 200,000 lines on 2 workers)" if f.lines_total < 200_000 or args.settlement_workers != 2
               else "met" if took < 30 else "NOT met")
    print(f"  target: 200,000 lines < 30 s with 2 workers -> {verdict}")


def _part_lines() -> int:
    from claims.settlement import _part_lines as part_lines

    return part_lines()


def approved_decisions(n: int) -> list:
    from beneficiaries.models import Person
    from claims.models import Institution
    from claims.services import bill_decide, bill_enter, decision_approve
    from yfbz.core.roles import Role

    clerk, reviewer = _clerk(), user("bench_reviewer", Role.DISTRICT_REVIEWER)
    inst = Institution.objects.create(code="H002", name="渝北区人民医院", level=2)
    out = []
    for i, p in enumerate(Person.objects.order_by("-pk")[:n]):
        bill = bill_enter(user=clerk, person=p, institution=inst, kind="INPATIENT", disease="",
                          admitted_on=date(2025, 5, 1), settled_on=date(2025, 5, 9), total_cost=Decimal("16000.00"),
                          in_policy_cost=Decimal("14000.00") + i, basic_paid=Decimal("9000.00"), critical_paid=Decimal("0.00"),
                          account_holder=p.name, bank_name="重庆农村商业银行", bank_account=f"62284800{i:08d}")
        d = bill_decide(bill_id=bill.pk, user=clerk)
        if d.provisional:
            decision_approve(bill_id=bill.pk, user=reviewer, confirm_provisional=True)
        else:
            decision_approve(bill_id=bill.pk, user=reviewer)
        out.append(d)
    return out


def bench_notices(args):
    from claims import notices as notices_module
    from claims.notices import _decisions, _pdf, notice_print, notices_number, render_notices

    if args.chunk:  # the coordinator runs in this process: its part size is this one's
        notices_module.BATCH_CHUNK = args.chunk

    t = time.perf_counter()
    decisions = approved_decisions(args.notices * (2 if WORKERS else 1) + 30)
    print(f"data: {len(decisions)} bills entered, decided and approved through the services in {time.perf_counter() - t:.1f} s")
    clerk = _clerk()
    t = time.perf_counter()
    notice_print(decision=decisions[0], user=clerk)
    cold = time.perf_counter() - t
    singles = []
    for d in decisions[1:6]:
        t = time.perf_counter()
        notice_print(decision=d, user=clerk)
        singles.append(time.perf_counter() - t)
    median = sorted(singles)[len(singles) // 2]  # (bench/statistics.py shadows the standard library's module)
    print(f"one notice as a clerk prints it (number, print record, PDF): first {cold:.2f} s (fonts loaded), "
          f"then median {median:.3f} s -> target < 0.5 s {'met' if median < 0.5 else 'NOT met'}")
    one_by_one = decisions[6:30]
    notices = notices_number(decisions=_decisions([d.pk for d in one_by_one]))
    t = time.perf_counter()
    for n in notices:
        _pdf([render_notices([n])])
    single_rate = len(notices) / (time.perf_counter() - t)
    if not WORKERS:
        rate, took, size = run_batch([d.pk for d in decisions[30 : 30 + args.notices]], clerk)
        print(f"batch: {args.notices} notices into one PDF ({size / 1e6:.1f} MB) in {took:.1f} s = {rate:.1f} notices/s; "
              f"one document at a time: {single_rate:.1f} notices/s; ratio {rate / single_rate:.1f}x "
              f"-> target >= 15/s in one process {'met' if rate >= 15 else 'NOT met'}")
        return
    # the same batch size on 1 worker process, then on 2 (each started here, stopped after): the ratio is the
    # speed-up per worker; each batch numbers its own decisions
    rates = {}
    for n, c in enumerate((1, 2)):
        ids = [d.pk for d in decisions[30 + n * args.notices : 30 + (n + 1) * args.notices]]
        with celery_worker(c):
            rate, took, size = run_batch(ids, clerk)
        rates[c] = rate
        print(f"batch on {c} worker process{'es' if c > 1 else ''}: {args.notices} notices into one PDF "
              f"({size / 1e6:.1f} MB) in {took:.1f} s = {rate:.1f} notices/s")
    print(f"  one document at a time: {single_rate:.1f} notices/s; 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x; "
          f"2 workers / one at a time: {rates[2] / single_rate:.1f}x -> target >= 30/s with 2 workers "
          f"{'met' if rates[2] >= 30 else 'NOT met'}")


def run_batch(ids, clerk) -> tuple[float, float, int]:
    """One batch from the coordinator to the merged PDF (inline, or on the running workers)."""
    from claims.models import NoticeBatch
    from claims.notices import notice_batch_render

    with transaction.atomic():
        batch = NoticeBatch.objects.create(requested_by=clerk, decision_ids=ids, progress_total=len(ids))
    t = time.perf_counter()
    notice_batch_render(batch_id=batch.pk)  # eager: inline; else its parts go to the running workers
    batch.refresh_from_db()
    while batch.status not in (NoticeBatch.Status.DONE, NoticeBatch.Status.FAILED):
        time.sleep(0.05)
        batch.refresh_from_db()
    took = time.perf_counter() - t
    assert batch.status == NoticeBatch.Status.DONE, batch.error
    return len(ids) / took, took, len(bytes(NoticeBatch.objects.filter(pk=batch.pk).values_list("pdf", flat=True)[0]))


@contextlib.contextmanager
def celery_worker(concurrency: int):
    """A Celery worker with ``concurrency`` processes on this database and broker, stopped afterwards.
    ``--purge``: the queue is emptied first. The bench's own data step (bills entered, decided and approved
    through the services: 1,230 for 600 notices) asks for a statistics refresh after each commit, 3,690
    messages; the first worker took them before the batch's parts (600 notices on 1 process: 143 s)."""
    import subprocess

    from yfbz.celery import app

    name = f"bench-notices-{concurrency}-{os.getpid()}@%h"
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "yfbz", "worker", "-c", str(concurrency), "-n", name,
                             "--loglevel", "WARNING", "--purge", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                            cwd=ROOT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 300
        while not app.control.ping(destination=[name.replace("%h", socket.gethostname())], timeout=1):
            assert proc.poll() is None and time.monotonic() < deadline, "the Celery worker did not start"
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--baseline", type=int, default=2000)
    ap.add_argument("--notices", type=int, default=1000)
    ap.add_argument("--skip-notices", action="store_true")
    ap.add_argument("--chunk", type=int, default=0, help="notices per part (default: claims.notices.BATCH_CHUNK)")
    ap.add_argument("--skip-settlement", action="store_true")
    ap.add_argument("--workers", action="store_true",
                    help="keep REDIS_URL: the batch runs on a worker of 1, then 2 processes started by the bench; the "
                         "settlement audit runs in one process, then on a worker of --settlement-workers processes")
    ap.add_argument("--settlement-workers", type=int, default=2, help="processes of the settlement audit's worker")
    args = ap.parse_args()
    assert connection.vendor == "postgresql", "run on PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    empty_tables()
    from yfbz.core.health import check_pdf_fonts

    print(f"HarfBuzz subsetter: {check_pdf_fonts()}")
    t = time.perf_counter()
    people = make_people(args.people)
    print(f"data: {args.people} people with identities in {time.perf_counter() - t:.1f} s")
    if not args.skip_settlement:
        bench_settlement(args, people)
    if not args.skip_notices:
        bench_notices(args)
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
