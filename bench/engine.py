"""Benchmark of the policy engine: 1,000,000 bills of 100,000 people in one process.

    .venv/bin/python bench/engine.py [--bills N] [--people N] [--baseline N]

Generates people, identities and bills deterministically (seeded), runs every bill through
the engine in settlement order with a cap ledger (each bill sees what the earlier ones used),
and prints bills per second and peak memory (ru_maxrss). The baseline, run in the same process
on the first ``--baseline`` bills, is a naive implementation of the same rules that scans the
policy tables for every bill (no precomputed lookup tables); it also serves as an oracle: the
engine's amounts must equal the baseline's on those bills.

Targets on the 2-core CI machine: >= 30,000 bills/s, peak memory < 1.5 GiB.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from yfbz.rules import Bill, BillKind, CapLedger, Identity, Person, Scheme, default_book  # noqa: E402
from yfbz.rules.codes import group_scheme  # noqa: E402
from yfbz.rules.engine import applicable_schemes  # noqa: E402
from yfbz.rules.idcard import age_on, check_character  # noqa: E402
from yfbz.rules.money import ZERO, quantize  # noqa: E402

YEAR = 2025
# rough weights of the district's rosters: many DIBAO / rural, fewer of the small categories
WEIGHTS = {
    "DIBAO": 30,
    "TEKUN": 6,
    "DIBAO_BIANYUAN": 10,
    "FANPIN_ZHIPIN": 6,
    "TUOPIN_BUWENDING": 6,
    "BIANYUAN_YIZHIPIN": 6,
    "TUFA_KUNNAN": 2,
    "ZHONGDU_CANJI": 8,
    "YINBING_ZHIPIN": 3,
    "NONGCUN_60": 4,
    "ZAIXIANG_FUYUAN": 1,
    "CANZHAN": 2,
    "BINGGU_YISHU": 1,
    "LIESHI_YISHU": 1,
    "CANJI_7_10": 1,
    "SANJU_GUER": 1,
    "HIV_CHILD": 1,
    "JINGJIAN_60": 1,
    "KUNNAN_DAXUESHENG": 3,
    "LIESHI_97": 1,
    "BUDUI_8023_ZINV": 1,
    "CANJI_1_6": 1,
}
DISEASES = [None] * 17 + ["肺癌", "脑梗死", "终末期肾病（尿毒症）"]


def generate(n_people: int, n_bills: int, seed: int = 20250101):
    rng = random.Random(seed)
    cats, weights = zip(*WEIGHTS.items(), strict=True)
    money_cache: dict[int, Decimal] = {}

    def money(cents: int) -> Decimal:  # share Decimal objects: many bills, few distinct amounts
        d = money_cache.get(cents)
        if d is None:
            d = money_cache[cents] = Decimal(cents).scaleb(-2)
        return d

    people = []
    for i in range(n_people):
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 33000))
        first17 = f"500112{birth:%Y%m%d}{i % 1000:03d}"
        k = rng.choices((1, 2, 3), (70, 25, 5))[0]
        idents = []
        for c in sorted(set(rng.choices(cats, weights, k=k))):
            start = date(YEAR, 1, 1) + timedelta(days=rng.randrange(-900, 300))
            end = None if rng.random() < 0.85 else start + timedelta(days=rng.randrange(30, 400))
            idents.append(Identity(c, start, end))
        attrs = frozenset(("needs_maintenance_treatment",)) if rng.random() < 0.03 else frozenset()
        people.append(Person(first17 + check_character(first17), birth, tuple(idents), attrs))

    levels = (0, 1, 1, 2, 2, 2, 3, 3)
    bills = []
    for j in range(n_bills):
        on = date(YEAR, 1, 1) + timedelta(days=j * 365 // n_bills)  # settlement order
        p = rng.randrange(n_people)
        if rng.random() < 0.6:
            kind = BillKind.OUTPATIENT
            inpol = rng.randrange(50, 3000) * 100
        else:
            kind = BillKind.INPATIENT
            inpol = (
                rng.randrange(20, 800) * 10000 if rng.random() < 0.9 else rng.randrange(3000, 20000) * 1000
            )
        basic = inpol * rng.randrange(30, 90) // 100
        critical = (inpol - basic) * rng.randrange(0, 40) // 100 if inpol > 2_000_000 else 0
        bills.append(
            (
                p,
                Bill(
                    kind,
                    on,
                    rng.choice(levels),
                    money(inpol),
                    money(basic),
                    money(critical),
                    rng.choice(DISEASES),
                    money(inpol),
                    None,
                    "",
                ),
            )
        )
    return people, bills


# ------------------------------------------------------------------ naive baseline (and oracle)
def naive_amount(pol, person: Person, bill: Bill, used: dict) -> tuple[Scheme | None, Decimal]:
    """The same rules, written the obvious way: scan the tables for every bill."""
    on = bill.settled_on
    held = [
        i.category
        for i in person.identities
        if i.valid_from <= on and (i.valid_to is None or on <= i.valid_to)
    ]
    age = age_on(person.birth_date, on)
    # category age conditions (52号 第二条: NONGCUN_60 only from the 60th birthday), by table scan
    held = [
        c
        for c in held
        if not any(
            k.category == c
            and ((k.min_age is not None and age < k.min_age) or (k.max_age is not None and age >= k.max_age))
            for k in pol.category_conditions
        )
    ]
    groups = []
    for cat in held:
        mine = [m for m in pol.memberships if m.category == cat]
        picked = [
            m
            for m in mine
            if not m.otherwise
            and (
                not m.conditional
                or (m.min_age is not None and age >= m.min_age)
                or (m.also_holds is not None and m.also_holds in held)
                or (m.attribute is not None and m.attribute in person.attributes)
            )
        ]
        for m in mine:
            if m.otherwise and not any(group_scheme(p.group) == group_scheme(m.group) for p in picked):
                picked.append(m)
        groups += [(cat, m.group) for m in picked]
    level = pol.effective_level(bill.institution_level)
    base = bill.in_policy_cost - bill.basic_paid - bill.critical_paid
    best: tuple = (ZERO, 0, None)
    for scheme, why_not in applicable_schemes(pol, bill, level):
        if why_not:
            continue
        for cat, group in groups:
            if group_scheme(group) != scheme:
                continue
            rule = next(
                (r for r in pol.scheme_rules if r.group == group and r.category == cat), None
            ) or next((r for r in pol.scheme_rules if r.group == group and r.category is None), None)
            if rule is None:
                continue
            left = max(ZERO, rule.annual_cap - used.get(scheme, ZERO))
            amount = min(quantize(base * rule.ratio_for(level)), left)
            if amount > ZERO and (amount, scheme.specificity) > best[:2]:
                best = (amount, scheme.specificity, scheme)
    return best[2], best[0]


def run_engine(book, people, bills):
    led = CapLedger()
    in_force = book.in_force
    total = ZERO
    for p, b in bills:
        d = led.adjudicate(in_force(b.settled_on), people[p], b)
        total += d.amount
    return total


def run_naive(book, people, bills):
    used: dict[tuple[str, int], dict] = {}
    out = []
    for p, b in bills:
        person = people[p]
        u = used.setdefault((person.id_number, b.settled_on.year), {})
        scheme, amount = naive_amount(book.in_force(b.settled_on), person, b, u)
        if scheme is not None:
            u[scheme] = u.get(scheme, ZERO) + amount
        out.append((scheme, amount))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bills", type=int, default=1_000_000)
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=50_000, help="bills run through the naive baseline")
    args = ap.parse_args(argv)

    book = default_book()
    t0 = time.perf_counter()
    people, bills = generate(args.people, args.bills)
    gen_s = time.perf_counter() - t0
    print(f"generated {len(people):,} people, {len(bills):,} bills in {gen_s:.1f}s")

    # the generated people and bills live for the whole run: keep the cyclic GC from rescanning them
    gc.collect()
    gc.freeze()

    # baseline on a prefix, then the engine on the same prefix (fresh ledger): timing and oracle check
    sample = bills[: args.baseline]
    t0 = time.perf_counter()
    naive = run_naive(book, people, sample)
    naive_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_engine(book, people, sample)
    engine_sample_s = time.perf_counter() - t0
    led = CapLedger()
    mismatches = 0
    for (p, b), (scheme, amount) in zip(sample, naive, strict=True):
        d = led.adjudicate(book.in_force(b.settled_on), people[p], b)
        if (d.scheme, d.amount) != (scheme, amount):
            mismatches += 1
    del naive, led

    t0 = time.perf_counter()
    total = run_engine(book, people, bills)
    engine_s = time.perf_counter() - t0
    rate = len(bills) / engine_s
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB

    naive_rate = len(sample) / naive_s
    print(
        f"engine:   {len(bills):,} bills in {engine_s:.1f}s = {rate:,.0f} bills/s (assistance total {total:,})"
    )
    print(f"baseline: naive table scan, {len(sample):,} bills in {naive_s:.1f}s = {naive_rate:,.0f} bills/s")
    print(
        f"ratio engine/baseline on the same {len(sample):,} bills: {len(sample) / engine_sample_s / naive_rate:.2f}x "
        f"({len(sample) / engine_sample_s:,.0f} vs {naive_rate:,.0f} bills/s; the engine also builds the full decision)"
    )
    print(f"oracle check: {len(sample) - mismatches:,}/{len(sample):,} decisions equal the baseline's")
    print(f"peak memory (maxrss): {peak / 2**20:,.0f} MiB")
    ok = rate >= 30_000 and peak < 1.5 * 2**30 and mismatches == 0
    print("targets (>= 30,000 bills/s, < 1.5 GiB, oracle equal):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
