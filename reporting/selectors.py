"""Reading the statistics: the one place pages, returns and the ``statistics`` command get figures
from (docs/statistics.md). Everything here reads ``Aggregate`` rows only (a few dozen rows per
table): no page scans decisions or facts.

Figures are totals over towns, not personal data: no name or ID number is ever reachable here,
which is what lets the leadership role (局领导) read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from beneficiaries.models import Category, Town
from claims.models import Bill, Institution, Scheme
from yfbz.core.display import label
from yfbz.core.memo import remembered

from .cuts import DIMENSIONS, Period, grouping_for, grouping_name
from .models import Aggregate, BuildState, RefreshQueue, Route

CENT = Decimal("0.01")

#: how the public key of a cell reads (what the command prints and the pages link with)
DIMENSION_ZH = {
    "scheme": "救助方案",
    "category": "身份类别",
    "town": "镇街",
    "district": "区",
    "level": "医疗机构等级",
    "kind": "住院/门诊",
    "route": "结算方式",
}
EMPTY_ZH = {
    "scheme": "未给予医疗救助",
    "category": "未记录身份",
    "town": "未指定镇街",
    "district": "未指定区",
}


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def _ratio(num: int, den: int) -> Decimal | None:
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if den else None


@dataclass
class Cell:
    """The figures of one row of a table (docs/statistics.md defines each)."""

    key: object
    label: str
    people: int = 0
    person_times: int = 0
    amount: Decimal = Decimal("0.00")
    youfu_people: int = 0
    youfu_times: int = 0
    youfu_amount: Decimal = Decimal("0.00")
    cases: int = 0
    case_people: int = 0
    total_cost: Decimal = Decimal("0.00")
    in_policy_cost: Decimal = Decimal("0.00")
    self_pay_before: Decimal = Decimal("0.00")
    self_pay_after: Decimal = Decimal("0.00")
    _fen: dict = field(default_factory=dict, repr=False)

    @property
    def amount_per_time(self) -> Decimal | None:
        return (self.amount / self.person_times).quantize(CENT, rounding=ROUND_HALF_UP) if self.person_times else None

    @property
    def self_pay_ratio_before(self) -> Decimal | None:
        return _ratio(self._fen.get("self_pay_before", 0), self._fen.get("in_policy_cost", 0))

    @property
    def self_pay_ratio_after(self) -> Decimal | None:
        return _ratio(self._fen.get("self_pay_after", 0), self._fen.get("in_policy_cost", 0))

    def as_json(self) -> dict:
        """The four figures of the statistics command (HISTORY.md)."""
        return {
            "people": self.people,
            "person_times": self.person_times,
            "amount": f"{self.amount:.2f}",
            "youfu_amount": f"{self.youfu_amount:.2f}",
        }


MONEY = ("amount", "youfu_amount", "total_cost", "in_policy_cost", "self_pay_before", "self_pay_after")
COUNTS = ("people", "person_times", "youfu_people", "youfu_times", "cases", "case_people")


def _cell(agg: Aggregate | None, key, text: str) -> Cell:
    c = Cell(key=key, label=text)
    if agg is None:
        return c
    for m in COUNTS:
        setattr(c, m, getattr(agg, m))
    for m in MONEY:
        setattr(c, m, yuan(getattr(agg, m)))
        c._fen[m] = getattr(agg, m)
    return c


@dataclass
class Table:
    period: Period
    by: str | None
    town: Town | None
    rows: list[Cell]
    total: Cell
    built_at: datetime | None
    pending: int

    def as_json(self) -> dict:
        out = {"year": self.period.year, "period": self.period.name, "by": self.by}
        if self.town is not None:
            out["town"] = self.town.code
        # keys with nothing paid are left out (HISTORY.md)
        out["rows"] = [
            {"key": r.key, "label": r.label, **r.as_json()} for r in self.rows if r.person_times or r.youfu_times
        ]
        out["total"] = self.total.as_json()
        return out


# --- keys and labels -----------------------------------------------------------------------------
class Keys:
    """Public keys, labels and order of each dimension's cells (read once per table)."""

    def __init__(self):
        self._categories = None
        self._towns = None
        self._districts = None

    def districts(self):
        if self._districts is None:
            from yfbz.areas.models import Area

            self._districts = {str(a.pk): a for a in Area.objects.all()}
        return self._districts

    def categories(self):
        if self._categories is None:
            self._categories = {c.code: (i, c.name) for i, c in enumerate(Category.objects.order_by("id"))}
        return self._categories

    def towns(self):
        if self._towns is None:
            self._towns = {str(t.pk): t for t in Town.objects.all()}
        return self._towns

    def public(self, dim: str, raw: str):
        """The key as the command prints it: codes for scheme/category/kind/route, the town code, the level number."""
        if raw == "":
            return None
        if dim == "town":
            t = self.towns().get(raw)
            return t.code if t else raw
        if dim == "district":
            a = self.districts().get(raw)
            return a.code if a else raw
        if dim == "level":
            return int(raw)
        return raw

    def label(self, dim: str, raw: str) -> str:
        if raw == "":
            return EMPTY_ZH.get(dim, "—")
        if dim == "scheme":
            return label(raw, "scheme")
        if dim == "category":
            return self.categories().get(raw, (0, raw))[1]
        if dim == "town":
            t = self.towns().get(raw)
            return t.name if t else raw
        if dim == "district":
            a = self.districts().get(raw)
            return a.name if a else raw
        if dim == "level":
            return dict(Institution.LEVELS).get(int(raw), raw)
        if dim == "kind":
            return Bill.Kind(raw).label if raw in Bill.Kind.values else raw
        if dim == "route":
            return Route(raw).label if raw in Route.values else raw
        return raw

    def order(self, dim: str, raw: str):
        if raw == "":
            return (1, 0, "")
        if dim == "scheme":
            return (0, Scheme.values.index(raw) if raw in Scheme.values else 99, raw)
        if dim == "category":
            return (0, self.categories().get(raw, (999, raw))[0], raw)
        if dim == "town":
            t = self.towns().get(raw)
            return (0, 0, t.code if t else raw)
        if dim == "district":
            a = self.districts().get(raw)
            return (0, 0, a.code if a else raw)
        if dim == "kind":
            return (0, Bill.Kind.values.index(raw) if raw in Bill.Kind.values else 9, raw)
        if dim == "route":
            return (0, Route.values.index(raw) if raw in Route.values else 9, raw)
        return (0, 0, raw.zfill(4))


def status() -> tuple[datetime | None, int]:
    """When the figures were last brought up to date, and how many changes wait to be counted."""
    state = BuildState.objects.filter(pk=1).first()
    return (state.built_at if state else None), RefreshQueue.objects.count()


def table(period: Period, by: str | None, town: Town | None = None, *, keys: Keys | None = None,
          state: tuple | None = None) -> Table:
    """Figures of ``period`` by one dimension (``None``: the total only), within one town if given."""
    if by is not None and by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    keys = keys or Keys()
    dims = grouping_for(by, town=town is not None)
    aggs = Aggregate.objects.filter(year=period.year, period=period.code, grouping=grouping_name(dims))
    if town is not None:
        aggs = aggs.filter(key1=str(town.pk))
    total_q = Aggregate.objects.filter(year=period.year, period=period.code)
    total_q = total_q.filter(grouping="town", key1=str(town.pk)) if town is not None else total_q.filter(grouping="")
    rows = []
    if by is not None:
        pos = len(dims) - 1
        found = [(a, a.key2 if pos == 1 else a.key1) for a in aggs]
        found.sort(key=lambda x: keys.order(by, x[1]))
        rows = [_cell(a, keys.public(by, raw), keys.label(by, raw)) for a, raw in found]
    built_at, waiting = state if state is not None else status()
    total = remembered(f"aggregate-total-{period.year}-{period.code}-{town.pk if town else ''}", total_q.first)
    return Table(period, by, town, rows, _cell(total, None, "合计"), built_at, waiting)


def cross(period: Period, rows_dim: str, cols_dim: str, *, keys: Keys | None = None):
    """A two-way table (e.g. category x scheme for the 医疗救助统计表): {(row_raw, col_raw): Cell},
    with the row and column keys in display order."""
    keys = keys or Keys()
    dims = (rows_dim, cols_dim)
    aggs = list(Aggregate.objects.filter(year=period.year, period=period.code, grouping=grouping_name(dims)))
    cells = {(a.key1, a.key2): _cell(a, None, "") for a in aggs}
    row_keys = sorted({a.key1 for a in aggs}, key=lambda k: keys.order(rows_dim, k))
    col_keys = sorted({a.key2 for a in aggs}, key=lambda k: keys.order(cols_dim, k))
    return cells, row_keys, col_keys


def months_of_year(year: int, *, state: tuple | None = None) -> list[tuple[Period, Table]]:
    """The year month by month, totals only (the dashboard's chart and its table): one query."""
    built_at, waiting = state if state is not None else status()
    rows = {a.period: a for a in Aggregate.objects.filter(year=year, grouping="", period__startswith="M")}
    out = []
    for m in range(1, 13):
        p = Period(year, month=m)
        out.append((p, Table(p, None, None, [], _cell(rows.get(p.code), None, "合计"), built_at, waiting)))
    return out


# --- contribution subsidies ------------------------------------------------------------------------
SUBSIDY_DIMENSIONS = {"category": "资助身份", "enrolment": "参保类型", "town": "镇街"}


@dataclass
class SubsidyCell:
    key: object
    label: str
    people: int = 0
    amount: Decimal = Decimal("0.00")

    @property
    def per_person(self) -> Decimal | None:
        return (self.amount / self.people).quantize(CENT, rounding=ROUND_HALF_UP) if self.people else None


def subsidy_table(year: int, by: str | None, town: Town | None = None, *, keys: Keys | None = None):
    """Contribution subsidies of a year by category, enrolment or town (within one town if given):
    (rows, total)."""
    from funding.models import EnrolmentKind

    from .models import SubsidyAggregate

    keys = keys or Keys()
    if by is not None and by not in SUBSIDY_DIMENSIONS:
        raise ValueError(by)
    dims = () if by is None else (by,)
    if town is not None and by not in (None, "town"):
        dims = ("town", by)
    elif town is not None:
        dims = ("town",)
    aggs = SubsidyAggregate.objects.filter(year=year, grouping=grouping_name(dims))
    if town is not None:
        aggs = aggs.filter(key1=str(town.pk))
    total_q = SubsidyAggregate.objects.filter(year=year)
    total_q = total_q.filter(grouping="town", key1=str(town.pk)) if town is not None else total_q.filter(grouping="")
    t = total_q.first()
    total = SubsidyCell(None, "合计", t.people if t else 0, yuan(t.amount) if t else Decimal("0.00"))

    def lab(raw):
        if by == "enrolment":
            return dict(EnrolmentKind.choices).get(raw, raw or "—")
        return keys.label(by, raw)

    rows = []
    if by is not None:
        pos = len(dims) - 1
        found = [(a, a.key2 if pos == 1 else a.key1) for a in aggs]
        order = (lambda raw: (0, list(EnrolmentKind.values).index(raw) if raw in EnrolmentKind.values else 9, raw)) \
            if by == "enrolment" else (lambda raw: keys.order(by, raw))
        found.sort(key=lambda x: order(x[1]))
        rows = [SubsidyCell(keys.public(by, raw) if by != "enrolment" else raw, lab(raw), a.people, yuan(a.amount))
                for a, raw in found]
    return rows, total


# --- identity changes by what made them (issue 9: corrections apart; issue 15: migrated apart) -----
IDENTITY_CHANGE_KINDS = (
    ("ROSTER", "月度名单新增"), ("ROSTER_END", "月度名单终止"), ("CORRECTION", "名单外更正新增"),
    ("CORRECTION_END", "名单外更正终止"), ("MIGRATED", "原系统迁移"),
)


def identity_change_rows(year: int, *, user=None, town=None):
    """Twelve months and a total of identity changes by kind (docs/statistics.md)."""
    from beneficiaries.corrections import monthly_identity_changes

    counts = monthly_identity_changes(year, user=user, town=town)
    rows = []
    total = {code: 0 for code, _ in IDENTITY_CHANGE_KINDS}
    for month in range(1, 13):
        cells = [counts.get(month, {}).get(code, 0) for code, _ in IDENTITY_CHANGE_KINDS]
        for (code, _), n in zip(IDENTITY_CHANGE_KINDS, cells, strict=True):
            total[code] += n
        rows.append({"month": month, "cells": cells, "sum": sum(cells)})
    totals = [total[code] for code, _ in IDENTITY_CHANGE_KINDS]
    return rows, {"cells": totals, "sum": sum(totals)}
