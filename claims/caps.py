"""The one cap ledger (issue 10): a person's annual cap usage — one ``CapUsage`` row per (person, year,
cap key) — is created, locked, read for deciding, added to and set only here, whichever door decides
the money: a hand bill's decision, return or refusal (``claims.services``), the old system's decisions
(``load_history`` through ``bill_record_historic``), a one-stop settlement file and its disputed lines
(``claims.settlement``), a decision or a line decided again for a retroactive change (``claims.retro``).
``tests/claims/test_cap_ledger.py`` fails when any other module writes or locks a cap row.

::

    ledger = caps.lock({(person_id, year), ...})      # rows created when missing, locked in one fixed order
    used = ledger.used(person_id, year)               # {cap key: used} for the engine (a copy)
    ledger.add_decision(decision, -1)                 # a decision stops counting (re-decided, returned, refused)
    ledger.add_decision(decision, +1)                 # … or starts counting
    ledger.add(person_id, year, scheme, amount)       # one line's amount (settled, re-checked)
    ledger.add_many({(person_id, year, key): amount})  # a whole file's agreed lines in one statement

What counts is said once too: ``decision_usage`` (a current decision of a bill in ``COUNTING``) and
``line_usage`` (a one-stop line's agreed or settled amount); ``expected()`` recomputes every row from
them for ``verify_books``. ``read()`` is the unlocked figure for previews and pages.

Locks: always (person, year, cap key) order, after the bill and decision rows and the settlement
month (docs/architecture.md, the lock order); the second of two decisions for one person at the same
moment waits, then reads the first one's figure. Every add is written at once (row by row with
``save()`` — audited — for a few people; in one statement for a file, audited by its caller), and a
figure below zero is refused (nothing is written: the caller's transaction rolls back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import ExtractYear

from .models import CAP_KEYS, ZERO, Bill, CapKey, CapUsage, Decision, SettlementLine

Key = tuple[int, int, str]  # (person, year, cap key)

#: statuses in which a bill's current decision counts against the person's caps
COUNTING = frozenset({Bill.Status.DECIDED, Bill.Status.APPROVED, Bill.Status.PAID, Bill.Status.HISTORIC})
#: cap key → the decision's field that counts in it (the scheme's own key counts ``assistance``)
DECISION_PARTS = {
    CapKey.POOLING: "pooling_paid",
    CapKey.POOLING_DEDUCTIBLE: "pooling_deductible",
    CapKey.YOUFU: "youfu_subsidy",
    CapKey.YOUFU_BURDEN: "youfu_burden",
}
#: up to this many (person, year) pairs the rows are locked as objects and saved one by one (audited)
FEW = 50
CHUNK = 5000


def decision_usage(d: Decision) -> dict[str, Decimal]:
    """What a decision counts in each cap of its person and year."""
    out = {key: getattr(d, field) for key, field in DECISION_PARTS.items()}
    if d.scheme:
        out[d.scheme] = d.assistance
    return out


def line_usage(line: SettlementLine) -> Decimal:
    """What a one-stop line counts in its scheme's cap (and is paid to the institution): agreed, or settled."""
    return line.payable if line.scheme else ZERO


def read(person_id: int, year: int) -> dict[str, Decimal]:
    """What each cap of the person has used in ``year`` (unlocked: for previews and pages)."""
    used = {k: ZERO for k in CAP_KEYS}
    used.update(dict(CapUsage.objects.filter(person_id=person_id, year=year).values_list("scheme", "used")))
    return used


class Ledger:
    """The locked cap rows of some (person, year) pairs (made by ``lock``)."""

    def __init__(self):
        self._used: dict[Key, Decimal] = {}
        self._pk: dict[Key, int] = {}
        self._obj: dict[Key, CapUsage] = {}

    def _keep(self, pk: int, key: Key, used: Decimal, obj: CapUsage | None = None) -> None:
        self._pk[key], self._used[key] = pk, used
        if obj is not None:
            self._obj[key] = obj

    def used(self, person_id: int, year: int) -> dict[str, Decimal]:
        """{cap key: used} of one person and year (a copy: the caller may count on it in memory)."""
        try:
            return {k: self._used[(person_id, year, k)] for k in CAP_KEYS}
        except KeyError:
            raise LookupError(f"cap rows of person {person_id} {year} are not locked") from None

    def add(self, person_id: int, year: int, key: str, amount: Decimal) -> None:
        self.add_many({(person_id, year, key): amount})

    def add_decision(self, d: Decision, sign: int) -> None:
        """A decision starts (+1) or stops (-1) counting in its person's caps."""
        self.add_many({(d.person_id, d.year, key): amount * sign for key, amount in decision_usage(d).items()})

    def add_many(self, amounts: dict[Key, Decimal]) -> int:
        """Add to many rows at once; refused (nothing written) when a figure would go below zero.
        Returns how many rows changed."""
        from .services import ClaimsError

        new: dict[Key, Decimal] = {}
        for key, amount in amounts.items():
            if not amount:
                continue
            if key not in self._used:
                raise LookupError(f"cap row {key} is not locked")
            value = new.get(key, self._used[key]) + amount
            if value < ZERO:
                pid, year, scheme = key
                raise ClaimsError(f"年度限额使用额将为负数（{pid} {year} {scheme}），请联系系统管理员核查。")
            new[key] = value
        bulk = {}
        for key, value in new.items():
            self._used[key] = value
            obj = self._obj.get(key)
            if obj is not None:
                obj.used = value
                obj.save(update_fields=["used", "updated_at"])
            else:
                bulk[self._pk[key]] = value
        _set_used(bulk)
        return len(new)


def lock(keys: Iterable[tuple[int, int]]) -> Ledger:
    """The cap rows of these (person, year) pairs, created when missing, then locked with
    SELECT … FOR UPDATE in one fixed order (person, year, cap key) — for one bill as for a whole file.

    The lock keeps two decisions for one person made at the same moment (two clerks, two workers, a
    settlement import) from both reading the same "cap left" and together paying more than the cap:
    the second waits until the first commits, then reads the new figure."""
    keys = sorted(set(keys))
    ledger = Ledger()
    if not keys:
        return ledger
    if len(keys) <= FEW:
        q = Q()
        for pid, year in keys:
            q |= Q(person_id=pid, year=year)
        have = set(CapUsage.objects.filter(q).values_list("person_id", "year", "scheme"))
        for pid, year in keys:
            for scheme in CAP_KEYS:
                if (pid, year, scheme) not in have:
                    CapUsage.objects.get_or_create(person_id=pid, year=year, scheme=scheme)
        for row in CapUsage.objects.select_for_update().filter(q).order_by("person_id", "year", "scheme"):
            ledger._keep(row.pk, (row.person_id, row.year, row.scheme), row.used, row)
        return ledger
    _ensure_rows(keys)
    pids = sorted({p for p, _ in keys})
    years = sorted({y for _, y in keys})
    for i in range(0, len(pids), CHUNK):
        rows = (CapUsage.objects.select_for_update().filter(person_id__in=pids[i:i + CHUNK], year__in=years)
                .order_by("person_id", "year", "scheme").values_list("pk", "person_id", "year", "scheme", "used"))
        for pk, pid, year, scheme, used in rows:
            ledger._keep(pk, (pid, year, scheme), used)
    return ledger


def expected() -> dict[Key, Decimal]:
    """(person, year, cap key) → what the current decisions (historic ones from load_history included)
    and the one-stop lines add up to: what every row must hold (``verify_books``)."""
    out: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    current = Decision.objects.filter(is_current=True, bill__status__in=COUNTING)
    sums = {key: Sum(f) for key, f in DECISION_PARTS.items()}
    for row in current.values("person_id", "year").annotate(**sums).order_by():
        for key in DECISION_PARTS:
            out[(row["person_id"], row["year"], key)] += row[key] or ZERO
    for row in current.exclude(scheme="").values("person_id", "year", "scheme").annotate(s=Sum("assistance")).order_by():
        out[(row["person_id"], row["year"], row["scheme"])] += row["s"] or ZERO
    lines = (SettlementLine.objects.filter(person__isnull=False).exclude(scheme="")
             .annotate(y=ExtractYear("settled_on")).values("person_id", "y", "scheme").annotate(s=Sum("payable")).order_by())
    for row in lines:
        out[(row["person_id"], row["y"], row["scheme"])] += row["s"] or ZERO
    return out


# --- bulk writes (COPY on PostgreSQL; bulk_create / bulk_update elsewhere) ------------------------------
def _ensure_rows(keys: list[tuple[int, int]]) -> None:
    """Create the missing rows of these (person, year) pairs (ON CONFLICT DO NOTHING)."""
    if connection.vendor != "postgresql":
        CapUsage.objects.bulk_create(
            [CapUsage(person_id=p, year=y, scheme=s) for p, y in keys for s in CAP_KEYS], ignore_conflicts=True, batch_size=5000
        )
        return
    table = CapUsage._meta.db_table
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS claims_tmp_capkey (person_id bigint, year smallint) ON COMMIT DROP")
        cur.execute("TRUNCATE claims_tmp_capkey")
        with cur.cursor.copy("COPY claims_tmp_capkey (person_id, year) FROM STDIN") as copy:
            for k in keys:
                copy.write_row(k)
        cur.execute(
            f'INSERT INTO "{table}" (person_id, year, scheme, used, updated_at) '
            "SELECT k.person_id, k.year, s.scheme, 0, now() FROM claims_tmp_capkey k "
            "CROSS JOIN unnest(%s::text[]) AS s(scheme) ORDER BY 1, 2, 3 "
            "ON CONFLICT (person_id, year, scheme) DO NOTHING",
            [list(CAP_KEYS)],
        )


def _set_used(values: dict[int, Decimal]) -> int:
    """Set ``used`` of rows by id (rows locked by ``lock``)."""
    if not values:
        return 0
    if connection.vendor != "postgresql":
        rows = list(CapUsage.objects.filter(pk__in=list(values)))
        for r in rows:
            r.used = values[r.pk]
        CapUsage.objects.bulk_update(rows, ["used", "updated_at"], batch_size=5000)
        return len(rows)
    table = CapUsage._meta.db_table
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS claims_tmp_capused (id bigint, used numeric(14,2)) ON COMMIT DROP")
        cur.execute("TRUNCATE claims_tmp_capused")
        with cur.cursor.copy("COPY claims_tmp_capused (id, used) FROM STDIN") as copy:
            for pk, used in values.items():
                copy.write_row((pk, used))
        cur.execute(
            f'UPDATE "{table}" c SET used = t.used, updated_at = now() FROM claims_tmp_capused t WHERE c.id = t.id'
        )
        return cur.rowcount
