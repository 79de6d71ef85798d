"""Roster speed (issue 4): a 100,000-row xlsx roster read, validated, compared and applied; a
1,000,000-row CSV roster processed within a memory limit; and, in the same run, the baseline: a
plain django-import-export ModelResource (defaults) importing the same rows into a bare model.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz_bench_rosters .venv/bin/python bench/rosters.py
        [--rows 100000] [--csv-rows 1000000] [--baseline-rows 10000] [--skip-csv]

The database named must be one used for nothing else: the benchmark empties the people, identity
and roster tables first. Figures are printed; nothing is asserted about wall-clock time.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
os.environ.pop("REDIS_URL", None)  # jobs run inline: the benchmark times the work, not a queue
os.environ.setdefault("DEBUG", "0")  # as in production: DEBUG keeps a log of every query in memory

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

WORDINGS = ["低保对象", "城市低保", "农村低保", "特困供养人员", "低保边缘", "因病致贫重病患者"]
HEADER = ["序号", "姓名", "身份证号码", "救助类别", "所属镇街", "认定时间", "联系电话"]


def people(n: int, seed: int = 4):
    """n distinct valid rows, deterministic."""
    from yfbz.rules.idcard import check_character

    rng = random.Random(seed)
    towns = ["双龙湖街道", "回兴", "统景镇", "龙溪街道", "两路", "仙桃街道", "大竹林", "玉峰山镇"]
    for i in range(n):
        birth = date(1930, 1, 1) + timedelta(days=i % 25_000)
        first17 = f"500112{birth:%Y%m%d}{(i // 25_000) % 1000:03d}"  # 25,000 birth dates x 1,000 sequences
        yield [
            i + 1, f"测试{i}", first17 + check_character(first17), rng.choice(WORDINGS), rng.choice(towns),
            f"2025/{1 + i % 3}/{1 + i % 28}", f"138{i:08d}",
        ]


def build_xlsx(rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build_csv(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def empty_tables():
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE beneficiaries_retroactivechange, beneficiaries_rosterrow, beneficiaries_rosterstatuschange, "
            "beneficiaries_identity, beneficiaries_rosterupload, beneficiaries_person, beneficiaries_benchimportrow "
            "RESTART IDENTITY CASCADE"
        )


def actors():
    from django.contrib.auth.models import Group

    from beneficiaries.models import Department
    from yfbz.core.models import User
    from yfbz.core.roles import Role

    civil = Department.objects.get(code="CIVIL")
    officer, _ = User.objects.get_or_create(username="bench_officer", defaults={"department": civil})
    officer.groups.add(Group.objects.get(name=Role.DEPT_OFFICER.value))
    clerk, _ = User.objects.get_or_create(username="bench_district")
    clerk.groups.add(Group.objects.get(name=Role.DISTRICT_CLERK.value))
    return civil, officer, clerk


def run_roster(data: bytes, month: date, name: str) -> dict:
    """Upload (read + validate + compare, inline) then submit, accept all, confirm (apply, inline)."""
    from beneficiaries.models import RosterRow
    from beneficiaries.rosters import phases
    from beneficiaries.services import roster_confirm, roster_submit, roster_upload_create

    civil, officer, clerk = actors()
    phases.reset()
    t0 = time.perf_counter()
    upload = roster_upload_create(user=officer, department=civil, month=month, mode="snapshot", file_name=name, data=data).upload
    t1 = time.perf_counter()
    check_phases = phases.snapshot()
    rss_check = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    upload.refresh_from_db()
    assert upload.status == "validated", upload.message
    roster_submit(upload=upload, user=officer)
    RosterRow.objects.filter(upload=upload).exclude(outcome="invalid").update(review="accepted")
    t2 = time.perf_counter()
    phases.reset()
    roster_confirm(upload=upload, user=clerk, confirm_endings=True)
    t3 = time.perf_counter()
    apply_phases = phases.snapshot()
    upload.refresh_from_db()
    assert upload.status == "confirmed"
    return {"check": t1 - t0, "review": t2 - t1, "apply": t3 - t2, "summary": upload.summary(), "rss_check": rss_check,
            "check_phases": check_phases, "apply_phases": apply_phases}


def print_phases(t: dict) -> None:
    """Where the time went: per phase of the check and of the apply, the rest (storing the upload,
    the job's bookkeeping, confirming) as 其他. The town review is done by the benchmark in one
    UPDATE and is not part of the total."""
    for label, total, ph in (("check", t["check"], t["check_phases"]), ("apply", t["apply"], t["apply_phases"])):
        parts = [f"{k} {v:.2f}" for k, v in ph.items()]
        parts.append(f"其他 {total - sum(ph.values()):.2f}")
        print(f"  {label} {total:.2f} s = " + " + ".join(parts))
    print(f"  town review (submit + accept all, not in the total) {t['review']:.2f} s")


def baseline(rows) -> float:
    """django-import-export, defaults: a ModelResource into a bare model. Returns rows per second."""
    import tablib
    from import_export import resources

    from beneficiaries.models import BenchImportRow

    class BenchResource(resources.ModelResource):
        class Meta:
            model = BenchImportRow

    ds = tablib.Dataset(headers=["id", "id_number", "name", "category", "town", "certified_on"])
    for r in rows:
        ds.append(["", r[2], r[1], r[3], r[4], r[5]])
    t0 = time.perf_counter()
    result = BenchResource().import_data(ds, dry_run=False, raise_errors=True)
    elapsed = time.perf_counter() - t0
    assert not result.has_errors() and BenchImportRow.objects.count() == len(rows)
    return len(rows) / elapsed


def csv_child(n: int) -> None:
    """Runs in its own process so its peak memory is its own: build the CSV, then check and apply it."""
    empty_tables()
    data = build_csv(people(n, seed=9))
    gen_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = run_roster(data, date(2025, 3, 1), "bench-1m.csv")
    del data
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"CSV {n:,} rows: check {t['check']:.1f} s, apply {t['apply']:.1f} s, summary {t['summary']}")
    print(
        f"CSV peak memory {peak / 1024:.0f} MiB (after building the file {gen_rss / 1024:.0f} MiB, "
        f"after the check {t['rss_check'] / 1024:.0f} MiB); limit 1536 MiB"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--csv-rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=10_000)
    ap.add_argument("--skip-csv", action="store_true")
    ap.add_argument("--csv-child", type=int)
    args = ap.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/rosters.py runs on PostgreSQL: set DATABASE_URL=postgres://…/yfbz_bench_rosters")
    call_command("migrate", verbosity=0)
    if args.csv_child:
        csv_child(args.csv_child)
        return
    empty_tables()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work on the machine slows every figure)")
    rows = list(people(args.rows))
    t0 = time.perf_counter()
    xlsx = build_xlsx(rows)
    print(f"built a {args.rows:,}-row xlsx ({len(xlsx) / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")

    base_rate = baseline(rows[: args.baseline_rows])
    print(f"baseline django-import-export ModelResource: {base_rate:,.0f} rows/s ({args.baseline_rows:,} rows)")

    t = run_roster(xlsx, date(2025, 3, 1), "bench-100k.xlsx")
    total = t["check"] + t["apply"]
    rate = args.rows / total
    print(
        f"xlsx month 1 ({args.rows:,} rows): read+validate+compare {t['check']:.1f} s, apply {t['apply']:.1f} s, "
        f"total {total:.1f} s ; {rate:,.0f} rows/s; summary {t['summary']}"
    )
    print_phases(t)
    print(f"ratio to baseline: {rate / base_rate:.1f}x (target >= 50x)")

    # month 2: the same people with 2% gone, 1% moved town and 2% new ones: the comparison at work
    rng = random.Random(11)
    kept = [r for r in rows if rng.random() > 0.02]
    for r in rng.sample(kept, len(kept) // 100):
        r[4] = "悦来街道"
    fresh = list(people(args.rows + args.rows // 50, seed=5))[args.rows :]
    month2 = build_xlsx(kept + fresh)
    t2 = run_roster(month2, date(2025, 4, 1), "bench-100k-april.xlsx")
    total2 = t2["check"] + t2["apply"]
    print(
        f"xlsx month 2 ({len(kept) + len(fresh):,} rows): read+validate+compare {t2['check']:.1f} s, apply "
        f"{t2['apply']:.1f} s, total {total2:.1f} s; {(len(kept) + len(fresh)) / total2:,.0f} rows/s; summary {t2['summary']}"
    )
    print_phases(t2)
    print(f"ratio to baseline (month 2): {(len(kept) + len(fresh)) / total2 / base_rate:.1f}x (target >= 50x)")

    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if not args.skip_csv:
        subprocess.run([sys.executable, __file__, "--csv-child", str(args.csv_rows)], check=True)


if __name__ == "__main__":
    main()
