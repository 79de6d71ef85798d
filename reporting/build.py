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
# closed month at 200,000 decisions). Instead ``reporting_presence`` keeps, per (year, person), the
# person's cells (``reporting_cell`` numbers) and, per cell, the months the person appears in it as
# bitmasks (seen / paid / youfu). A build that replaces facts recomputes the masks' bits of the months
# it touched, for the people it touched only, before and after the change; where a person's masks
# change, the quarter's and the year's counts move by one (a person enters a cell's count when its mask
# meets the period's months, and leaves when it no longer does). Each touched person's row is read once
# and written once. The sums (person-times, amounts) of a quarter and the year are the sums of their
# months' rows.

YEAR_BITS = (1 << 12) - 1
#: (Aggregate field, Presence mask) of the three distinct counts
DISTINCT = (("people", "paid"), ("youfu_people", "youfu"), ("case_people", "seen"))
ADDITIVE = tuple(m for m in MEASURES if m not in {f for f, _ in DISTINCT})
MASKS = ("seen", "paid", "youfu")
#: the columns of a fact the presence reads (stat_gone keeps them for the facts a build deletes)
PRESENCE_FACT_COLUMNS = ("id", "year", "month", "person_id", *DIMENSIONS.values(), "assistance", "youfu")
#: what a fact must keep for the presence to stay as it is: its person, month and cells, and whether it paid
SAME_PRESENCE = ("year", "month", "person_id", *DIMENSIONS.values())
#: what the build keeps of the facts it deletes (stat_gone)
GONE_COLUMNS = ("id", *FACT_COLUMNS)
#: a fact's cells depend on these columns only (its "signature": a few thousand in a year)
SIGNATURE = tuple(DIMENSIONS.values())


def period_bits(period: Period) -> int:
    return sum(1 << (m - 1) for m in period.months)


def _cells_sql() -> str:
    """A fact ``f``'s cell of every cut: a VALUES list of (grouping, key1, key2), keys as Aggregate writes them."""
    cells = []
    for g in GROUPINGS:
        keys = [f"COALESCE(CAST(f.{DIMENSIONS[d]} AS varchar), '')" for d in g] + ["''", "''"]
        cells.append(f"('{grouping_name(g)}', {keys[0]}, {keys[1]})")
    return f"(VALUES {', '.join(cells)})"


_CELLS = _cells_sql()
_SIGNATURE_KEYS = [f"COALESCE(CAST(f.{c} AS varchar), '')" for c in SIGNATURE]


def _signatures(cur, facts: str, params=()) -> None:
    """stat_sig: each signature of ``facts`` (a FROM item named ``f``) with the numbers of its cell of
    every cut, the cells numbered first where new. A fact then finds its cells by one hashed join on its
    signature instead of eighteen on text keys."""
    cur.execute("DROP TABLE IF EXISTS stat_keys, stat_sig")
    cur.execute(f"CREATE TEMP TABLE stat_keys ON COMMIT DROP AS SELECT DISTINCT "
                f"{', '.join(f'{k} AS {c}' for k, c in zip(_SIGNATURE_KEYS, SIGNATURE, strict=True))} FROM {facts}",
                params)
    match = 'x.grouping = c.g COLLATE "C" AND x.key1 = c.k1 COLLATE "C" AND x.key2 = c.k2 COLLATE "C"'
    # one builder at a time (the BuildState lock): no one else numbers a cell meanwhile
    cur.execute(f"""
        INSERT INTO reporting_cell (grouping, key1, key2)
        SELECT DISTINCT c.g, c.k1, c.k2 FROM stat_keys f CROSS JOIN LATERAL {_CELLS} c (g, k1, k2)
         WHERE NOT EXISTS (SELECT 1 FROM reporting_cell x WHERE {match})
    """)
    sig = ", ".join(f"f.{c}" for c in SIGNATURE)
    cur.execute(f"""
        CREATE TEMP TABLE stat_sig ON COMMIT DROP AS
        SELECT {sig}, array_agg(x.id::int) AS cells
          FROM stat_keys f CROSS JOIN LATERAL {_CELLS} c (g, k1, k2) JOIN reporting_cell x ON {match}
         GROUP BY {sig}
    """)
    cur.execute("ANALYZE stat_sig")


def _pairs_sql(facts: str) -> str:
    """SELECT, per year, person and cell (number), the months of ``facts`` (a FROM item named ``f`` with
    the columns of PRESENCE_FACT_COLUMNS, its signatures in stat_sig) as bitmasks: year, person_id,
    cell, seen, paid, youfu. Each fact is spread over its cells (its signature's), then one hashed GROUP BY."""
    month_bit = "(1 << (f.month - 1))"
    on = " AND ".join(f"s.{c} = {k}" for c, k in zip(SIGNATURE, _SIGNATURE_KEYS, strict=True))
    return f"""
        SELECT f.year, f.person_id, c.cell, BIT_OR({month_bit}) AS seen,
               COALESCE(BIT_OR({month_bit}) FILTER (WHERE f.assistance > 0), 0) AS paid,
               COALESCE(BIT_OR({month_bit}) FILTER (WHERE f.youfu > 0), 0) AS youfu
          FROM {facts} JOIN stat_sig s ON {on} CROSS JOIN LATERAL unnest(s.cells) c (cell)
         GROUP BY f.year, f.person_id, c.cell
    """


def _month_sums(cur, last_fact_id: int, years: list[int]) -> dict[tuple[int, str, str, str, str], dict[str, int]]:
    """How the sums of each touched month's cells move: the facts a build inserted less the ones it
    deleted, {(year, month code, grouping, key1, key2): {measure: Δ}} (ADDITIVE measures)."""
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
    cur.execute(f"""
        SELECT f.year, f.month, c.g, c.k1, c.k2, {", ".join(f"COALESCE({e}, 0)" for e in sums.values())}
          FROM (SELECT -1 AS sign, {cols} FROM stat_gone WHERE year = ANY(%s)
                UNION ALL SELECT 1, {cols} FROM reporting_fact WHERE id > %s AND year = ANY(%s)) f
               CROSS JOIN LATERAL {_CELLS} c (g, k1, k2)
         GROUP BY f.year, f.month, c.g, c.k1, c.k2
    """, [years, last_fact_id, years])
    return {(y, Period(y, month=m).code, g, k1, k2): dict(zip(sums, (int(v) for v in values), strict=True))
            for y, m, g, k1, k2, *values in cur.fetchall()}


def _temp_tables(cur) -> None:
    cur.execute("DROP TABLE IF EXISTS stat_fresh, stat_gone, stat_affected, stat_then, stat_now, stat_old, stat_new, "
                "stat_diff, stat_people, stat_merged")
    cur.execute(f"CREATE TEMP TABLE stat_fresh ON COMMIT DROP AS SELECT {', '.join(FACT_COLUMNS)} "
                "FROM reporting_fact WITH NO DATA")
    cur.execute(f"CREATE TEMP TABLE stat_gone ON COMMIT DROP AS SELECT {', '.join(GONE_COLUMNS)} "
                "FROM reporting_fact WITH NO DATA")
    cur.execute("CREATE TEMP TABLE stat_affected (year smallint, month smallint, person_id bigint, "
                "PRIMARY KEY (year, month, person_id)) ON COMMIT DROP")
    for name in ("stat_old", "stat_new"):
        cur.execute(f"CREATE TEMP TABLE {name} (year smallint, person_id bigint, cell int, "
                    f"{', '.join(f'{m} int' for m in MASKS)}) ON COMMIT DROP")


#: facts of a share of the people a whole-year build writes the presence of at a time (its pairs hashed in memory)
FACTS_PER_SHARE = 250_000


def _presence_rebuild_year(cur, year: int) -> None:
    """The year's presence from its facts (a whole-year build; a year built before this table existed),
    a share of the people at a time (each share's cells and people hashed in memory)."""
    cur.execute("DELETE FROM reporting_presence WHERE year = %s", [year])
    facts = f"(SELECT {', '.join(PRESENCE_FACT_COLUMNS)} FROM reporting_fact WHERE year = %s{{share}}) f"
    _signatures(cur, facts.format(share=""), [year])
    cur.execute("SELECT COUNT(*) FROM reporting_fact WHERE year = %s", [year])
    shares = max(1, -(-cur.fetchone()[0] // FACTS_PER_SHARE))
    arrays = ", ".join(f"array_agg(p.{c})" for c in ("cell", *(f"{m}::smallint" for m in MASKS)))
    with _planner(cur, **HASHED):
        for share in range(shares):
            part = f" AND mod(person_id, {shares}) = {share}" if shares > 1 else ""
            # the arrays of one row are aggregated from the same rows in the same order: cell i and mask i
            # stay together
            cur.execute(f"INSERT INTO reporting_presence (year, person_id, cells, {', '.join(MASKS)}) "
                        f"SELECT p.year, p.person_id, {arrays} FROM ({_pairs_sql(facts.format(share=part))}) p "
                        "GROUP BY p.year, p.person_id", [year])
    cur.execute("ANALYZE reporting_presence")
    PresenceYear.objects.update_or_create(year=year, defaults={"built_at": timezone.now()})


_UNNEST = "CROSS JOIN LATERAL unnest(p.cells, p.seen, p.paid, p.youfu) x (cell, seen, paid, youfu)"


def _presence_counts(cur, year: int) -> dict[tuple[str, str, str, str], tuple[int, int, int]]:
    """{(period code, grouping, key1, key2): (people, youfu_people, case_people)} of the year and its
    quarters, counted from the presence (a whole-year build)."""
    periods = [Period(year), *(Period(year, quarter=q) for q in range(1, 5))]
    counts = ", ".join(f"COUNT(*) FILTER (WHERE x.{mask} & {period_bits(p)} <> 0)" for p in periods
                       for _, mask in DISTINCT)
    with _planner(cur, **HASHED):
        cur.execute(f"SELECT c.grouping, c.key1, c.key2, n.* FROM (SELECT x.cell, {counts} FROM reporting_presence p "
                    f"{_UNNEST} WHERE p.year = %s GROUP BY x.cell) n JOIN reporting_cell c ON c.id = n.cell", [year])
        rows = cur.fetchall()
    out = {}
    for g, k1, k2, _cell, *n in rows:
        for i, p in enumerate(periods):
            out[(p.code, g, k1, k2)] = tuple(n[3 * i : 3 * i + 3])
    return out


def presence_rows(year: int) -> set[tuple[str, str, str, int, int, int, int]]:
    """The presence of ``year`` one row per (cell, person): (grouping, key1, key2, person_id, seen, paid,
    youfu) — what the tests compare and an auditor reads."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT c.grouping, c.key1, c.key2, p.person_id, x.seen, x.paid, x.youfu FROM reporting_presence p "
                    f"{_UNNEST} JOIN reporting_cell c ON c.id = x.cell WHERE p.year = %s", [year])
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


def _presence_apply(cur, last_fact_id: int, years: list[int]) -> dict[tuple[int, str, str, str, str], list[int]]:
    """After the facts of a build were replaced (the deleted ones in stat_gone, the new ones with ids
    above ``last_fact_id``): bring the presence of the people and months they touched in ``years`` up
    to date and return how each quarter's and year's distinct counts moved, {(year, period code,
    grouping, key1, key2): [Δpeople, Δyoufu_people, Δcase_people]}."""
    facts = ", ".join(f"f.{c}" for c in PRESENCE_FACT_COLUMNS)
    cur.execute("ANALYZE stat_gone")
    # the people and months whose facts changed in a way the presence sees (a fact written again as it
    # was — the usual case of a closed month built again — touches nobody)
    same = " AND ".join(f"g.{c} IS NOT DISTINCT FROM n.{c}" for c in SAME_PRESENCE)
    cur.execute(f"""
        INSERT INTO stat_affected
        SELECT DISTINCT x.year, x.month, x.person_id
          FROM stat_gone g FULL JOIN (SELECT * FROM reporting_fact WHERE id > %s) n ON n.source_key = g.source_key
               CROSS JOIN LATERAL (VALUES (g.year, g.month, g.person_id), (n.year, n.month, n.person_id)) x (year, month, person_id)
         WHERE x.year = ANY(%s)
           AND NOT (COALESCE({same} AND (g.assistance > 0) = (n.assistance > 0) AND (g.youfu > 0) = (n.youfu > 0), FALSE))
    """, [last_fact_id, years])
    cur.execute("SELECT DISTINCT year, month FROM stat_affected")
    year_months = cur.fetchall()
    if not year_months:
        return {}
    cur.execute("ANALYZE stat_affected")
    # the facts of the touched people in the touched months (read through the (year, month, person) index):
    # as they were (the ones the build kept, and the ones it deleted) and as they are now
    months = " OR ".join(f"(f.year = {int(y)} AND f.month = {int(m)})" for y, m in year_months)
    mine = f"""{{table}} f WHERE ({months}) AND EXISTS (SELECT 1 FROM stat_affected a
               WHERE a.year = f.year AND a.month = f.month AND a.person_id = f.person_id)"""
    cur.execute(f"CREATE TEMP TABLE stat_then ON COMMIT DROP AS SELECT {facts} FROM {mine.format(table='reporting_fact')} "
                f"AND f.id <= %s UNION ALL SELECT {facts} FROM {mine.format(table='stat_gone')}", [last_fact_id])
    cur.execute(f"CREATE TEMP TABLE stat_now ON COMMIT DROP AS SELECT {facts} FROM {mine.format(table='reporting_fact')}")
    cur.execute("ANALYZE stat_then")
    cur.execute("ANALYZE stat_now")
    _signatures(cur, "(SELECT * FROM stat_then UNION ALL SELECT * FROM stat_now) f")
    pairs = ", ".join(("year", "person_id", "cell", *MASKS))
    key = ("year", "person_id", "cell")
    cur.execute("SELECT EXISTS (SELECT 1 FROM stat_then), EXISTS (SELECT 1 FROM stat_now)")
    then, now = cur.fetchone()
    # the cells and people whose months changed, their months before and after
    diff = f"CREATE TEMP TABLE stat_diff ON COMMIT DROP AS SELECT {', '.join(key)}, "
    with _planner(cur, **HASHED):
        if then and now:
            cur.execute(f"INSERT INTO stat_old ({pairs}) " + _pairs_sql("stat_then f"))
            cur.execute(f"INSERT INTO stat_new ({pairs}) " + _pairs_sql("stat_now f"))
            cur.execute("ANALYZE stat_old")
            cur.execute("ANALYZE stat_new")
            cur.execute(f"""
                CREATE TEMP TABLE stat_diff ON COMMIT DROP AS
                SELECT {", ".join(f"COALESCE(o.{k}, n.{k}) AS {k}" for k in key)},
                       {", ".join(f"COALESCE(o.{m}, 0) AS old_{m}, COALESCE(n.{m}, 0) AS new_{m}" for m in MASKS)}
                  FROM stat_old o FULL JOIN stat_new n ON {" AND ".join(f"o.{k} = n.{k}" for k in key)}
                 WHERE {" OR ".join(f"o.{m} IS DISTINCT FROM n.{m}" for m in MASKS)}
            """)
        elif now:  # the month had none of these people's facts (a month arriving whole): nothing to compare
            cur.execute(diff + ", ".join(f"0 AS old_{m}, {m} AS new_{m}" for m in MASKS)
                        + f" FROM ({_pairs_sql('stat_now f')}) p")
        else:  # their facts of the month all went
            cur.execute(diff + ", ".join(f"{m} AS old_{m}, 0 AS new_{m}" for m in MASKS)
                        + f" FROM ({_pairs_sql('stat_then f')}) p")
    cur.execute("CREATE TEMP TABLE stat_people ON COMMIT DROP AS SELECT DISTINCT year, person_id FROM stat_affected")
    cur.execute("ANALYZE stat_diff")
    cur.execute("ANALYZE stat_people")
    # every cell of the touched people (their rows of the presence, each read once), the changed ones
    # with their masks before and after
    with _planner(cur, **HASHED):
        cur.execute(f"""
            CREATE TEMP TABLE stat_merged ON COMMIT DROP AS
            SELECT {", ".join(f"COALESCE(d.{k}, x.{k}) AS {k}" for k in key)}, d.cell IS NOT NULL AS changed,
                   {", ".join(f"COALESCE(x.{m}, 0) AS {m}0, (COALESCE(x.{m}, 0) & ~COALESCE(d.old_{m}, 0)) "
                              f"| COALESCE(d.new_{m}, 0) AS {m}1" for m in MASKS)}
              FROM (SELECT p.year, p.person_id, x.cell, x.seen, x.paid, x.youfu
                      FROM reporting_presence p JOIN stat_people a ON a.year = p.year AND a.person_id = p.person_id
                           {_UNNEST}) x
                   FULL JOIN stat_diff d ON {" AND ".join(f"d.{k} = x.{k}" for k in key)}
        """)
    # the counts' moves: a person counts in a period when their mask meets its months
    months_touched = {int(m) for _, m in year_months}
    periods = [Period(2000), *(Period(2000, quarter=q) for q in sorted({(m - 1) // 3 + 1 for m in months_touched})),
               *(Period(2000, month=m) for m in sorted(months_touched))]

    def move(mask: str, bits: int) -> str:
        return f"SUM(CASE WHEN {mask}1 & {bits} <> 0 THEN 1 ELSE 0 END - CASE WHEN {mask}0 & {bits} <> 0 THEN 1 ELSE 0 END)"

    with _planner(cur, **HASHED):
        cur.execute(f"SELECT n.year, c.grouping, c.key1, c.key2, n.* FROM (SELECT year, cell, "
                    f"{', '.join(move(m, period_bits(p)) for p in periods for _, m in DISTINCT)} "
                    "FROM stat_merged WHERE changed GROUP BY year, cell) n JOIN reporting_cell c ON c.id = n.cell")
        rows = cur.fetchall()
    moves: dict[tuple[int, str, str, str, str], list[int]] = {}
    for y, g, k1, k2, _y, _cell, *n in rows:
        for i, p in enumerate(periods):
            d = [int(x) for x in n[3 * i : 3 * i + 3]]
            if any(d):
                moves[(y, p.code, g, k1, k2)] = d
    # each touched person's row written again (a row left without cells goes)
    cur.execute("DELETE FROM reporting_presence p USING stat_people a WHERE p.year = a.year AND p.person_id = a.person_id")
    arrays = ", ".join(f"array_agg({c})" for c in ("cell", *(f"{m}1::smallint" for m in MASKS)))
    with _planner(cur, **HASHED):
        cur.execute(f"INSERT INTO reporting_presence (year, person_id, cells, {', '.join(MASKS)}) "
                    f"SELECT year, person_id, {arrays} FROM stat_merged WHERE seen1 <> 0 GROUP BY year, person_id")
    return moves


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
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM reporting_fact")
        last = cur.fetchone()[0]
        cols = ", ".join(f"f.{c}" for c in GONE_COLUMNS)
        # the facts as the records say now, then only what differs is written: the facts that changed or
        # went are deleted (kept in stat_gone), the new and changed ones inserted — with ids above ``last``
        # (one builder at a time, the BuildState lock, writes facts)
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
        cur.execute(f"INSERT INTO reporting_fact ({', '.join(FACT_COLUMNS)}) SELECT {', '.join(FACT_COLUMNS)} "
                    "FROM stat_fresh s WHERE NOT EXISTS (SELECT 1 FROM reporting_fact f WHERE f.source_key = s.source_key)")
        if seconds is not None:
            seconds["changed facts"] = time.monotonic() - t
        t = time.monotonic()
        cur.execute("SELECT year, month FROM stat_gone UNION SELECT year, month FROM reporting_fact WHERE id > %s",
                    [last])
        touched = defaultdict(set)
        for y, m in cur.fetchall():
            touched[y].add(m)
        built = set(PresenceYear.objects.filter(year__in=list(touched)).values_list("year", flat=True))
        unbuilt = sorted(set(touched) - built)
        # a year without presence (its first build, or built before this table) is built whole
        moves = _presence_apply(cur, last, sorted(built)) if built else {}
        sums = _month_sums(cur, last, sorted(built)) if built else {}
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
