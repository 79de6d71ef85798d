"""Reading the area tree: one in-memory snapshot of the areas, the towns' dated districts, the towns
of each set and the bureau's rows, rebuilt only when they change (the policy revision counter,
which every change of areas bumps, tells every process). A few dozen rows: reading them is cheap,
and every question after that ("which district governed this town on this day", "which towns did
the bureau serve on this day") is answered in memory.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from .models import DATE_MIN

_lock = threading.Lock()
_cache: dict[str, object] = {}


@dataclass(frozen=True, slots=True)
class Span:
    town_id: int
    district_id: int
    valid_from: date
    valid_to: date | None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class BureauRow:
    valid_from: date
    name: str
    site_title: str
    doc_prefix: str
    reconsideration_body: str
    district_id: int
    default_policy_area_id: int


@dataclass(frozen=True, slots=True)
class AreaRow:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None


@dataclass
class AreaTree:
    areas: dict[int, AreaRow]
    towns: dict[int, tuple[str, str]]  # id -> (code, name)
    spans: dict[int, list[Span]]  # town id -> spans by valid_from
    group_towns: dict[int, tuple[Span, ...]]  # group area id -> (town, from, to) spans (district_id: the group)
    bureaus: list[BureauRow]  # by valid_from
    _starts: dict[int, list[date]] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._starts = {t: [s.valid_from for s in ss] for t, ss in self.spans.items()}

    # --- towns and districts
    def district_of(self, town_id: int | None, on: date) -> int | None:
        """The district that governed ``town_id`` on ``on`` (None: no district that day, or no town)."""
        if town_id is None:
            return None
        starts = self._starts.get(town_id)
        if not starts:
            return None
        i = bisect.bisect_right(starts, on) - 1
        if i < 0:
            return None
        span = self.spans[town_id][i]
        return span.district_id if span.covers(on) else None

    def district_spans(self, district_id: int) -> list[Span]:
        return [s for ss in self.spans.values() for s in ss if s.district_id == district_id]

    def towns_under(self, district_id: int, on: date) -> set[int]:
        return {s.town_id for s in self.district_spans(district_id) if s.covers(on)}

    def city_of(self, district_id: int | None) -> int | None:
        area = self.areas.get(district_id) if district_id else None
        return area.parent_id if area else None

    def groups_of(self, town_id: int, on: date | None = None) -> list[int]:
        """The sets of towns ``town_id`` is in on ``on`` (None: ever)."""
        return [g for g, spans in self.group_towns.items()
                if any(s.town_id == town_id and (on is None or s.covers(on)) for s in spans)]

    def area(self, area_id: int | None) -> AreaRow | None:
        return self.areas.get(area_id) if area_id else None

    def by_code(self, code: str) -> AreaRow | None:
        for a in self.areas.values():
            if a.code == code:
                return a
        return None

    def district_name(self, town_id: int | None, on: date) -> str:
        a = self.area(self.district_of(town_id, on))
        return a.name if a else ""

    # --- the bureau
    def bureau_on(self, on: date) -> BureauRow | None:
        starts = [b.valid_from for b in self.bureaus]
        i = bisect.bisect_right(starts, on) - 1
        return self.bureaus[i] if i >= 0 else (self.bureaus[0] if self.bureaus else None)

    def bureau_periods(self) -> list[tuple[date, date | None, BureauRow]]:
        out = []
        for i, b in enumerate(self.bureaus):
            end = self.bureaus[i + 1].valid_from.toordinal() - 1 if i + 1 < len(self.bureaus) else None
            out.append((b.valid_from if i else DATE_MIN, date.fromordinal(end) if end else None, b))
        return out

    def jurisdiction(self, on: date) -> set[int]:
        """The towns the bureau served on ``on``: those under its district that day."""
        b = self.bureau_on(on)
        return self.towns_under(b.district_id, on) if b else set()

    def district_periods(self, district_id: int | None) -> list[Span]:
        """When each town was under ``district_id``; None: the bureau's own district(s) over time
        (its district may change with a dated bureau row)."""
        if district_id is not None:
            return self.district_spans(district_id)
        out = []
        for start, end, b in self.bureau_periods():
            for s in self.district_spans(b.district_id):
                lo = max(s.valid_from, start)
                hi = min(s.valid_to or date.max, end or date.max)
                if lo <= hi:
                    out.append(Span(s.town_id, b.district_id, lo, None if hi == date.max else hi))
        return out


def _build() -> AreaTree:
    from beneficiaries.models import Town

    from .models import Area, Bureau, GroupTown, TownDistrict

    areas = {a.id: AreaRow(a.id, a.code, a.name, a.kind, a.parent_id) for a in Area.objects.all()}
    towns = {t[0]: (t[1], t[2]) for t in Town.objects.values_list("id", "code", "name")}
    spans: dict[int, list[Span]] = defaultdict(list)
    for row in TownDistrict.objects.order_by("town_id", "valid_from").values_list(
        "town_id", "district_id", "valid_from", "valid_to"
    ):
        spans[row[0]].append(Span(*row))
    groups: dict[int, list[Span]] = defaultdict(list)
    for area_id, town_id, lo, hi in GroupTown.objects.order_by("area_id", "town_id").values_list(
        "area_id", "town_id", "valid_from", "valid_to"
    ):
        groups[area_id].append(Span(town_id, area_id, lo, hi))
    bureaus = [
        BureauRow(*row)
        for row in Bureau.objects.order_by("valid_from").values_list(
            "valid_from", "name", "site_title", "doc_prefix", "reconsideration_body", "district_id", "default_policy_area_id"
        )
    ]
    return AreaTree(areas, towns, dict(spans), {k: tuple(v) for k, v in groups.items()}, bureaus)


def area_tree() -> AreaTree:
    """The snapshot, rebuilt when the revision changed (one small query to check)."""
    from yfbz.policy.selectors import current_revision

    rev = current_revision()
    with _lock:
        tree = _cache.get("tree")
        if tree is None or _cache.get("rev") != rev:
            tree = _build()
            _cache["tree"] = tree
            _cache["rev"] = rev
    return tree  # type: ignore[return-value]


def invalidate() -> None:
    with _lock:
        _cache.clear()


def policy_area_chooser() -> dict:
    """How the book finds the areas of a town on a day (docs/areas.md): the sets of towns it is in,
    its district that day and that district's city; a person with no town: the bureau's default
    policy area. Read from one snapshot of the area tree; answers are remembered per (town, day)."""
    tree = area_tree()
    if not tree.bureaus:
        return {}
    default = tree.area(tree.bureaus[-1].default_policy_area_id)
    town_ids = {code: tid for tid, (code, _name) in tree.towns.items()}
    memo: dict[tuple, frozenset[str]] = {}

    def areas_of(town: str | None, on: date) -> frozenset[str]:
        got = memo.get((town, on))
        if got is None:
            tid = town_ids.get(town) if town else None
            codes: set[str] = set()
            if tid is None:
                bureau = tree.bureau_on(on)
                district = bureau.district_id if bureau else None
                codes.add(tree.area(bureau.default_policy_area_id).code if bureau else default.code)
            else:
                district = tree.district_of(tid, on)
                codes.update(tree.area(g).code for g in tree.groups_of(tid, on))
            for a in (district, tree.city_of(district)):
                if a is not None:
                    codes.add(tree.area(a).code)
            got = memo[(town, on)] = frozenset(codes)
        return got

    return {"areas_of": areas_of, "default_area": default.code if default else None}
