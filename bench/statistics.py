"""Benchmark of the statistics (issue 13): a district-year of decisions and subsidies on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz_bench_statistics .venv/bin/python bench/statistics.py
    … bench/statistics.py --decisions 100000 --subsidies 15000 --people 20000     # a small run

Generates (COPY) people, institutions, hand-settled bills each with an approved decision spread
over the year, and the year's contribution subsidies; then measures and prints:

1. building every fact and aggregate of the year from the claims records (``rebuild_year``);
2. a closed month (``reporting.build.close_month``) arriving whole: November's decisions are first
   withdrawn (not approved) and brought in (their facts leave), then approved and brought in again —
   every fact of the month new from its bills' decisions (INSERT … SELECT), the presence of its people
   (reporting.Presence, a row per person), the aggregates of the month, its quarter and the year — target < 30 s — with
   the seconds of each step; the same month closed again with nothing changed; and the facts of 5,000
   of its bills built the old way (Fact objects in Python, ``facts_for_bills`` + ``bulk_create``)
   against the SQL path: the ratio;
3. every statistics page for the year (each cut, the year, a quarter, a month, a town, the
   dashboard), served through Django as a logged-in district clerk, median of 5 — target < 300 ms;
4. the baseline, in the same process: the same figures for the year computed by a query over the
   decisions themselves (what a page would cost without aggregates), and the ratio.

Then it checks the rows 2a and 2b left for the month, its quarter and the year against the same periods
counted from the facts by the definition (``aggregate_period_at_once``): every cell and figure must be equal.

Run again on the same data: ``--keep`` (no generation; step 1 builds the year again), ``--keep --skip-year``
(from step 2, on the year as the last run left it: the month is withdrawn, arrives whole, is built again).

It empties its own database first: never point it at real data (the name must contain "bench").
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named statistics.py (the issue asks for bench/statistics.py): take its folder off the
# path before anything imports the standard library's statistics module
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics as stats_mod  # noqa: E402
import time  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")

import django  # noqa: E402

YEAR = 2025


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def copy_rows(model, rows: list[dict]) -> None:
    """COPY rows into a model's table; columns not given take the field's default."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    cols = [connection.ops.quote_name(f.column) for f in fields]
    defaults = {}
    for f in fields:
        if f.has_default():
            defaults[f.attname] = f.get_default()
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = datetime.now(UTC)
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    pg = connection.connection
    with pg.cursor() as cur:
        with cur.copy(f"COPY {model._meta.db_table} ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                vals = []
                for f in fields:
                    v = r.get(f.attname, defaults[f.attname])
                    if isinstance(v, (list, dict)):
                        v = json.dumps(v, ensure_ascii=False)
                    vals.append(v)
                cp.write_row(vals)


def generate(n_decisions: int, n_subsidies: int, n_people: int, seed: int = 2025) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from beneficiaries.models import Category, Person, Town
    from claims.models import Bill, Decision, Institution
    from funding.models import SubsidyResult, SubsidyRun
    from yfbz.core.models import User
    from yfbz.core.roles import Role

    rng = random.Random(seed)
    t0 = time.monotonic()
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE reporting_fact, reporting_aggregate, reporting_subsidyaggregate, reporting_refreshqueue, "
            "claims_decision, claims_billstatuschange, claims_bill, claims_capusage, funding_subsidyresult, "
            "funding_subsidychange, funding_subsidyrun, claims_institution, beneficiaries_identity, "
            "beneficiaries_person CASCADE"
        )
    clerk, _ = User.objects.get_or_create(username="bench_clerk")
    clerk.password_changed_at = datetime.now(UTC)  # else every page sends the clerk to change the password
    clerk.save()
    clerk.groups.add(Group.objects.get(name=Role.DISTRICT_CLERK.value))
    reviewer, _ = User.objects.get_or_create(username="bench_reviewer")
    towns = list(Town.objects.values_list("pk", flat=True))
    cats = list(Category.objects.values_list("code", flat=True))
    people = []
    # a person's town and identity category are theirs all year (as the rosters make them); a decision
    # records the town and the category it was made under (docs/statistics.md)
    person_cat = {}
    for i in range(n_people):
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 60))
        people.append({"id_number": f"B{i:017d}",  # not a real number: nobody's
                       "name": "测试" + str(i % 97), "birth_date": birth, "sex": "M" if i % 2 else "F",
                       "town_id": towns[i % len(towns)]})
    copy_rows(Person, people)
    pids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    person_town = dict(Person.objects.values_list("pk", "town_id"))
    person_cat = {pid: rng.choice(cats) for pid in pids}
    for code, level in (("I0", 0), ("I1", 1), ("I2", 2), ("I3", 3)):
        Institution.objects.create(code=code, name=f"测试医院{code}", level=level)
    insts = list(Institution.objects.values_list("pk", flat=True))
    print(f"people {n_people:,} in {time.monotonic() - t0:.1f}s", flush=True)

    schemes = ["OUTPATIENT", "INPATIENT", "MAJOR_DISEASE", "LARGE_EXPENSE", ""]
    chunk = 200_000
    made = 0
    now = datetime.now(UTC)
    while made < n_decisions:
        n = min(chunk, n_decisions - made)
        bills, days = [], []
        for _ in range(n):
            day = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
            inpol = Decimal(rng.randrange(100, 5_000_000)) / 100
            days.append(day)
            pid = rng.choice(pids)
            bills.append({"person_id": pid, "town_id": person_town[pid], "institution_id": rng.choice(insts),
                          "kind": rng.choice(["INPATIENT", "OUTPATIENT"]), "settled_on": day, "total_cost": inpol,
                          "in_policy_cost": inpol, "basic_paid": (inpol * Decimal("0.5")).quantize(Decimal("0.01")),
                          "critical_paid": Decimal("0.00"), "status": "APPROVED", "entered_by_id": clerk.pk,
                          "entered_at": now})
        first = (Bill.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        copy_rows(Bill, bills)
        ids = list(Bill.objects.filter(pk__gte=first).order_by("pk").values_list("pk", "person_id", "settled_on",
                                                                                    "in_policy_cost", "basic_paid"))
        decisions = []
        for pk, pid, day, inpol, basic in ids:
            base = inpol - basic
            scheme = rng.choice(schemes)
            amount = (base * Decimal("0.7")).quantize(Decimal("0.01")) if scheme else Decimal("0.00")
            decisions.append({"bill_id": pk, "person_id": pid, "year": YEAR, "settled_on": day, "policy_version": "bench",
                              "town_id": person_town[pid],
                              "scheme": scheme, "category": person_cat[pid] if scheme else "", "base": base,
                              "assistance": amount, "youfu_subsidy": Decimal("0.00"), "explanation": "",
                              "decided_by_id": clerk.pk, "decided_at": now, "reviewed_by_id": reviewer.pk,
                              "reviewed_at": now, "is_current": True})
        copy_rows(Decision, decisions)
        made += n
        print(f"bills and decisions {made:,} in {time.monotonic() - t0:.1f}s", flush=True)
    run = SubsidyRun.objects.create(year=YEAR, status="done", started_by=clerk, finished_at=now)
    subs = rng.sample(pids, min(n_subsidies, len(pids)))
    copy_rows(SubsidyResult, [{"person_id": pid, "year": YEAR, "enrolment": rng.choice(["RESIDENT_T1", "RESIDENT_T2"]),
                               "category": rng.choice(cats), "amount": Decimal(rng.choice([280, 400, 775])), "run_id": run.pk}
                              for pid in subs])
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"generated {n_decisions:,} decisions and {len(subs):,} subsidies in {time.monotonic() - t0:.1f}s", flush=True)


def timed(fn, repeat=1):
    times = []
    out = None
    for _ in range(repeat):
        t = time.monotonic()
        out = fn()
        times.append(time.monotonic() - t)
    return stats_mod.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decisions", type=int, default=2_000_000)
    ap.add_argument("--subsidies", type=int, default=300_000)
    ap.add_argument("--people", type=int, default=400_000)
    ap.add_argument("--keep", action="store_true", help="reuse the data already generated")
    ap.add_argument("--skip-year", action="store_true",
                    help="with --keep: leave out step 1 (the year as the last run left it) and start at 2")
    args = ap.parse_args()
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"] or "bench" not in db["NAME"]:
        sys.exit("point DATABASE_URL at a PostgreSQL database whose name contains 'bench' (it is emptied)")
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    print(f"load average at start: {load_avg()}")
    if not args.keep:
        generate(args.decisions, args.subsidies, args.people)

    from django.db.models import Count, Sum

    from claims.models import Bill, Decision
    from reporting.build import close_month, rebuild_year
    from reporting.models import Fact
    from reporting.sources import facts_for_bills, write_facts_for_bills
    from yfbz.core.models import User

    if not (args.keep and args.skip_year):
        secs, out = timed(lambda: rebuild_year(YEAR))
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in out["steps"].items())
        with connection.cursor() as cur:
            months = " || ".join(f"m{m:02d}" for m in range(1, 13))
            cur.execute(f"SELECT COUNT(*), COALESCE(SUM(cardinality({months})), 0) FROM reporting_presence "
                        "WHERE year = %s", [YEAR])
            rows, numbers = cur.fetchone()
        print(f"1. whole year built from the records: {out['facts']:,} facts, {out['cells']:,} aggregate cells in "
              f"{secs:.1f}s; steps: {steps}; presence: {rows:,} people, {numbers:,} (cell, kind, month) numbers")

    month = 11
    from django.db import transaction

    def approved(flag: bool) -> None:
        """The month's decisions approved (as generated) or not yet (reviewed_at empty): a month arriving."""
        with connection.cursor() as cur:
            cur.execute("UPDATE claims_decision SET reviewed_at = %s WHERE settled_on >= %s AND settled_on < %s",
                        [datetime.now(UTC) if flag else None, date(YEAR, month, 1), date(YEAR, month + 1, 1)])

    def show(label: str, secs: float, out: dict, target: bool = True) -> None:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in out["steps"].items())
        verdict = f" (target < 30 s: {'met' if secs < 30 else 'NOT met'})" if target else ""
        print(f"{label} ({out['bills']:,} bills, {out['facts']:,} facts): {secs:.1f}s{verdict}; steps: {steps}", flush=True)

    # the month as the year build left it withdrawn (its decisions not approved yet), then arriving whole:
    # every fact of the month new, every person of the month entering its cells — the most a month costs
    approved(False)
    secs, out = timed(lambda: close_month(YEAR, month))
    show("   (the month withdrawn first: its facts gone, its people leaving the quarter's and the year's counts)",
         secs, out, target=False)
    approved(True)
    secs, out = timed(lambda: close_month(YEAR, month))
    show("2a. a closed month arriving whole (every decision of the month approved since the last build): its facts "
         "from the records, the presence of all its people, the aggregates of the month, quarter and year", secs, out)
    secs, out = timed(lambda: close_month(YEAR, month))
    show("2b. the same closed month built again (its facts checked against the records, nothing changed, as when "
         "each approval was brought in by its refresh; the aggregates of the month, quarter and year written "
         "again)", secs, out)
    # the oracle: the month's, the quarter's and the year's rows as the builds moved them, against the same
    # periods counted from the facts by the definition (GROUPING SETS, COUNT(DISTINCT)) — every cell, every figure
    from reporting.build import MEASURES, aggregate_period_at_once
    from reporting.cuts import Period
    from reporting.models import Aggregate

    t = time.monotonic()
    report = []
    for period in (Period(YEAR, month=month), Period(YEAR, quarter=(month - 1) // 3 + 1), Period(YEAR)):
        want = {(a.grouping, a.key1, a.key2): tuple(getattr(a, m) for m in MEASURES)
                for a in aggregate_period_at_once(period)}
        have = {(a.grouping, a.key1, a.key2): tuple(getattr(a, m) for m in MEASURES)
                for a in Aggregate.objects.filter(year=YEAR, period=period.code)}
        wrong = sum(want.get(k) != have.get(k) for k in set(want) | set(have))
        report.append(f"{period.code} {len(want):,} cells, {wrong} differ")
        if wrong:
            print(f"   ORACLE FAILED for {period.code}: {sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))[:5]}")
    print(f"   oracle, the built rows against the periods counted from the facts: {'; '.join(report)} "
          f"({time.monotonic() - t:.1f}s)", flush=True)
    sample = list(Bill.objects.filter(settled_on__year=YEAR, settled_on__month=month).order_by("pk")
                  .values_list("pk", flat=True)[:5000])

    def facts_old_way():
        with transaction.atomic():
            Fact.objects.filter(bill_id__in=sample).delete()
            Fact.objects.bulk_create(facts_for_bills(sample), batch_size=5000)

    def facts_sql():
        with transaction.atomic():
            Fact.objects.filter(bill_id__in=sample).delete()
            write_facts_for_bills(sample)

    old_secs, _ = timed(facts_old_way)
    new_secs, _ = timed(facts_sql)
    print(f"   facts of {len(sample):,} bills: Fact objects in Python {old_secs:.2f}s, INSERT … SELECT {new_secs:.2f}s: "
          f"{old_secs / new_secs:.1f}x")

    user = User.objects.get(username="bench_clerk")
    client = Client()
    client.force_login(user)
    urls = [f"/reporting/?year={YEAR}&by={by}" for by in ("scheme", "category", "town", "level", "kind", "route", "")]
    urls += [f"/reporting/?year={YEAR}&period=Q2&by=category", f"/reporting/?year={YEAR}&period=M06&by=scheme",
             f"/reporting/?year={YEAR}&by=scheme&town=SLH", f"/reporting/dashboard/?year={YEAR}"]
    worst = 0.0
    for url in urls:
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as ctx:
            secs, resp = timed(lambda url=url: client.get(url), repeat=5)
        assert resp.status_code == 200, (url, resp.status_code)
        worst = max(worst, secs)
        print(f"   {secs * 1000:7.1f} ms  {len(ctx.captured_queries) // 5:3d} queries  {url}")
    print(f"3. slowest statistics page for the year: {worst * 1000:.0f} ms (target < 300 ms: {'met' if worst < 0.3 else 'NOT met'})")

    def baseline():
        return list(Decision.objects.filter(is_current=True, reviewed_at__isnull=False, settled_on__year=YEAR, assistance__gt=0)
                    .values("category").annotate(people=Count("person_id", distinct=True), n=Count("id"), s=Sum("assistance")))

    secs, _ = timed(baseline)
    page, _ = timed(lambda: client.get(f"/reporting/?year={YEAR}&by=category"), repeat=5)
    print(f"4. baseline: the year by category straight from the decisions {secs * 1000:.0f} ms; "
          f"the page {page * 1000:.0f} ms: {secs / page:.1f}x faster with the aggregates")
    print(f"load average at end: {load_avg()}")


if __name__ == "__main__":
    main()
