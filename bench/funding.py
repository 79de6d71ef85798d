"""Funding speed (issue 6): the year's subsidy run over 200,000 people, and the monthly fund request
over 200,000 approved payables (then one payment batch, its bank file and the bank confirmation).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz_bench_funding .venv/bin/python bench/funding.py
        [--people 200000] [--payables 200000] [--baseline 2000] [--workers 2]

``--workers N`` (issue 14) also runs the subsidy run spread over real ``celery -A yfbz worker -c N``
processes on REDIS_URL (started here, stopped at the end): the year's results are emptied and the
same run is sent as the task ``funding.subsidy_run_execute`` (a chord of part tasks); its time is
printed beside the one-process time of the same data, with their ratio, and its results must equal
the one-process run's (the oracle). ``--payables 0`` leaves out the fund request.

The baseline, run in the same process on the first ``--baseline`` people/payables, is the naive
way: per person one query for identities, one for the enrolment and an update_or_create; per
payable one INSERT. It is also the oracle: its subsidy amounts must equal the run's.
The payables come from a provider registered here (funding.payables.register_provider) with the
shape of claims.selectors.payables: generating 200,000 approved claim decisions through the claims
services would bench the claims app, not the fund request.

The database named must be used for nothing else: people, identities and all funding tables are
emptied first. Figures are printed; nothing is asserted about wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
REDIS_URL = os.environ.pop("REDIS_URL", None)  # jobs run inline: the benchmark times the work, not a queue

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

CATEGORIES = ["DIBAO"] * 30 + ["TEKUN"] * 6 + ["DIBAO_BIANYUAN"] * 10 + ["FANPIN_ZHIPIN"] * 6 + ["ZHONGDU_CANJI"] * 8 + \
    ["BINGGU_YISHU", "ZAIXIANG_FUYUAN", "CANZHAN", "NONGCUN_60", "KUNNAN_DAXUESHENG", "CANJI_1_6"] * 2
KINDS = ["RESIDENT_T1"] * 12 + ["RESIDENT_T2"] * 3 + ["EMPLOYEE_INDIVIDUAL", "EMPLOYEE_EMPLOYER", "NOT_ENROLLED"]


def empty_tables():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = current_schema() "
            "AND (tablename LIKE 'funding\\_%%' AND tablename <> 'funding_account' OR tablename IN "
            "('beneficiaries_identity', 'beneficiaries_person'))"
        )
        tables = cur.fetchone()[0]
        cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def user(username, role):
    from django.contrib.auth.models import Group

    from yfbz.core.models import User

    u, _ = User.objects.get_or_create(username=username)
    u.groups.add(Group.objects.get(name=role.value))
    return u


def make_people(n: int) -> None:
    from beneficiaries.models import Category, Identity, Person, PersonAttribute, Town
    from funding.models import Enrolment
    from yfbz.rules.idcard import check_character

    rng = random.Random(6)
    towns = list(Town.objects.values_list("pk", flat=True))
    cats = dict(Category.objects.values_list("code", "pk"))
    people = []
    for i in range(n):
        birth = date(1930, 1, 1) + timedelta(days=i % 25_000)
        first17 = f"500112{birth:%Y%m%d}{(i // 25_000) % 1000:03d}"
        people.append(Person(id_number=first17 + check_character(first17), name=f"测试{i}", birth_date=birth,
                             sex="M" if i % 2 else "F", town_id=towns[i % len(towns)]))
    Person.objects.bulk_create(people, batch_size=5000)
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    PersonAttribute.objects.bulk_create(
        [PersonAttribute(person_id=pk, attribute="needs_maintenance_treatment", valid_from=date(2020, 1, 1), source="bench")
         for i, pk in enumerate(ids) if i % 50 == 0], batch_size=5000)
    idents, enrols = [], []
    for pk in ids:
        idents.append(Identity(person_id=pk, category_id=cats[rng.choice(CATEGORIES)], valid_from=date(2024, 1, 1) + timedelta(days=rng.randrange(600))))
        if rng.random() < 0.15:  # a second identity for some
            idents.append(Identity(person_id=pk, category_id=cats[rng.choice(CATEGORIES)], valid_from=date(2023, 6, 1),
                                   valid_to=date(2025, 1, 1) + timedelta(days=rng.randrange(400))))
        if rng.random() < 0.95:
            enrols.append(Enrolment(person_id=pk, year=2025, kind=rng.choice(KINDS)))
    Identity.objects.bulk_create(idents, batch_size=5000)
    Enrolment.objects.bulk_create(enrols, batch_size=5000)


RESULT = ("person_id", "enrolment", "category", "group", "standard_amount", "amount", "reasons", "provisional",
          "policy_version", "town_id")


def spread_over_workers(n: int, clerk) -> None:
    """The first run of the year again, in one process and then on ``n`` real worker processes, each from
    the same state (the year's results emptied): times, ratio, oracle."""
    import subprocess

    from funding import services
    from funding.models import SubsidyResult, SubsidyRun
    from funding.tasks import subsidy_run_execute
    from yfbz.celery import app

    def empty():
        with connection.cursor() as cur:
            cur.execute("TRUNCATE funding_subsidyresult")
            cur.execute("VACUUM ANALYZE funding_subsidyresult")

    empty()
    one_run = SubsidyRun.objects.create(year=2025, started_by=clerk)
    t = time.perf_counter()
    services.subsidy_run_execute(run_id=one_run.pk)
    one_s = time.perf_counter() - t
    one = set(SubsidyResult.objects.filter(year=2025).values_list(*RESULT))
    empty()
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-funding-workers-{os.getpid()}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "yfbz", "worker", "-c", str(n), "-l", "INFO", "--purge", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-n", f"bench-funding-{os.getpid()}@%h"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "0"},
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while b" ready." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the workers did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        app.conf.update(task_always_eager=False, broker_url=REDIS_URL, result_backend=REDIS_URL)
        run = SubsidyRun.objects.create(year=2025, started_by=clerk)
        t = time.perf_counter()
        subsidy_run_execute.delay(run.pk)
        while not SubsidyRun.objects.filter(pk=run.pk, status__in=["done", "failed"]).exists():
            time.sleep(0.1)
        w_s = time.perf_counter() - t
        app.conf.update(task_always_eager=True)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    run.refresh_from_db()
    if run.status != "done":
        raise SystemExit(f"the run on workers failed: {run.error}\n{log.read_text(errors='replace')[-3000:]}")
    spread = set(SubsidyResult.objects.filter(year=2025).values_list(*RESULT))
    diff = len(one ^ spread)
    print(f"subsidy run on {n} worker processes: {run.progress_done} people in {w_s:.1f} s ({run.progress_done / w_s:,.0f}/s) "
          f"in {run.parts.count()} parts; the same run in one process {one_s:.1f} s; ratio one process / {n} workers = "
          f"{one_s / w_s:.2f}x; "
          f"results differing from the one-process run: {diff} (oracle) — target < 60 s at 1M: "
          f"{'OK' if w_s < 60 else 'MISSED'} at this size")
    if diff:
        raise SystemExit("oracle: the run on workers differs from the one-process run")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=200_000)
    ap.add_argument("--payables", type=int, default=200_000)
    ap.add_argument("--baseline", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=0, help="also run the subsidy run on N real Celery worker processes")
    args = ap.parse_args()
    if args.workers and not REDIS_URL:
        ap.error("--workers needs REDIS_URL (the workers' broker)")
    assert connection.vendor == "postgresql", "run on PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    empty_tables()
    from funding import services
    from funding.models import PayableLine, Payment, SubsidyResult, SubsidyRun
    from funding.payables import PROVIDERS, Payable, Provider, register_provider
    from yfbz.core.roles import Role

    clerk, reviewer, fin = user("bench_clerk", Role.DISTRICT_CLERK), user("bench_reviewer", Role.DISTRICT_REVIEWER), user("bench_fin", Role.FINANCE)
    t = time.perf_counter()
    make_people(args.people)
    print(f"data: {args.people} people generated in {time.perf_counter() - t:.1f} s")

    # --- subsidy run ---------------------------------------------------------------------------------
    run = SubsidyRun.objects.create(year=2025, started_by=clerk)
    t = time.perf_counter()
    services.subsidy_run_execute(run_id=run.pk)
    run_s = time.perf_counter() - t
    run.refresh_from_db()
    print(f"subsidy run: {run.progress_done} people in {run_s:.1f} s ({run.progress_done / run_s:,.0f}/s); "
          f"eligible {run.count_eligible}, total {run.total_amount} — target < 60 s: {'OK' if run_s < 60 else 'MISSED'}")
    if args.workers:
        spread_over_workers(args.workers, clerk)
    # re-run after a roster change: 1% of the people lose their identities, 1% become TEKUN as well
    from beneficiaries.models import Category, Identity
    changed = list(SubsidyResult.objects.order_by("person_id").values_list("person_id", flat=True)[: args.people // 50])
    Identity.objects.filter(person_id__in=changed[: len(changed) // 2]).delete()
    tekun = Category.objects.get(code="TEKUN")
    Identity.objects.bulk_create([Identity(person_id=pk, category=tekun, valid_from=date(2025, 6, 1)) for pk in changed[len(changed) // 2:]])
    rerun = SubsidyRun.objects.create(year=2025, started_by=clerk)
    t = time.perf_counter()
    services.subsidy_run_execute(run_id=rerun.pk)
    rerun_s = time.perf_counter() - t
    rerun.refresh_from_db()
    print(f"subsidy re-run: {rerun_s:.1f} s; changed {rerun.count_changed}, no longer subsidised {rerun.count_removed}")

    # baseline (naive, per person) on the first N people, also the oracle
    from beneficiaries.models import Identity as I2  # noqa: N817
    from beneficiaries.models import Person, PersonAttribute
    from funding.models import Enrolment
    from yfbz.policy.selectors import policy_in_force
    from yfbz.rules import Identity as RI
    from yfbz.rules import Person as RP
    from yfbz.rules import contribution_subsidy

    t = time.perf_counter()
    naive = {}
    for p in Person.objects.order_by("pk")[: args.baseline]:
        rows = [RI(c, vf, vt) for c, vf, vt in I2.objects.filter(person=p).values_list("category__code", "valid_from", "valid_to")]
        e = Enrolment.objects.filter(person=p, year=2025).first()
        kind = None if e is None or e.kind == "NOT_ENROLLED" else e.kind
        attrs = frozenset(PersonAttribute.objects.filter(person=p).values_list("attribute", flat=True))
        d = contribution_subsidy(policy_in_force(date(2025, 12, 31)), RP(p.id_number, p.birth_date, tuple(rows), attrs), 2025, kind)
        if d.amount > 0 or d.group:
            SubsidyResult.objects.update_or_create(person=p, year=2025, defaults={"amount": d.amount, "category": d.category or "", "run": rerun})
        naive[p.pk] = d.amount
    naive_s = time.perf_counter() - t
    got = dict(SubsidyResult.objects.filter(person_id__in=list(naive)).values_list("person_id", "amount"))
    mismatch = [pk for pk, amt in naive.items() if got.get(pk, Decimal("0.00")) != amt]
    per_run, per_naive = run_s / max(run.progress_done, 1), naive_s / args.baseline
    print(f"baseline (naive per person): {args.baseline} in {naive_s:.1f} s ({args.baseline / naive_s:,.0f}/s); "
          f"ratio naive/run per person = {per_naive / per_run:.1f}x; oracle mismatches: {len(mismatch)}")

    if not args.payables:
        print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
        return
    # --- fund request over N payables ----------------------------------------------------------------
    towns = list(__import__("beneficiaries.models", fromlist=["Town"]).Town.objects.values_list("pk", flat=True))
    rng = random.Random(9)

    def bench_payables(*, year, month):
        for i in range(args.payables):
            inst = i % 40 == 0
            fund = "YOUFU" if i % 25 == 1 else "ASSISTANCE"
            yield Payable(f"bench:{i}", "INSTITUTION" if inst else "PERSON", f"医院{i % 97}" if inst else f"测试{i}", "农商行",
                          f"6228{i:012d}", "ASSISTANCE" if inst else fund, "INSTITUTION" if inst else "BENEFIT_PERSON",
                          "ONE_STOP" if inst else rng.choice(["INPATIENT", "OUTPATIENT", "MAJOR_DISEASE"]) if fund == "ASSISTANCE" else "YOUFU",
                          None if inst else towns[i % len(towns)], Decimal(rng.randrange(100, 900_000)) / 100)

    saved = dict(PROVIDERS)
    PROVIDERS.clear()
    register_provider(Provider("bench", bench_payables, lambda **kw: None))
    t = time.perf_counter()
    req = services.fund_request_create(year=2025, month=3, user=clerk)
    req_s = time.perf_counter() - t
    print(f"fund request: {req.line_count} payables in {req_s:.1f} s ({req.line_count / req_s:,.0f}/s); assistance {req.total_assistance}, "
          f"youfu {req.total_youfu} — target < 60 s: {'OK' if req_s < 60 else 'MISSED'}")
    from funding.notices import fund_request_pdf
    from funding.selectors import request_summary
    t = time.perf_counter()
    pdf = fund_request_pdf(req, request_summary(req))
    print(f"fund request PDF: {len(pdf) // 1024} KiB in {time.perf_counter() - t:.1f} s")

    services.money_in(account="SPECIAL", kind="INCOME_CENTRAL", amount=req.total_assistance, on=date(2025, 3, 1), counterpart="CENTRAL",
                      source_document="bench", description="bench", entered_by=fin, approved_by=reviewer)
    services.fund_request_submit(request_id=req.pk, user=reviewer)
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="bench", entered_by=fin, approved_by=reviewer)
    t = time.perf_counter()
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    b_s = time.perf_counter() - t
    from funding.exports import bank_file_xlsx
    t = time.perf_counter()
    xlsx = bank_file_xlsx(batch)
    x_s = time.perf_counter() - t
    failed = dict.fromkeys(Payment.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True)[:100], "账号有误")
    t = time.perf_counter()
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 28), failures=failed, user=reviewer)
    c_s = time.perf_counter() - t
    print(f"payment batch: {batch.payments.count()} payments created in {b_s:.1f} s, bank file {len(xlsx) // 1024} KiB in {x_s:.1f} s, "
          f"confirmed (100 failed) in {c_s:.1f} s")

    # baseline: one INSERT per payable
    PROVIDERS.clear()
    PROVIDERS.update(saved)
    from funding.models import FundRequest
    t = time.perf_counter()
    naive_req = FundRequest.objects.create(year=2025, month=4, number="BENCH-NAIVE", created_by=clerk)
    for i, p in enumerate(bench_payables(year=2025, month=4)):
        if i >= args.baseline:
            break
        PayableLine.objects.create(request=naive_req, provider="bench", source_key=f"naive:{i}", payee_kind=p.payee_kind, payee_name=p.payee_name,
                                   bank_name=p.bank_name, bank_account=p.bank_account, fund=p.fund, spending=p.spending,
                                   scheme=p.scheme, town_id=p.town_id, amount=p.amount)
    naive_req_s = time.perf_counter() - t
    print(f"baseline (one INSERT per payable): {args.baseline} in {naive_req_s:.1f} s; ratio naive/request per payable = "
          f"{(naive_req_s / args.baseline) / (req_s / req.line_count):.1f}x")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
