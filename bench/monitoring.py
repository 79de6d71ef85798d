"""Monitoring speed (issue 12): a month of the high-cost export — 1,000,000 settlements of 500,000
people by default — imported and every alert computed on PostgreSQL (target: under 60 s on the
2-core machine), with the ratio to a per-row baseline measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz_bench_monitoring .venv/bin/python bench/monitoring.py
        [--lines 1000000] [--people 500000] [--recipients 100000] [--baseline 2000]

Baseline, in the same process, on the first ``--baseline`` rows of the same file (after the bulk
import, inside a transaction rolled back): the naive way — per row a query for the person, one for
their identities, one for their cap rows, the engine, an INSERT of the row and a get_or_create +
UPDATE of the person's year burden, and a query for an existing alert.

The database named must be used for nothing else: people, identities, claims' cap rows and every
monitoring table are emptied first. Figures are printed; nothing is asserted about wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

MONTH = date(2025, 6, 1)


def empty_tables():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = current_schema() "
            "AND (tablename LIKE 'monitoring\\_%%' AND tablename NOT IN ('monitoring_burdenthreshold', 'monitoring_disposableincome', 'monitoring_deadlinerule') "
            "OR tablename LIKE 'claims\\_%%' OR tablename IN ('beneficiaries_identity', 'beneficiaries_person'))"
        )
        cur.execute(f"TRUNCATE {cur.fetchone()[0]} RESTART IDENTITY CASCADE")


def baseline(data: bytes, n: int) -> float:
    """Rows per second, the naive way (see the module's text)."""
    from beneficiaries.models import Person
    from claims.models import CapUsage, Institution
    from monitoring.importing import Summary, _check_reference, _Institution, _Reference
    from monitoring.models import Alert, HighCostImport, HighCostRow, PersonYearBurden
    from yfbz.files.formats import HIGH_COST
    from yfbz.files.reader import read_table
    from yfbz.policy.inputs import bill_for_engine, decide_bill, person_for_engine

    table = read_table(data, HIGH_COST)
    ref = _Reference()
    rows = []
    for number, cells in table.rows:
        rows.append((number, cells))
        if len(rows) >= n:
            break
    start = time.perf_counter()
    with transaction.atomic():
        imp = HighCostImport.objects.create(month=MONTH, file_name="baseline", sha256="baseline")
        for number, cells in rows:
            line = _check_reference(ref, table, number, cells, Summary())
            person = Person.objects.filter(id_number=line.id_number).select_related("town").first()
            amount = 0
            if person is not None:
                ep = person_for_engine(person)
                used = dict(CapUsage.objects.filter(person=person, year=line.settled_on.year).values_list("scheme", "used"))
                inst = Institution.objects.filter(code=line.institution_text).first()
                d, _ = decide_bill(ep, bill_for_engine(line, institution=_Institution(inst.level if inst else 0, True)), used)
                amount = d.amount
            HighCostRow.objects.create(
                high_cost_import=imp, row_number=number, settlement_no=f"B-{line.settlement_no}", id_number=line.id_number,
                name=line.name, person=person, town_id=line.town_id, settled_on=line.settled_on, year=line.settled_on.year,
                kind=line.kind, total_cost=line.total_cost, in_policy_cost=line.in_policy_cost, basic_paid=line.basic_paid,
                burden=line.burden, engine_assistance=amount)
            b, _ = PersonYearBurden.objects.get_or_create(
                id_number=f"B{line.id_number[1:]}", year=line.settled_on.year, defaults={"name": line.name, "town_id": line.town_id})
            b.burden += line.burden
            b.save()
            Alert.objects.filter(id_number=line.id_number, year=line.settled_on.year).exists()
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return n / elapsed


def _python_cpu() -> float:
    """This process and the children it has waited for (the import's second reading process)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


def _backend_cpu(pid: int) -> float:
    """CPU seconds of the PostgreSQL backend serving this connection (same machine: /proc), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=500_000)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=2000)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "bench/monitoring.py runs on PostgreSQL"
    call_command("migrate", verbosity=0)
    empty_tables()
    from claims.models import Institution
    from monitoring.importing import import_high_cost
    from monitoring.synthetic import export_csv, make_recipients

    for code, name, level in [("YB01", "渝北区人民医院", 2), ("CQ01", "重庆医科大学附属第一医院", 3), ("SQ01", "社区卫生服务中心", 0)]:
        Institution.objects.get_or_create(code=code, defaults={"name": name, "level": level})
    t = time.perf_counter()
    recipients = make_recipients(args.recipients)
    data = export_csv(lines=args.lines, people=args.people, recipients=recipients, month=MONTH)
    print(f"setup: {args.recipients:,} recipients, a {len(data) / 1e6:.1f} MB CSV of {args.lines:,} lines "
          f"for {args.people:,} people in {time.perf_counter() - t:.1f} s")
    load = os.getloadavg()[0]
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    python0, postgres0 = _python_cpu(), _backend_cpu(backend)
    t = time.perf_counter()
    summary, imp = import_high_cost(data=data, file_name="bench.csv", month=MONTH, apply=True)
    elapsed = time.perf_counter() - t
    python_cpu, postgres_cpu = _python_cpu() - python0, _backend_cpu(backend) - postgres0
    rate = args.lines / elapsed
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import + alerts: {args.lines:,} lines in {elapsed:.1f} s ({rate:,.0f} lines/s), load {load:.1f}, peak {peak:,.0f} MiB; "
          f"rows {summary.rows:,} valid {summary.valid:,} people {summary.people:,} alerts {summary.alerts}")
    for phase, seconds in summary.timings.items():
        print(f"  {phase}: {seconds:.1f} s ({seconds / elapsed:.0%})")
    print(f"  CPU: Python {python_cpu:.1f} s (with the process reading the file's second part), its PostgreSQL backend "
          f"{postgres_cpu:.1f} s (the rows go in on the server while Python reads and decides: their sum above the wall time "
          f"is the overlap)")
    base = baseline(data, args.baseline)
    print(f"per-row baseline: {base:,.0f} lines/s on the first {args.baseline:,} lines; ratio {rate / base:.1f}×")
    print(f"target: < 60 s for 1,000,000 lines ({'met' if elapsed < 60 else 'NOT met'} at this size: {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
