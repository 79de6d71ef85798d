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

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from .cuts import DIMENSIONS, GROUPINGS, Period, grouping_name, periods_touching
from .models import Aggregate, BuildState, Fact, PresenceYear, RefreshQueue, SubsidyAggregate
from .sources import (
    FACT_COLUMNS,
    SUBSIDY_TOWN,
    fen,
    write_facts_for_bills,
    write_facts_for_settlement_months,
    write_facts_for_year,
)

logger = logging.getLogger(__name__)

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
    """Every period touching ``months`` computed again from the facts (the month, its quarter, the year):
    the way on databases other than PostgreSQL, where the year's distinct people sort the year's facts."""
    n = 0
    for period in periods_touching(year, months):
        started = time.monotonic()
        n += _replace_period(period, aggregate_period_at_once(period))
        if seconds is not None:
            seconds[period.code] = time.monotonic() - started
    return n


def _replace_period(period: Period, rows: list[Aggregate]) -> int:
    Aggregate.objects.filter(year=period.year, period=period.code).delete()
    Aggregate.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# --- the distinct people of a quarter and of the year, a month at a time (PostgreSQL) ---------------
# A quarter's and the year's 救助人数 / 优抚补助人数 / 核定人数 per cell are distinct people over several
# months: counting them from the facts sorts the whole year's facts at every build (21 of 35 s of a
# closed month at 200,000 decisions). Instead ``reporting_presence`` keeps, per (year, person) and month,
# the sorted set of the person's (cell, kind) numbers of that month — cell × 4 + kind (0 any fact,
# 1 paying assistance, 2 paying the veterans' subsidy). A build that replaces facts writes again the sets
# of the people and months it touched, from their facts; a person enters a period's count of a cell
# when the union of the period's sets gains the cell's number, and leaves it when it loses it — unions
# and differences of whole sets (the intarray extension, in C), one row read and written per person.
# The sums (person-times, amounts) of a quarter and the year are the sums of their months' rows.

#: (Aggregate field, kind) of the three distinct counts: kind 0 any fact, 1 paying assistance, 2 the veterans'
DISTINCT = (("people", 1), ("youfu_people", 2), ("case_people", 0))
ADDITIVE = tuple(m for m in MEASURES if m not in {f for f, _ in DISTINCT})
MONTHS = tuple(f"m{m:02d}" for m in range(1, 13))
#: the columns of a fact the presence reads (stat_gone keeps them for the facts a build deletes)
PRESENCE_FACT_COLUMNS = ("id", "year", "month", "person_id", *DIMENSIONS.values(), "assistance", "youfu")
#: what a fact must keep for the presence to stay as it is: its person, month and cells, and whether it paid
SAME_PRESENCE = ("year", "month", "person_id", *DIMENSIONS.values())
#: what the build keeps of the facts it deletes (stat_gone)
GONE_COLUMNS = ("id", *FACT_COLUMNS)
#: a fact's cells depend on these columns only (its "signature": a few thousand in a year)
SIGNATURE = tuple(DIMENSIONS.values())
EMPTY = "'{}'::int[]"


def _union(columns: Iterable[str]) -> str:
    """The union of sets of numbers (intarray's ``|``: sorted, without repeats)."""
    columns = list(columns)
    return "(" + " | ".join(columns) + ")" if len(columns) > 1 else columns[0]


def _cells_sql() -> str:
    """A fact ``f``'s cell of every cut: a VALUES list of (grouping, key1, key2), keys as Aggregate writes them."""
    cells = []
    for g in GROUPINGS:
        keys = [f"COALESCE(CAST(f.{DIMENSIONS[d]} AS varchar), '')" for d in g] + ["''", "''"]
        cells.append(f"('{grouping_name(g)}', {keys[0]}, {keys[1]})")
    return f"(VALUES {', '.join(cells)})"


_CELLS = _cells_sql()
_SIGNATURE_KEYS = [f"COALESCE(CAST(f.{c} AS varchar), '')" for c in SIGNATURE]
_SIGNATURE_MATCH = " AND ".join(f"s.{c} = {k}" for c, k in zip(SIGNATURE, _SIGNATURE_KEYS, strict=True))
#: a fact's (cell, kind) numbers: its signature's cells, as any fact, paying assistance, paying the veterans'
_FACT_NUMBERS = (f"(s.seen | CASE WHEN f.assistance > 0 THEN s.paid ELSE {EMPTY} END "
                 f"| CASE WHEN f.youfu > 0 THEN s.youfu ELSE {EMPTY} END)")


def _signatures(cur, facts: str, params=()) -> None:
    """Make sure ``reporting_signature`` holds each signature of ``facts`` (a FROM item named ``f``) with
    the numbers of its cell of every cut (``cells``) and its (cell, kind) numbers (``seen``, ``paid``,
    ``youfu``): the signatures it does not hold yet get their cells numbered first where new. A cell keeps
    its number for ever, so a signature's numbers never change and are made once (a few thousand a year),
    not at every build; a fact then finds its cells by one hashed join on its signature instead of
    eighteen on text keys."""
    keys = ", ".join(f"{k} AS {c}" for k, c in zip(_SIGNATURE_KEYS, SIGNATURE, strict=True))
    cur.execute("DROP TABLE IF EXISTS stat_keys")
    with _planner(cur, **UNLOOPED):
        cur.execute(f"CREATE TEMP TABLE stat_keys ON COMMIT DROP AS SELECT DISTINCT {keys} FROM {facts} "
                    f"WHERE NOT EXISTS (SELECT 1 FROM reporting_signature s WHERE {_SIGNATURE_MATCH})", params)
        if not cur.rowcount:
            return
    match = 'x.grouping = c.g COLLATE "C" AND x.key1 = c.k1 COLLATE "C" AND x.key2 = c.k2 COLLATE "C"'
    with _planner(cur, **HASHED):
        # one builder at a time (the BuildState lock): no one else numbers a cell or a signature meanwhile
        cur.execute(f"""
            INSERT INTO reporting_cell (grouping, key1, key2)
            SELECT DISTINCT c.g, c.k1, c.k2 FROM stat_keys f CROSS JOIN LATERAL {_CELLS} c (g, k1, k2)
             WHERE NOT EXISTS (SELECT 1 FROM reporting_cell x WHERE {match})
        """)
        sig = ", ".join(f"f.{c}" for c in SIGNATURE)
        cur.execute(f"""
            INSERT INTO reporting_signature ({", ".join(SIGNATURE)}, cells, seen, paid, youfu)
            SELECT {sig}, array_agg(x.id::int), sort(array_agg(x.id::int * 4)), sort(array_agg(x.id::int * 4 + 1)),
                   sort(array_agg(x.id::int * 4 + 2))
              FROM stat_keys f CROSS JOIN LATERAL {_CELLS} c (g, k1, k2) JOIN reporting_cell x ON {match}
             GROUP BY {sig}
        """)
    cur.execute("ANALYZE reporting_signature")


def _person_months_sql(facts: str) -> str:
    """SELECT year, person_id, month and the set of (cell, kind) numbers of ``facts`` (a FROM item named
    ``f`` with the columns of PRESENCE_FACT_COLUMNS, its signatures in reporting_signature) per person and month."""
    return f"""
        SELECT f.year, f.person_id, f.month, reporting_int_union({_FACT_NUMBERS}) AS e
          FROM {facts} JOIN reporting_signature s ON {_SIGNATURE_MATCH}
         GROUP BY f.year, f.person_id, f.month
    """


#: the facts a build deleted and the ones it inserted (``years``, ``years``)
_CHANGED = ("SELECT {facts} FROM stat_gone f WHERE f.year = ANY(%s) "
            "UNION ALL SELECT {facts} FROM stat_new f WHERE f.year = ANY(%s)")


def _month_sums(cur, years: list[int], signed: bool) -> dict[tuple[int, str, str, str, str], dict[str, int]]:
    """How the sums of each touched month's cells move: the facts a build inserted less the ones it
    deleted, {(year, month code, grouping, key1, key2): {measure: Δ}} (ADDITIVE measures). Summed per
    signature first, then spread over the signature's cells (``signed``: reporting_signature already holds the
    signatures of these facts)."""
    if not signed:
        facts = ", ".join(f"f.{c}" for c in PRESENCE_FACT_COLUMNS)
        _signatures(cur, f"({_CHANGED.format(facts=facts)}) f", [years, years])
    sign = "f.sign"
    sums = {
        "person_times": f"SUM({sign}) FILTER (WHERE f.assistance > 0)",
        "amount": f"SUM({sign} * f.assistance)",
        "youfu_times": f"SUM({sign}) FILTER (WHERE f.youfu > 0)",
        "youfu_amount": f"SUM({sign} * f.youfu)",
        "cases": f"SUM({sign})",
        "total_cost": f"SUM({sign} * f.total_cost)",
        "in_policy_cost": f"SUM({sign} * f.in_policy_cost)",
        "self_pay_before": f"SUM({sign} * f.self_pay)",
        "self_pay_after": f"SUM({sign} * (f.self_pay - f.assistance - f.youfu))",
    }
    assert set(sums) == set(ADDITIVE)
    cols = ", ".join(FACT_COLUMNS)
    keys = ", ".join(f"{k} AS {c}" for k, c in zip(_SIGNATURE_KEYS, SIGNATURE, strict=True))
    sig = ", ".join(SIGNATURE)
    with _planner(cur, **UNLOOPED):
        cur.execute(f"""
            SELECT g.year, g.month, c.grouping, c.key1, c.key2, {", ".join(f"SUM(g.{m})" for m in sums)}
              FROM (SELECT f.year, f.month, {keys}, {", ".join(f"COALESCE({e}, 0) AS {m}" for m, e in sums.items())}
                      FROM (SELECT -1 AS sign, {cols} FROM stat_gone WHERE year = ANY(%s)
                            UNION ALL SELECT 1, {cols} FROM stat_new WHERE year = ANY(%s)) f
                     GROUP BY f.year, f.month, {sig}) g
                   JOIN reporting_signature s USING ({sig}) CROSS JOIN LATERAL unnest(s.cells) u (cell)
                   JOIN reporting_cell c ON c.id = u.cell
             GROUP BY g.year, g.month, c.grouping, c.key1, c.key2
        """, [years, years])
        rows = cur.fetchall()
    return {(y, Period(y, month=m).code, g, k1, k2): dict(zip(sums, (int(v) for v in values), strict=True))
            for y, m, g, k1, k2, *values in rows}


def _temp_tables(cur) -> None:
    cur.execute("DROP TABLE IF EXISTS stat_fresh, stat_gone, stat_new, stat_affected, stat_now, stat_pm, stat_rows")
    cur.execute(f"CREATE TEMP TABLE stat_fresh ON COMMIT DROP AS SELECT {', '.join(FACT_COLUMNS)} "
                "FROM reporting_fact WITH NO DATA")
    for table in ("stat_gone", "stat_new"):
        cur.execute(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS SELECT {', '.join(GONE_COLUMNS)} "
                    "FROM reporting_fact WITH NO DATA")
    cur.execute("CREATE TEMP TABLE stat_affected (year smallint, month smallint, person_id bigint, "
                "PRIMARY KEY (year, month, person_id)) ON COMMIT DROP")


#: facts of a share of the people a whole-year build writes the presence of at a time (hashed in memory)
FACTS_PER_SHARE = 250_000


def _presence_rebuild_year(cur, year: int) -> None:
    """The year's presence from its facts (a whole-year build; a year built before this table existed),
    a share of the people at a time."""
    cur.execute("DELETE FROM reporting_presence WHERE year = %s", [year])
    facts = f"(SELECT {', '.join(PRESENCE_FACT_COLUMNS)} FROM reporting_fact WHERE year = %s{{share}}) f"
    _signatures(cur, facts.format(share=""), [year])
    cur.execute("SELECT COUNT(*) FROM reporting_fact WHERE year = %s", [year])
    shares = max(1, -(-cur.fetchone()[0] // FACTS_PER_SHARE))
    months = ", ".join(f"COALESCE(MAX(pm.e) FILTER (WHERE pm.month = {m}), {EMPTY})" for m in range(1, 13))
    with _planner(cur, **UNLOOPED):
        for share in range(shares):
            part = f" AND mod(person_id, {shares}) = {share}" if shares > 1 else ""
            cur.execute(f"INSERT INTO reporting_presence (year, person_id, {', '.join(MONTHS)}) "
                        f"SELECT pm.year, pm.person_id, {months} "
                        f"FROM ({_person_months_sql(facts.format(share=part))}) pm GROUP BY pm.year, pm.person_id",
                        [year])
    cur.execute("ANALYZE reporting_presence")
    PresenceYear.objects.update_or_create(year=year, defaults={"built_at": timezone.now()})


def _counted(cur, sql: str, params, periods: list[list[Period]],
             signs: list[int] | None = None) -> dict[tuple[int, str, str, str, str], list[int]]:
    """``sql`` gives (year, index, number, n): {(year, period code, grouping, key1, key2): [people,
    youfu_people, case_people]} — the numbers' cells and kinds looked up; the count of index i goes to
    every period of ``periods[i]``, times ``signs[i]`` (default 1)."""
    kinds = ", ".join(f"SUM(n.n) FILTER (WHERE mod(n.e, 4) = {k})" for _, k in DISTINCT)
    with _planner(cur, **HASHED):
        cur.execute(f"SELECT n.year, n.pi, c.grouping, c.key1, c.key2, {kinds} FROM ({sql}) n "
                    "JOIN reporting_cell c ON c.id = n.e / 4 GROUP BY n.year, n.pi, c.grouping, c.key1, c.key2", params)
        rows = cur.fetchall()
    out: dict[tuple[int, str, str, str, str], list[int]] = {}
    for y, pi, g, k1, k2, *n in rows:
        sign = signs[pi] if signs else 1
        for period in periods[pi]:
            moved = out.setdefault((y, period.code, g, k1, k2), [0, 0, 0])
            for i, x in enumerate(n):
                moved[i] += sign * int(x or 0)
    return out


def _periods_sql(periods: list[Period], prefix: str = "") -> str:
    """(period index, union of its months' sets) for each period, as a VALUES list."""
    return "(VALUES " + ", ".join(f"({i}, {_union(prefix + MONTHS[m - 1] for m in p.months)})"
                                  for i, p in enumerate(periods)) + ")"


def _presence_counts(cur, year: int) -> dict[tuple[str, str, str, str], tuple[int, int, int]]:
    """{(period code, grouping, key1, key2): (people, youfu_people, case_people)} of the year and its
    quarters, counted from the presence (a whole-year build)."""
    periods = [Period(year), *(Period(year, quarter=q) for q in range(1, 5))]
    sql = (f"SELECT year, pi, e, COUNT(*) AS n FROM (SELECT p.year, x.pi, unnest(x.u) AS e FROM reporting_presence p "
           f"CROSS JOIN LATERAL {_periods_sql(periods, 'p.')} x (pi, u) WHERE p.year = %s) t GROUP BY year, pi, e")
    return {k[1:]: tuple(v) for k, v in _counted(cur, sql, [year], [[p] for p in periods]).items()}


def presence_rows(year: int) -> set[tuple[str, str, str, int, int, int, int]]:
    """The presence of ``year`` one row per (cell, person): (grouping, key1, key2, person_id, and the
    months (bit 0 = January) with any fact, paying assistance, paying the veterans' subsidy) — what the
    tests compare and an auditor reads."""
    from django.db import connection

    months = " UNION ALL ".join(f"SELECT p.person_id, {m} AS month, unnest(p.{col}) AS e FROM reporting_presence p "
                                f"WHERE p.year = %s" for m, col in enumerate(MONTHS, start=1))
    masks = ", ".join(f"COALESCE(BIT_OR(1 << (t.month - 1)) FILTER (WHERE mod(t.e, 4) = {k}), 0)" for k in (0, 1, 2))
    with connection.cursor() as cur:
        cur.execute(f"SELECT c.grouping, c.key1, c.key2, t.person_id, {masks} FROM ({months}) t "
                    "JOIN reporting_cell c ON c.id = t.e / 4 GROUP BY c.grouping, c.key1, c.key2, t.person_id",
                    [year] * 12)
        return {tuple(r) for r in cur.fetchall()}


@contextmanager
def _planner(cur, **settings):
    """Planner settings for one statement of the build (SET LOCAL, then back to the default)."""
    for name, value in settings.items():
        cur.execute(f"SET LOCAL {name} = {value}")
    try:
        yield
    finally:
        for name in settings:
            cur.execute(f"SET LOCAL {name} = DEFAULT")


#: cells and people are hashed, never sorted (the planner, misled by the join's estimate, sorts)
HASHED = {"enable_sort": "off", "work_mem": "'512MB'"}
#: … and no nested loop: a join on the 7 keys of a signature is estimated at a row or two (each key's
#: selectivity multiplied), and a nested loop over thousands of rows on both sides costs minutes
UNLOOPED = {**HASHED, "enable_nestloop": "off"}


def _presence_apply(cur, years: list[int]) -> tuple[dict, bool]:
    """After the facts of a build were replaced (the deleted ones in stat_gone, the inserted ones in
    stat_new): bring the presence of the people and months they touched in ``years`` up
    to date. Returns how each period's distinct counts moved, {(year, period code, grouping, key1,
    key2): [Δpeople, Δyoufu_people, Δcase_people]}, and whether reporting_signature holds the signatures of the
    facts the build deleted and inserted (for ``_month_sums``)."""
    facts = ", ".join(f"f.{c}" for c in PRESENCE_FACT_COLUMNS)
    cur.execute("ANALYZE stat_gone")
    cur.execute("ANALYZE stat_new")
    # the people and months whose facts changed in a way the presence sees (a fact written again as it
    # was — the usual case of a closed month built again — touches nobody)
    same = " AND ".join(f"g.{c} IS NOT DISTINCT FROM n.{c}" for c in SAME_PRESENCE)
    cur.execute(f"""
        INSERT INTO stat_affected
        SELECT DISTINCT x.year, x.month, x.person_id
          FROM stat_gone g FULL JOIN stat_new n ON n.source_key = g.source_key
               CROSS JOIN LATERAL (VALUES (g.year, g.month, g.person_id), (n.year, n.month, n.person_id)) x (year, month, person_id)
         WHERE x.year = ANY(%s)
           AND NOT (COALESCE({same} AND (g.assistance > 0) = (n.assistance > 0) AND (g.youfu > 0) = (n.youfu > 0), FALSE))
    """, [years])
    cur.execute("SELECT DISTINCT year, month FROM stat_affected")
    year_months = cur.fetchall()
    if not year_months:
        return {}, False
    cur.execute("ANALYZE stat_affected")
    # the facts of the touched people in the touched months as they are now (read through the (year,
    # month, person) index): their sets of those months are written again from them
    months = " OR ".join(f"(f.year = {int(y)} AND f.month = {int(m)})" for y, m in year_months)
    cur.execute(f"""CREATE TEMP TABLE stat_now ON COMMIT DROP AS SELECT {facts} FROM reporting_fact f WHERE ({months})
                    AND EXISTS (SELECT 1 FROM stat_affected a WHERE a.year = f.year AND a.month = f.month
                                AND a.person_id = f.person_id)""")
    cur.execute("ANALYZE stat_now")
    # the signatures of these facts and of every fact the build deleted or inserted (the month's sums)
    _signatures(cur, f"(SELECT {facts} FROM stat_now f UNION ALL {_CHANGED.format(facts=facts)}) f",
                [years, years])
    # each touched person's row: the sets as they were (o..) and as they are now (n..) — a touched month's
    # set from the facts (empty when none is left), the others as they were
    new = ", ".join(f"MAX(pm.e) FILTER (WHERE pm.month = {m}) AS {col}" for m, col in enumerate(MONTHS, start=1))
    with _planner(cur, **UNLOOPED):
        cur.execute(f"CREATE TEMP TABLE stat_pm ON COMMIT DROP AS {_person_months_sql('stat_now f')}")
    cur.execute("ANALYZE stat_pm")
    with _planner(cur, **HASHED):
        cur.execute(f"""
            CREATE TEMP TABLE stat_rows WITH (toast_tuple_target = 8160) ON COMMIT DROP AS
            SELECT a.year, a.person_id, p.person_id IS NOT NULL AS had,
                   {", ".join(f"COALESCE(p.{c}, {EMPTY}) AS o{c}" for c in MONTHS)},
                   {", ".join(f"COALESCE(a.{c}, p.{c}, {EMPTY}) AS n{c}" for c in MONTHS)}
              FROM (SELECT pm.year, pm.person_id, {new}
                      FROM (SELECT a.year, a.person_id, a.month, COALESCE(n.e, {EMPTY}) AS e
                              FROM stat_affected a LEFT JOIN stat_pm n
                                   ON n.year = a.year AND n.month = a.month AND n.person_id = a.person_id) pm
                     GROUP BY pm.year, pm.person_id) a
                   LEFT JOIN reporting_presence p ON p.year = a.year AND p.person_id = a.person_id
        """)
    # the counts' moves: a person enters a period's count of a cell when the union of the period's sets
    # gains the cell's number, and leaves it when it loses it
    months_touched = {int(m) for _, m in year_months}
    periods = [Period(2000), *(Period(2000, quarter=q) for q in sorted({(m - 1) // 3 + 1 for m in months_touched})),
               *(Period(2000, month=m) for m in sorted(months_touched))]
    # after − before = (N ∪ U) − (O ∪ U) = N − O − U, with N and O the unions of the period's touched months
    # after and before, and U the union of its other months (the same before and after); before − after =
    # O − N − U. Periods with the same touched months share N and O and are nested (the month in its
    # quarter in the year), their U growing: what enters (leaves) the year also enters (leaves) the
    # quarter and the month. So each number is unnested once, in the largest period of the chain it
    # enters: layer i = (N − O − U_i) ∩ U_i+1 counts for the chain's periods 1..i, the last layer
    # (N − O − U_k) for all of them — a month arriving whole unnests its new numbers once, not three times
    chains: dict[tuple[int, ...], list[Period]] = defaultdict(list)
    for p in periods:
        chains[tuple(m for m in p.months if m in months_touched)].append(p)
    # the sets each person needs, computed once per person (OFFSET 0 keeps the planner from copying the
    # expressions into every layer that uses them: each intarray operation copies and sorts its operands)
    sets, layers, targets, signs = [], [], [], []
    for c, (touched, chain) in enumerate(chains.items()):
        chain.sort(key=lambda p: len(p.months))
        n = _union(f"r.n{MONTHS[m - 1]}" for m in touched)
        o = _union(f"r.o{MONTHS[m - 1]}" for m in touched)
        sets += [f"{n} - {o} AS c{c}_in", f"{o} - {n} AS c{c}_out"]
        unions = []
        for i, p in enumerate(chain):
            others = [f"r.o{MONTHS[m - 1]}" for m in p.months if m not in touched]
            unions.append(f"z.c{c}_u{i}" if others else None)
            if others:
                sets.append(f"{_union(others)} AS c{c}_u{i}")
        for i in range(len(chain)):
            for sign, d in ((1, f"z.c{c}_in"), (-1, f"z.c{c}_out")):
                if unions[i]:
                    d = f"({d} - {unions[i]})"
                if i + 1 < len(chain):
                    d = f"({d} & {unions[i + 1]})"
                layers.append(f"({len(layers)}, {d})")
                targets.append(chain[: i + 1])
                signs.append(sign)
    moves = _counted(cur, f"""
        SELECT year, pi, e, COUNT(*) AS n
          FROM (SELECT z.year, x.pi, unnest(x.s) AS e
                  FROM (SELECT r.year, {", ".join(sets)} FROM stat_rows r OFFSET 0) z
                       CROSS JOIN LATERAL (VALUES {", ".join(layers)}) x (pi, s)) t
         GROUP BY year, pi, e
    """, [], targets, signs)
    moves = {k: v for k, v in moves.items() if any(v)}
    # each touched person's row written again (a row left with no number goes)
    nothing = f"cardinality({' || '.join(f'n{c}' for c in MONTHS)}) = 0"
    with _planner(cur, **HASHED):
        cur.execute(f"UPDATE reporting_presence p SET {', '.join(f'{c} = r.n{c}' for c in MONTHS)} FROM stat_rows r "
                    f"WHERE p.year = r.year AND p.person_id = r.person_id AND r.had AND NOT {nothing}")
        cur.execute(f"DELETE FROM reporting_presence p USING stat_rows r "
                    f"WHERE p.year = r.year AND p.person_id = r.person_id AND r.had AND {nothing}")
    cur.execute(f"INSERT INTO reporting_presence (year, person_id, {', '.join(MONTHS)}) "
                f"SELECT year, person_id, {', '.join(f'n{c}' for c in MONTHS)} FROM stat_rows WHERE NOT had AND NOT {nothing}")
    return moves, True


class PresenceOutOfStep(Exception):
    """A quarter's or the year's distinct counts and its months disagree: the presence is rebuilt."""


def _rollup(period: Period, distinct) -> list[Aggregate]:
    """A quarter's or the year's rows: the sums of its months' rows, and the distinct counts
    ``distinct(grouping, key1, key2)`` gives (people, youfu_people, case_people)."""
    codes = [Period(period.year, month=m).code for m in period.months]
    sums = (Aggregate.objects.filter(year=period.year, period__in=codes).values("grouping", "key1", "key2")
            .annotate(**{f"s_{m}": Sum(m) for m in ADDITIVE}).order_by())
    now = timezone.now()
    out = []
    for r in sums:
        cell = (r["grouping"], r["key1"], r["key2"])
        figures = {m: r[f"s_{m}"] for m in ADDITIVE}
        figures.update(zip([f for f, _ in DISTINCT], distinct(*cell), strict=True))
        if _checked(period, cell, figures):
            out.append(Aggregate(year=period.year, period=period.code, grouping=cell[0], key1=cell[1], key2=cell[2],
                                 built_at=now, **figures))
    return out


def _checked(period: Period, cell, figures: dict) -> bool:
    """Whether the cell has a row (any case), after checking its distinct counts against its counts."""
    if not figures["cases"] and not any(figures.values()):
        return False
    if not 0 < figures["case_people"] <= figures["cases"] or not 0 <= figures["people"] <= figures["person_times"] \
            or not 0 <= figures["youfu_people"] <= figures["youfu_times"]:
        raise PresenceOutOfStep(f"{period.year} {period.code} {cell}: {figures}")
    return True


def _moved_month(period: Period, moves: dict, sums: dict) -> list[Aggregate]:
    """A month's rows: the rows it had, its sums moved by the facts inserted less the ones deleted, its
    distinct counts by the presence."""
    had = {(a.grouping, a.key1, a.key2): {m: getattr(a, m) for m in MEASURES}
           for a in Aggregate.objects.filter(year=period.year, period=period.code)}
    mine = lambda d: {k[2:]: v for k, v in d.items() if k[:2] == (period.year, period.code)}  # noqa: E731
    sums, moves = mine(sums), mine(moves)
    now = timezone.now()
    out = []
    for cell in sorted(set(had) | set(sums) | set(moves)):
        figures = dict(had.get(cell) or dict.fromkeys(MEASURES, 0))
        for m, d in sums.get(cell, {}).items():
            figures[m] += d
        for (f, _), d in zip(DISTINCT, moves.get(cell, (0, 0, 0)), strict=True):
            figures[f] += d
        if _checked(period, cell, figures):
            out.append(Aggregate(year=period.year, period=period.code, grouping=cell[0], key1=cell[1], key2=cell[2],
                                 built_at=now, **figures))
    return out


def _build_year_from_facts(cur, year: int, seconds: dict | None = None) -> int:
    """Every period of ``year`` from its facts, the presence written again: the whole-year build."""
    t = time.monotonic()
    n = sum(_replace_period(Period(year, month=m), aggregate_period_at_once(Period(year, month=m)))
            for m in range(1, 13))
    if seconds is not None:
        seconds["months"] = time.monotonic() - t
    t = time.monotonic()
    _presence_rebuild_year(cur, year)
    counts = _presence_counts(cur, year)
    if seconds is not None:
        seconds["presence"] = time.monotonic() - t
    t = time.monotonic()
    for period in [*(Period(year, quarter=q) for q in range(1, 5)), Period(year)]:
        n += _replace_period(period, _rollup(period, lambda g, k1, k2, p=period: counts.get((p.code, g, k1, k2),
                                                                                             (0, 0, 0))))
    if seconds is not None:
        seconds["quarters and year"] = time.monotonic() - t
    return n


def _build_incremental(touched: dict[int, set[int]], moves: dict, sums: dict, seconds: dict | None = None) -> int:
    """The months touched: the rows they had moved by ``sums`` and ``moves``; their quarters and years:
    the sums of their months, and the distinct counts they had moved by ``moves``."""
    n = 0
    for year, months in sorted(touched.items()):
        for period in periods_touching(year, months):
            t = time.monotonic()
            if period.month is not None:
                rows = _moved_month(period, moves, sums)
            else:
                had = {(a.grouping, a.key1, a.key2): [getattr(a, f) for f, _ in DISTINCT]
                       for a in Aggregate.objects.filter(year=year, period=period.code)}

                def distinct(g, k1, k2, had=had, year=year, code=period.code):
                    return [x + d for x, d in zip(had.get((g, k1, k2), (0, 0, 0)),
                                                  moves.get((year, code, g, k1, k2), (0, 0, 0)), strict=True)]

                rows = _rollup(period, distinct)
            n += _replace_period(period, rows)
            if seconds is not None:
                seconds[period.code] = time.monotonic() - t
    return n


def _replace_facts(bills: set[int], months: set[int], seconds: dict | None = None) -> tuple[int, int, dict[int, set[int]]]:
    """Replace the facts of these bills and settlement months; bring the figures they touch up to date.
    Returns (facts written, aggregate cells, {year: months touched})."""
    from django.db import connection

    t = time.monotonic()
    if connection.vendor != "postgresql":
        theirs = Fact.objects.filter(Q(bill_id__in=bills) | Q(settlement_month_id__in=months))
        touched: dict[int, set[int]] = defaultdict(set)
        for y, m in theirs.values_list("year", "month").distinct():
            touched[y].add(m)
        theirs.delete()
        new = write_facts_for_bills(bills) + write_facts_for_settlement_months(months)
        for y, m in theirs.values_list("year", "month").distinct():
            touched[y].add(m)
        return new, sum(_rebuild_aggregates(y, ms) for y, ms in sorted(touched.items())), touched
    with connection.cursor() as cur:
        _temp_tables(cur)
        cols = ", ".join(f"f.{c}" for c in GONE_COLUMNS)
        # the facts as the records say now, then only what differs is written: the facts that changed or
        # went are deleted (kept in stat_gone), the new and changed ones inserted (kept in stat_new: the
        # steps below read the facts that changed from these two small tables, never the facts' table)
        new = write_facts_for_bills(bills, "stat_fresh") + write_facts_for_settlement_months(months, "stat_fresh")
        cur.execute("ANALYZE stat_fresh")
        if seconds is not None:
            seconds["facts"] = time.monotonic() - t
        t = time.monotonic()
        same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM f.{c}" for c in FACT_COLUMNS)
        for column, ids in (("bill_id", bills), ("settlement_month_id", months)):
            if ids:
                cur.execute(f"WITH gone AS (DELETE FROM reporting_fact f WHERE f.{column} = ANY(%s) AND NOT EXISTS "
                            f"(SELECT 1 FROM stat_fresh s WHERE s.source_key = f.source_key AND {same}) "
                            f"RETURNING {cols}) INSERT INTO stat_gone SELECT * FROM gone", [sorted(ids)])
        cur.execute(f"WITH new AS (INSERT INTO reporting_fact ({', '.join(FACT_COLUMNS)}) "
                    f"SELECT {', '.join(FACT_COLUMNS)} FROM stat_fresh s "
                    "WHERE NOT EXISTS (SELECT 1 FROM reporting_fact f WHERE f.source_key = s.source_key) "
                    f"RETURNING {', '.join(GONE_COLUMNS)}) INSERT INTO stat_new SELECT * FROM new")
        if seconds is not None:
            seconds["changed facts"] = time.monotonic() - t
        t = time.monotonic()
        cur.execute("SELECT year, month FROM stat_gone UNION SELECT year, month FROM stat_new")
        touched = defaultdict(set)
        for y, m in cur.fetchall():
            touched[y].add(m)
        built = set(PresenceYear.objects.filter(year__in=list(touched)).values_list("year", flat=True))
        unbuilt = sorted(set(touched) - built)
        # a year without presence (its first build, or built before this table) is built whole
        moves, signed = _presence_apply(cur, sorted(built)) if built else ({}, False)
        sums = _month_sums(cur, sorted(built), signed) if built else {}
        if seconds is not None:
            seconds["presence"] = time.monotonic() - t
        cells = 0
        for year in unbuilt:
            cells += _build_year_from_facts(cur, year)
        try:
            cells += _build_incremental({y: ms for y, ms in touched.items() if y in built}, moves, sums, seconds)
        except PresenceOutOfStep:
            # never expected (tests/reporting/test_incremental.py): said in the log, and the figures stay right
            logger.exception("statistics: the distinct counts were out of step with the months; years built again")
            for year in sorted(built):
                cells += _build_year_from_facts(cur, year)
    return new, cells, touched


def _lock_state(nowait: bool) -> BuildState:
    from django.db import connection

    if connection.vendor == "postgresql":
        # the year's distinct counts sort a year of facts: in memory, not on disk (this transaction only);
        # no JIT: each statement of a build runs once, and one whose estimate passes jit_above_cost — every
        # statement run without nested loops or sorts (``_planner``: those plans cost 10^10) and most at full
        # size — was compiled with inlining and optimisation first, ~1.3 s a statement at 200,000 decisions
        with connection.cursor() as cur:
            cur.execute("SET LOCAL work_mem = '256MB'")
            cur.execute("SET LOCAL jit = off")
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
        new, cells, _touched = _replace_facts(bills, months)
        cells += sum(_rebuild_subsidies(y) for y in sorted(subsidy_years))
        RefreshQueue.objects.filter(pk__in=[pk for pk, _ in queued]).delete()
        state.built_at = timezone.now()
        state.seconds = time.monotonic() - started
        state.sources = len(queued)
        state.save()
    return {"busy": False, "changes": len(queued), "facts": new, "cells": cells, "seconds": state.seconds}


def rebuild_year(year: int) -> dict:
    """Every fact and aggregate of ``year`` from the claims records, and the year's presence (repair)."""
    from django.db import connection

    started = time.monotonic()
    seconds: dict[str, float] = {}
    with transaction.atomic():
        state = _lock_state(False)
        t = time.monotonic()
        Fact.objects.filter(year=year).delete()
        n = write_facts_for_year(year)
        seconds["facts"] = time.monotonic() - t
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cells = _build_year_from_facts(cur, year, seconds)
        else:
            cells = _rebuild_aggregates(year, set(range(1, 13)))
        cells += _rebuild_subsidies(year)
        state.built_at = timezone.now()
        state.seconds = time.monotonic() - started
        state.save()
    return {"facts": n, "cells": cells, "steps": seconds, "seconds": time.monotonic() - started}


def close_month(year: int, month: int) -> dict:
    """A closed month brought into the figures (the benchmark's 'closed month'): the facts of the bills
    settled in it written again from their decisions, the presence of the people they touch, then the
    aggregates of the month, its quarter and its year — one transaction. Returns the seconds of each step."""
    from claims.models import Bill

    started = time.monotonic()
    seconds: dict[str, float] = {}
    with transaction.atomic():
        _lock_state(False)
        bills = set(Bill.objects.filter(settled_on__year=year, settled_on__month=month).values_list("pk", flat=True))
        facts, cells, touched = _replace_facts(bills, set(), seconds)
        if month not in touched.get(year, ()):  # nothing changed: the month, its quarter and the year all the same
            cells += _build_incremental({year: {month}}, {}, {}, seconds)
    return {"bills": len(bills), "facts": facts, "cells": cells, "steps": seconds, "seconds": time.monotonic() - started}
