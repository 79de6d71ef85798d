"""Reconciliation speed (issue 18): the tax system's 代缴明细 of 200,000 rows against the year's
subsidy run on PostgreSQL, under 30 s, printed beside a per-row baseline in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yfbz_bench_reconcile .venv/bin/python bench/reconcile.py
        [--rows 200000] [--baseline 2000]

The bulk path is ``funding.services.tax_reconciliation_import`` as a clerk's upload runs it: the
xlsx read by the one reader (two title rows), every row checked, the year's results and route (b)
read once, every person sorted, the lines written in bulk. The baseline does the same sorting the
naive way on the first ``--baseline`` rows — per row a query for the person's result, one for
route (b) and one INSERT — inside a transaction that is rolled back; it is also the oracle: its
kinds must equal the bulk path's on those rows.

The database named must be used for nothing else: people, identities, subsidy results and the
reconciliation tables are emptied first. Figures are printed; nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yfbz.settings")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

AMOUNTS = {"DIBAO": Decimal("342.00"), "TEKUN": Decimal("380.00"), "DIBAO_BIANYUAN": Decimal("190.00")}
NAMES = {"DIBAO": "低保对象", "TEKUN": "特困人员", "DIBAO_BIANYUAN": "低保边缘家庭成员"}


def empty_tables():
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE funding_taxreconciliationline, funding_taxreconciliation, funding_taxlistsettlement, "
            "funding_subsidychange, funding_subsidyresult, funding_selfpaidreport, funding_enrolment, "
            "beneficiaries_identity, beneficiaries_person RESTART IDENTITY CASCADE"
        )


def make_year(n: int):
    """n people with a 2025 result (route a, tier 1) and their rows of a tax file: 94% agreed, the rest
    amount or category differing, strangers, duplicates; 1% of ours left out of the file (漏保)."""
    from beneficiaries.models import Person, Town
    from funding.models import Enrolment, SubsidyResult, SubsidyRun
    from yfbz.core.models import User
    from yfbz.rules.idcard import check_character

    rng = random.Random(18)
    towns = list(Town.objects.values_list("pk", "name"))
    people = []
    for i in range(n):
        birth = date(1930, 1, 1) + timedelta(days=i % 25_000)
        first17 = f"500112{birth:%Y%m%d}{(i // 25_000) % 1000:03d}"
        people.append(Person(id_number=first17 + check_character(first17), name=f"测试{i}", birth_date=birth,
                             sex="M" if i % 2 else "F", town_id=towns[i % len(towns)][0]))
    Person.objects.bulk_create(people, batch_size=5000)
    clerk, _ = User.objects.get_or_create(username="bench_clerk")
    run = SubsidyRun.objects.create(year=2025, status="done", started_by=clerk)
    results, enrolments, rows = [], [], []
    town_name = dict(towns)
    for i, (pk, idn, town_id) in enumerate(Person.objects.order_by("pk").values_list("pk", "id_number", "town_id")):
        cat = rng.choice(list(AMOUNTS))
        amount = AMOUNTS[cat]
        results.append(SubsidyResult(person_id=pk, year=2025, enrolment="RESIDENT_T1", category=cat, amount=amount,
                                     town_id=town_id, run=run))
        enrolments.append(Enrolment(person_id=pk, year=2025, kind="RESIDENT_T1"))
        r = rng.random()
        if r < 0.01:
            continue  # 漏保
        tax_cat, tax_amount = NAMES[cat], amount
        if r < 0.03:
            tax_amount = amount + 10
        elif r < 0.05:
            tax_cat = "特困人员" if cat != "TEKUN" else "低保对象"
        rows.append([len(rows) + 1, f"5001120{i:07d}", f"测试{i}", "居民身份证（户口簿）", idn, town_name[town_id], tax_cat,
                     float(tax_amount), "2025-01-10"])
    SubsidyResult.objects.bulk_create(results, batch_size=5000)
    Enrolment.objects.bulk_create(enrolments, batch_size=5000)
    while len(rows) < n:  # strangers: ID numbers we do not know
        k = len(rows)
        first17 = f"500113{date(1980, 1, 1) + timedelta(days=k % 9000):%Y%m%d}{(k // 9000) % 1000:03d}"
        rows.append([k + 1, "", "外来", "居民身份证（户口簿）", first17 + check_character(first17), towns[0][1], "低保对象",
                     342.0, "2025-01-10"])
    return rows, clerk


def xlsx(rows) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(["城乡居民基本医疗保险2025年度税务代缴明细"])
    ws.append(["填报单位：国家税务总局重庆市渝北区税务局　单位：元"])
    ws.append(["序号", "人员编号", "姓名", "身份证件类型", "身份证件号码", "街道乡镇", "代缴类别", "代缴金额", "个人缴费日期"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def baseline(rows, limit: int, rec_id: int) -> tuple[float, dict[int, str]]:
    """Per row: the person's result (one query), route (b) (one query), the category wording (one
    query), one INSERT; rolled back. Returns (rows/s, kind by row number)."""
    from beneficiaries.models import Category
    from funding.models import Enrolment, SubsidyResult, TaxReconciliationLine
    from funding.services.tax_detail import category_wordings

    kinds = {}
    t = time.perf_counter()
    with transaction.atomic():
        sid = transaction.savepoint()
        for n, row in enumerate(rows[:limit], start=4):
            idn, cat, amount = row[4], row[6], Decimal(str(row[7])).quantize(Decimal("0.01"))
            res = SubsidyResult.objects.filter(year=2025, person__id_number=idn).select_related("person").first()
            both = res is not None and Enrolment.objects.filter(year=2025, person_id=res.person_id, self_paid=True).exists()
            mapped = Category.objects.filter(name=cat).values_list("code", flat=True).first() or category_wordings().get(cat)
            if res is None or not res.amount:
                kind = "NOT_ELIGIBLE"
            elif both:
                kind = "BOTH_ROUTES"
            elif mapped != res.category:
                kind = "CATEGORY"
            elif amount != res.amount:
                kind = "AMOUNT"
            else:
                kind = "AGREED"
            kinds[n] = kind
            TaxReconciliationLine.objects.create(reconciliation_id=rec_id, row_no=n, kind=kind, id_number=idn, name=row[2],
                                                 tax_category=cat, tax_amount=amount, explanation="")
        transaction.savepoint_rollback(sid)
    return limit / (time.perf_counter() - t), kinds


def profile(data: bytes, clerk, rows: int) -> None:
    """Where the time of one row goes (``--profile``): each step of the job timed on its own, in µs per
    row, then cProfile's top functions of a second whole run. Rolled back."""
    import cProfile
    import pstats

    from funding.models import TaxReconciliation
    from funding.services import tax_detail as td

    steps = {}

    def timed(name, fn, *a):
        t = time.perf_counter()
        out = fn(*a)
        steps[name] = time.perf_counter() - t
        return out

    with transaction.atomic():
        sid = transaction.savepoint()
        table, parsed = timed("read xlsx + check every row (_read)", td._read, data)
        digest = timed("content digest (duplicates)", td.content_digest, 2025, parsed)
        lines = timed("sort against our year (reconcile)", td.reconcile, parsed, 2025)
        lines = timed("names of 漏保 lines", td._names_filled, lines)
        rec = TaxReconciliation.objects.create(year=2025, file_name="profile.xlsx", sha256=digest, uploaded_by=clerk)
        timed("write lines (COPY)", td._write, rec, lines)
        transaction.savepoint_rollback(sid)
    total = sum(steps.values())
    print(f"profile: {rows:,} rows, {total:.2f} s = {total / rows * 1e6:,.0f} µs per row")
    for name, sec in steps.items():
        print(f"  {name:<40} {sec:7.2f} s  {sec / rows * 1e6:7,.1f} µs/row  {sec / total:5.1%}")
    prof = cProfile.Profile()
    with transaction.atomic():
        sid = transaction.savepoint()
        prof.enable()
        _, parsed = td._read(data)
        td._names_filled(td.reconcile(parsed, 2025))
        prof.disable()
        transaction.savepoint_rollback(sid)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(18)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--baseline", type=int, default=2000)
    ap.add_argument("--profile", action="store_true", help="time each step per row and print cProfile's top functions")
    args = ap.parse_args()
    call_command("migrate", verbosity=0)
    empty_tables()
    t = time.perf_counter()
    rows, clerk = make_year(args.rows)
    from django.contrib.auth.models import Group

    from yfbz.core.roles import Role

    clerk.groups.add(Group.objects.get(name=Role.DISTRICT_CLERK.value))
    data = xlsx(rows)
    print(f"data: {args.rows:,} people with a 2025 result; a 代缴明细 of {len(rows):,} rows ({len(data) / 1e6:.1f} MB) "
          f"made in {time.perf_counter() - t:.1f} s")

    from funding.models import TaxReconciliationLine
    from funding.services import tax_reconciliation_import

    if args.profile:
        profile(data, clerk, len(rows))
    t = time.perf_counter()
    rec = tax_reconciliation_import(year=2025, file_name="bench.xlsx", data=data, user=clerk)
    total = time.perf_counter() - t
    print(f"reconciliation: {rec.rows:,} rows read, checked, sorted and stored with {sum(rec.counts.values()):,} lines "
          f"in {total:.1f} s ({rec.rows / total:,.0f} rows/s); {rec.counts}")
    rate, kinds = baseline(rows, min(args.baseline, len(rows)), rec.pk)
    print(f"  baseline (per-row queries, first {len(kinds):,} rows): {rate:,.0f} rows/s; "
          f"{len(rows):,} rows would take {len(rows) / rate:.0f} s")
    bulk = dict(TaxReconciliationLine.objects.filter(reconciliation=rec, row_no__in=list(kinds)).exclude(
        kind="DUPLICATE").values_list("row_no", "kind"))
    same = sum(1 for n, k in kinds.items() if bulk.get(n) == k)
    print(f"  oracle: the baseline's kinds equal the bulk path's on {same:,} of {len(kinds):,} rows")
    print(f"  target: {len(rows):,} rows < 30 s -> {'met' if total < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
