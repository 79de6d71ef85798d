"""Bringing the statistics up to date (docs/statistics.md "How the figures are kept").

``refresh()`` takes what the queue says changed (bills, settlement months), replaces their facts,
and rebuilds the aggregates of every period those facts fall in (the month, its quarter, the
year) — all in one transaction, so a page reads either the figures before or after, never half.
One builder at a time (the BuildState row is locked); pages never build.

``rebuild_year(year)`` recomputes a whole year's facts from the claims records (first use, repair,
a change of where the town comes from) and then its aggregates.

``aggregate_period(period)`` is the one definition of the figures from facts, one ORM query per cut;
the build computes the same rows with ``aggregate_period_at_once`` (every cut in one GROUPING SETS
statement on PostgreSQL: the facts read once, one sort per chain of nested cuts), and the tests hold
the two equal.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from .cuts import DIMENSIONS, GROUPINGS, Period, grouping_name, periods_touching
from .models import Aggregate, BuildState, Fact, RefreshQueue, SubsidyAggregate
from .sources import (
    SUBSIDY_TOWN,
    fen,
    write_facts_for_bills,
    write_facts_for_settlement_months,
    write_facts_for_year,
)

MEASURES = (
    "people", "person_times", "amount", "youfu_people", "youfu_times", "youfu_amount", "cases", "case_people",
    "total_cost", "in_policy_cost", "self_pay_before", "self_pay_after",
)
PAID = Q(assistance__gt=0)
YOUFU = Q(youfu__gt=0)


def _annotations() -> dict:
    return {
        "people": Count("person_id", distinct=True, filter=PAID),
        "person_times": Count("id", filter=PAID),
        "amount": Sum("assistance"),
        "youfu_people": Count("person_id", distinct=True, filter=YOUFU),
        "youfu_times": Count("id", filter=YOUFU),
        "youfu_amount": Sum("youfu"),
        "cases": Count("id"),
        "case_people": Count("person_id", distinct=True),
        "total_cost": Sum("total_cost"),
        "in_policy_cost": Sum("in_policy_cost"),
        "self_pay_before": Sum("self_pay"),
        "self_pay_after": Sum(F("self_pay") - F("assistance") - F("youfu")),
    }


def _key(value) -> str:
    return "" if value is None else str(value)


def aggregate_period(period: Period, *, facts=None, groupings: Iterable[tuple[str, ...]] = GROUPINGS) -> list[Aggregate]:
    """The Aggregate rows of one period, computed from facts (not saved)."""
    base = (facts if facts is not None else Fact.objects.all()).filter(year=period.year, month__in=period.months)
    now = timezone.now()
    out = []
    for dims in groupings:
        cols = [DIMENSIONS[d] for d in dims]
        qs = base.values(*cols).annotate(**_annotations()).order_by() if cols else [base.aggregate(**_annotations())]
        for row in qs:
            if not row["cases"]:
                continue
            keys = [_key(row[c]) for c in cols] + ["", ""]
            out.append(
                Aggregate(
                    year=period.year, period=period.code, grouping=grouping_name(dims), key1=keys[0], key2=keys[1],
                    built_at=now, **{m: row[m] or 0 for m in MEASURES},
                )
            )
    return out


def aggregate_period_at_once(period: Period, groupings: tuple[tuple[str, ...], ...] = GROUPINGS) -> list[Aggregate]:
    """What ``aggregate_period`` gives, in one PostgreSQL statement with GROUPING SETS: the period's
    facts are read once and sorted once per chain of nested cuts (the planner shares a sort between
    "town" and "town + scheme") instead of once per cut. Other databases: ``aggregate_period``."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return aggregate_period(period, groupings=groupings)
    dims = list(DIMENSIONS)
    cols = [DIMENSIONS[d] for d in dims]
    bit = {d: 1 << (len(dims) - 1 - i) for i, d in enumerate(dims)}
    full = (1 << len(dims)) - 1
    by_mask = {full & ~sum(bit[d] for d in g): g for g in groupings}
    sets = ", ".join("(" + ", ".join(DIMENSIONS[d] for d in g) + ")" for g in groupings)
    sql = f"""
        SELECT GROUPING({", ".join(cols)}), {", ".join(cols)},
               COUNT(DISTINCT person_id) FILTER (WHERE assistance > 0), COUNT(*) FILTER (WHERE assistance > 0),
               SUM(assistance), COUNT(DISTINCT person_id) FILTER (WHERE youfu > 0), COUNT(*) FILTER (WHERE youfu > 0),
               SUM(youfu), COUNT(*), COUNT(DISTINCT person_id), SUM(total_cost), SUM(in_policy_cost), SUM(self_pay),
               SUM(self_pay - assistance - youfu)
          FROM reporting_fact
         WHERE year = %s AND month IN ({", ".join(str(int(m)) for m in period.months)})
         GROUP BY GROUPING SETS ({sets})
    """
    now = timezone.now()
    out = []
    with connection.cursor() as cur:
        cur.execute(sql, [period.year])
        for row in cur.fetchall():
            g = by_mask[row[0]]
            values = dict(zip(dims, row[1 : 1 + len(dims)], strict=True))
            figures = dict(zip(MEASURES, row[1 + len(dims) :], strict=True))
            if not figures["cases"]:
                continue
            keys = [_key(values[d]) for d in g] + ["", ""]
            out.append(Aggregate(year=period.year, period=period.code, grouping=grouping_name(g), key1=keys[0],
                                 key2=keys[1], built_at=now, **{m: int(figures[m] or 0) for m in MEASURES}))
    return out


SUBSIDY_GROUPINGS = ((), ("category",), ("enrolment",), ("town",), ("category", "enrolment"), ("town", "category"),
                     ("town", "enrolment"))
SUBSIDY_COLUMNS = {"category": "category", "enrolment": "enrolment", "town": SUBSIDY_TOWN}


def subsidy_rows(year: int) -> list[SubsidyAggregate]:
    """Contribution subsidies of ``year`` by every subsidy cut: people with a subsidy above 0 and the amount."""
    from funding.models import SubsidyResult

    base = SubsidyResult.objects.filter(year=year, amount__gt=0)
    now = timezone.now()
    out = []
    for dims in SUBSIDY_GROUPINGS:
        cols = [SUBSIDY_COLUMNS[d] for d in dims]
        ann = {"people": Count("person_id", distinct=True), "total": Sum("amount")}
        rows = base.values(*cols).annotate(**ann).order_by() if cols else [base.aggregate(**ann)]
        for r in rows:
            if not r["people"] and cols:
                continue
            keys = [_key(r[c]) for c in cols] + ["", ""]
            out.append(SubsidyAggregate(year=year, grouping=grouping_name(dims), key1=keys[0], key2=keys[1],
                                        people=r["people"] or 0, amount=fen(r["total"]), built_at=now))
    return out


def _subsidy_years_behind() -> set[int]:
    """Years whose subsidy run finished after their figures were built (runs write their results in
    bulk and move by conditional updates: no save to listen to, so the refresh asks)."""
    from django.db.models import Max

    from funding.models import SubsidyRun

    done = SubsidyRun.objects.filter(status=SubsidyRun.Status.DONE).values("year").annotate(last=Max("finished_at"))
    built = dict(SubsidyAggregate.objects.filter(grouping="").values_list("year", "built_at"))
    return {r["year"] for r in done if r["last"] and (r["year"] not in built or built[r["year"]] < r["last"])}


def _rebuild_subsidies(year: int) -> int:
    rows = subsidy_rows(year)
    SubsidyAggregate.objects.filter(year=year).delete()
    SubsidyAggregate.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _rebuild_aggregates(year: int, months: set[int], seconds: dict | None = None) -> int:
    n = 0
    for period in periods_touching(year, months):
        started = time.monotonic()
        rows = aggregate_period_at_once(period)
        Aggregate.objects.filter(year=year, period=period.code).delete()
        Aggregate.objects.bulk_create(rows, batch_size=2000)
        n += len(rows)
        if seconds is not None:
            seconds[period.code] = time.monotonic() - started
    return n


def _lock_state(nowait: bool) -> BuildState:
    from django.db import connection

    if connection.vendor == "postgresql":
        # the year's distinct counts sort a year of facts: in memory, not on disk (this transaction only)
        with connection.cursor() as cur:
            cur.execute("SET LOCAL work_mem = '256MB'")
    BuildState.objects.get_or_create(pk=1)
    return BuildState.objects.select_for_update(nowait=nowait).get(pk=1)


def pending() -> int:
    """Changes not yet in the figures."""
    return RefreshQueue.objects.count()


def refresh(*, nowait: bool = False, limit: int = 50_000) -> dict:
    """Put what changed into the facts and rebuild the aggregates it touches. Returns a summary.
    With ``nowait`` a refresh already running makes this one return at once (``busy``)."""
    from django.db import DatabaseError

    started = time.monotonic()
    with transaction.atomic():
        try:
            state = _lock_state(nowait)
        except DatabaseError:
            return {"busy": True}
        queued = list(RefreshQueue.objects.order_by("id").values_list("id", "source_key")[:limit])
        bills: set[int] = set()
        months: set[int] = set()
        subsidy_years: set[int] = set()
        for _pk, key in queued:
            kind, _, ident = key.partition(":")
            if kind == "bill":
                bills.add(int(ident))
            elif kind == "sm":
                months.add(int(ident))
            elif kind == "subsidy":
                subsidy_years.add(int(ident))
        subsidy_years |= _subsidy_years_behind()
        theirs = Fact.objects.filter(Q(bill_id__in=bills) | Q(settlement_month_id__in=months))
        touched: dict[int, set[int]] = defaultdict(set)
        for y, m in theirs.values_list("year", "month").distinct():
            touched[y].add(m)
        theirs.delete()
        new = write_facts_for_bills(bills) + write_facts_for_settlement_months(months)
        for y, m in theirs.values_list("year", "month").distinct():
            touched[y].add(m)
        cells = sum(_rebuild_aggregates(y, ms) for y, ms in sorted(touched.items()))
        cells += sum(_rebuild_subsidies(y) for y in sorted(subsidy_years))
        RefreshQueue.objects.filter(pk__in=[pk for pk, _ in queued]).delete()
        state.built_at = timezone.now()
        state.seconds = time.monotonic() - started
        state.sources = len(queued)
        state.save()
    return {"busy": False, "changes": len(queued), "facts": new, "cells": cells, "seconds": state.seconds}


def rebuild_year(year: int) -> dict:
    """Every fact and aggregate of ``year`` from the claims records."""
    started = time.monotonic()
    with transaction.atomic():
        state = _lock_state(False)
        Fact.objects.filter(year=year).delete()
        n = write_facts_for_year(year)
        cells = _rebuild_aggregates(year, set(range(1, 13))) + _rebuild_subsidies(year)
        state.built_at = timezone.now()
        state.seconds = time.monotonic() - started
        state.save()
    return {"facts": n, "cells": cells, "seconds": time.monotonic() - started}


def close_month(year: int, month: int) -> dict:
    """A closed month brought into the figures (the benchmark's 'closed month'): the facts of the bills
    settled in it written again from their decisions, then the aggregates of the month, its quarter
    and its year — one transaction. Returns the seconds of each step."""
    from claims.models import Bill

    started = time.monotonic()
    seconds: dict[str, float] = {}
    with transaction.atomic():
        _lock_state(False)
        t = time.monotonic()
        month_bills = Bill.objects.filter(settled_on__year=year, settled_on__month=month).values("pk")
        Fact.objects.filter(bill_id__in=month_bills).delete()
        bills = [b["pk"] for b in month_bills]
        seconds["delete"] = time.monotonic() - t
        t = time.monotonic()
        facts = write_facts_for_bills(bills)
        seconds["facts"] = time.monotonic() - t
        cells = _rebuild_aggregates(year, {month}, seconds)
    return {"bills": len(bills), "facts": facts, "cells": cells, "steps": seconds, "seconds": time.monotonic() - started}
