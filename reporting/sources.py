"""Where the statistics' facts come from: the claims records, read in bulk (docs/statistics.md).

What counts:
- a hand-settled bill: its latest decision that a reviewer approved (``reviewed_at`` set and no
  reviewer's refusal) — a historic decision (the old system's, ``load_history --historic``) included;
  while a re-decision waits for approval, the one approved before it still counts;
- a one-stop settlement line of an institution-month a reviewer confirmed (CONFIRMED or PAID),
  not a duplicate, of a known person: assistance = what is paid to the institution for it.

THE TOWN: every fact takes its town from ``DECISION_TOWN`` / ``LINE_TOWN`` / ``SUBSIDY_TOWN`` below, and
from nowhere else: the town the decision or line recorded when it was made (issue 17, docs/areas.md), so a person
who moves later leaves their earlier figures where they were. THE DISTRICT: the district that
governed that town on the settlement date, from the dated area tree (``yfbz.areas.tree``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from django.db.models import Max

from claims.models import Bill, Decision, SettlementLine, SettlementMonth

from .models import Fact, Route

#: the town of a hand-settled bill's decision (a lookup from claims.Decision): the town it was made under
DECISION_TOWN = "town_id"
#: the town of a one-stop settlement line (a lookup from claims.SettlementLine): the town it was decided under
LINE_TOWN = "town_id"
#: the town of a contribution subsidy (a lookup from funding.SubsidyResult): the town it was decided under
SUBSIDY_TOWN = "town_id"

CHUNK = 5000
COUNTED_MONTH_STATUSES = (SettlementMonth.Status.CONFIRMED, SettlementMonth.Status.PAID)


def fen(amount: Decimal | None) -> int:
    return int((amount or Decimal("0")) * 100)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _decision_facts(decision_ids: list[int]) -> Iterator[Fact]:
    cols = (
        "id", "bill_id", "person_id", DECISION_TOWN, "settled_on", "scheme", "category", "youfu_category",
        "bill__institution__level", "bill__kind", "historic", "bill__total_cost", "bill__in_policy_cost", "base",
        "assistance", "youfu_subsidy",
    )
    from yfbz.areas.tree import area_tree

    tree = area_tree()
    for chunk in _chunks(sorted(decision_ids)):
        rows = Decision.objects.filter(pk__in=chunk).values_list(*cols)
        for (_pk, bill_id, person_id, town_id, settled_on, scheme, category, youfu_category, level, kind, historic,
             total, in_policy, base, assistance, youfu) in rows:
            yield Fact(
                source_key=f"bill:{bill_id}", bill_id=bill_id, year=settled_on.year, month=settled_on.month,
                settled_on=settled_on, person_id=person_id, town_id=town_id,
                district_id=tree.district_of(town_id, settled_on), route=Route.HAND, scheme=scheme or "",
                category=category or youfu_category or "", level=level, kind=kind, historic=historic,
                total_cost=fen(total), in_policy_cost=fen(in_policy), self_pay=fen(base), assistance=fen(assistance),
                youfu=fen(youfu),
            )


def _counted_decisions(decisions) -> list[int]:
    """Of these decisions (a queryset), per bill the latest one a reviewer approved (not refused by the reviewer)."""
    latest = (
        decisions.filter(reviewed_at__isnull=False).values("bill_id").annotate(last=Max("id")).values_list("last", flat=True)
    )
    return list(Decision.objects.filter(pk__in=list(latest), refusal_reason="").values_list("pk", flat=True))


def facts_for_bills(bill_ids: Iterable[int]) -> list[Fact]:
    out: list[Fact] = []
    for chunk in _chunks(sorted(set(bill_ids))):
        out.extend(_decision_facts(_counted_decisions(Decision.objects.filter(bill_id__in=chunk))))
    return out


def facts_for_settlement_months(month_ids: Iterable[int]) -> list[Fact]:
    ids = list(
        SettlementMonth.objects.filter(pk__in=list(month_ids), status__in=COUNTED_MONTH_STATUSES).values_list("pk", flat=True)
    )
    if not ids:
        return []
    rows = (
        SettlementLine.objects.filter(settlement_month_id__in=ids, duplicate=False, person__isnull=False)
        .values_list(
            "id", "settlement_month_id", "person_id", LINE_TOWN, "settled_on", "scheme", "category",
            "institution__level", "kind", "total_cost", "in_policy_cost", "basic_paid", "critical_paid", "payable",
        )
        .iterator(chunk_size=CHUNK)
    )
    from yfbz.areas.tree import area_tree

    tree = area_tree()
    out = []
    for (pk, sm_id, person_id, town_id, settled_on, scheme, category, level, kind, total, in_policy, basic, critical,
         payable) in rows:
        self_pay = max((in_policy or 0) - (basic or 0) - (critical or 0), Decimal("0"))
        out.append(
            Fact(
                source_key=f"line:{pk}", settlement_month_id=sm_id, year=settled_on.year, month=settled_on.month,
                settled_on=settled_on, person_id=person_id, town_id=town_id,
                district_id=tree.district_of(town_id, settled_on), route=Route.ONE_STOP,
                scheme=scheme or "", category=category or "", level=level, kind=kind, historic=False,
                total_cost=fen(total), in_policy_cost=fen(in_policy), self_pay=fen(self_pay), assistance=fen(payable),
                youfu=0,
            )
        )
    return out


def facts_for_year(year: int) -> Iterator[list[Fact]]:
    """Every fact of a year from the claims records (a full rebuild), a batch at a time."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    bills = (
        Bill.objects.filter(status__in=[s for s in Bill.Status.values if s != Bill.Status.ENTERED])
        .filter(settled_on__gte=start, settled_on__lte=end)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batch: list[int] = []
    for pk in bills.iterator(chunk_size=CHUNK):
        batch.append(pk)
        if len(batch) == CHUNK:
            yield facts_for_bills(batch)
            batch = []
    if batch:
        yield facts_for_bills(batch)
    months = SettlementLine.objects.filter(settled_on__gte=start, settled_on__lte=end).values_list(
        "settlement_month_id", flat=True
    ).distinct()
    yield [f for f in facts_for_settlement_months(list(months)) if f.year == year]


# --- the same facts, written by the database in one statement per batch (the build's path) --------
# ``facts_for_bills`` / ``facts_for_settlement_months`` above build Fact objects in Python, row by
# row: they stay as the reference the tests compare with. The build writes facts with the
# statements below (INSERT … SELECT, no row passes through Python), which give the same rows: the
# same decisions and lines, the same town (DECISION_TOWN / LINE_TOWN), the same district (the span
# of the area tree that starts last on or before the settlement date, if it still covers that date:
# ``AreaTree.district_of``), amounts in fen. Plain SQL that PostgreSQL and SQLite both run.

FACT_COLUMNS = (
    "source_key", "bill_id", "settlement_month_id", "year", "month", "settled_on", "person_id", "town_id",
    "district_id", "route", "scheme", "category", "level", "kind", "historic", "total_cost", "in_policy_cost",
    "self_pay", "assistance", "youfu",
)


def _fen_sql(expr: str) -> str:
    # numeric(14,2) × 100 is exact on PostgreSQL; SQLite keeps decimals as floats: round before the cast
    return f"CAST(ROUND(({expr}) * 100) AS BIGINT)"


def _district_sql(town: str, day: str) -> str:
    return (
        f"(SELECT CASE WHEN td.valid_to IS NULL OR td.valid_to >= {day} THEN td.district_id END"
        f" FROM areas_towndistrict td WHERE td.town_id = {town} AND td.valid_from <= {day}"
        " ORDER BY td.valid_from DESC LIMIT 1)"
    )


def _year_month_sql(day: str) -> tuple[str, str]:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {day}) AS INTEGER)", f"CAST(EXTRACT(MONTH FROM {day}) AS INTEGER)"
    # SQLite keeps a date as 'YYYY-MM-DD'
    return f"CAST(substr({day}, 1, 4) AS INTEGER)", f"CAST(substr({day}, 6, 2) AS INTEGER)"


def _bill_facts_sql(bills_where: str, table: str = "reporting_fact") -> str:
    """INSERT the facts of the bills ``bills_where`` selects (a condition on ``claims_decision``'s
    ``bill_id``): per bill its latest decision a reviewer approved, unless the reviewer refused it."""
    assert "__" not in DECISION_TOWN
    year, month = _year_month_sql("d.settled_on")
    return f"""
        INSERT INTO {table} ({", ".join(FACT_COLUMNS)})
        SELECT 'bill:' || d.bill_id, d.bill_id, NULL, {year}, {month}, d.settled_on, d.person_id, d.{DECISION_TOWN},
               {_district_sql("d." + DECISION_TOWN, "d.settled_on")}, '{Route.HAND}', d.scheme,
               COALESCE(NULLIF(d.category, ''), d.youfu_category, ''), i.level, b.kind, d.historic,
               {_fen_sql("b.total_cost")}, {_fen_sql("b.in_policy_cost")}, {_fen_sql("d.base")},
               {_fen_sql("d.assistance")}, {_fen_sql("d.youfu_subsidy")}
          FROM claims_decision d
          JOIN claims_bill b ON b.id = d.bill_id
          JOIN claims_institution i ON i.id = b.institution_id
         WHERE d.id IN (SELECT MAX(c.id) FROM claims_decision c
                         WHERE c.reviewed_at IS NOT NULL AND c.{bills_where} GROUP BY c.bill_id)
           AND d.refusal_reason = ''
    """


def _line_facts_sql(lines_where: str, table: str = "reporting_fact") -> str:
    """INSERT the facts of the one-stop lines ``lines_where`` selects (a condition on ``l`` and ``m``)."""
    assert "__" not in LINE_TOWN
    year, month = _year_month_sql("l.settled_on")
    statuses = ", ".join(f"'{s}'" for s in COUNTED_MONTH_STATUSES)
    self_pay = "l.in_policy_cost - l.basic_paid - l.critical_paid"
    return f"""
        INSERT INTO {table} ({", ".join(FACT_COLUMNS)})
        SELECT 'line:' || l.id, NULL, l.settlement_month_id, {year}, {month}, l.settled_on, l.person_id, l.{LINE_TOWN},
               {_district_sql("l." + LINE_TOWN, "l.settled_on")}, '{Route.ONE_STOP}', l.scheme, l.category, i.level,
               l.kind, {_false_sql()}, {_fen_sql("l.total_cost")}, {_fen_sql("l.in_policy_cost")},
               {_fen_sql(f"CASE WHEN {self_pay} > 0 THEN {self_pay} ELSE 0 END")}, {_fen_sql("l.payable")}, 0
          FROM claims_settlementline l
          JOIN claims_settlementmonth m ON m.id = l.settlement_month_id
          JOIN claims_institution i ON i.id = l.institution_id
         WHERE m.status IN ({statuses}) AND NOT l.duplicate AND l.person_id IS NOT NULL AND {lines_where}
    """


def _false_sql() -> str:
    from django.db import connection

    return "FALSE" if connection.vendor == "postgresql" else "0"


def write_facts_for_bills(bill_ids: Iterable[int], table: str = "reporting_fact") -> int:
    """Write the facts of these bills (their old facts must be gone) into ``table`` (the facts, or a
    temporary table of the same columns). Returns how many were written."""
    from django.db import connection

    n = 0
    with connection.cursor() as cur:
        for chunk in _chunks(sorted(set(bill_ids))):
            cur.execute(_bill_facts_sql(f"bill_id IN ({', '.join(['%s'] * len(chunk))})", table), chunk)
            n += cur.rowcount
    return n


def write_facts_for_settlement_months(month_ids: Iterable[int], table: str = "reporting_fact") -> int:
    from django.db import connection

    ids = sorted(set(month_ids))
    if not ids:
        return 0
    with connection.cursor() as cur:
        cur.execute(_line_facts_sql(f"m.id IN ({', '.join(['%s'] * len(ids))})", table), ids)
        return cur.rowcount


def write_facts_for_year(year: int) -> int:
    """Every fact of a year from the claims records (a full rebuild; the year's old facts must be gone):
    the bills settled in the year that left data entry, and the counted one-stop lines settled in it."""
    from django.db import connection

    start, end = date(year, 1, 1), date(year, 12, 31)
    with connection.cursor() as cur:
        cur.execute(
            _bill_facts_sql(f"bill_id IN (SELECT id FROM claims_bill WHERE status <> '{Bill.Status.ENTERED}'"
                            " AND settled_on >= %s AND settled_on <= %s)"),
            [start, end],
        )
        n = cur.rowcount
        cur.execute(_line_facts_sql("l.settled_on >= %s AND l.settled_on <= %s"), [start, end])
        return n + cur.rowcount
