"""Reading the policy in force: ``policy_in_force(on)`` builds the engine's Policy from the rows.

Cheap for bulk use: all rows are read once per policy revision (one small query checks the
revision), and the built Policy is cached per interval between effective dates. For a bulk run
take the book once and call ``book.in_force(day)``: no query at all.
"""

from __future__ import annotations

import threading
from datetime import date

from yfbz.rules.policy import Policy, PolicyBook

from .models import RECORD_MODELS, PolicyRevision, category_records

_lock = threading.Lock()
_cache: dict[str, object] = {}


def current_revision() -> int:
    row = PolicyRevision.objects.filter(pk=1).values_list("counter", flat=True).first()
    return row or 0


def policy_records() -> dict[str, list[dict]]:
    """Every policy row (all versions) as the engine's plain records."""
    records: dict[str, list[dict]] = {"categories": category_records()}
    for model in RECORD_MODELS:
        records[model.SECTION] = [
            row.to_record() for row in model.objects.select_related("area").order_by("effective_from", "pk")
        ]
    return records


def area_chooser() -> dict:
    """How the book finds the areas of a town on a day (docs/areas.md): the sets of towns it is in,
    its district that day and that district's city; a person with no town: the bureau's default
    policy area. Read from one snapshot of the area tree; answers are remembered per (town, day)."""
    from yfbz.areas.tree import area_tree

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
                codes.update(tree.area(g).code for g in tree.groups_of(tid))
            for a in (district, tree.city_of(district)):
                if a is not None:
                    codes.add(tree.area(a).code)
            got = memo[(town, on)] = frozenset(codes)
        return got

    return {"areas_of": areas_of, "default_area": default.code if default else None}


def policy_book(*, check: bool = True) -> PolicyBook:
    """The book of all policy versions, rebuilt only when the revision changed."""
    rev = current_revision() if check or "book" not in _cache else _cache.get("rev")
    with _lock:
        book = _cache.get("book")
        if book is None or _cache.get("rev") != rev:
            book = PolicyBook(policy_records(), **area_chooser())
            _cache["book"] = book
            _cache["rev"] = rev
    return book  # type: ignore[return-value]


def policy_in_force(on: date) -> Policy:
    """The engine's Policy built from the rows in force on ``on``."""
    return policy_book().in_force(on)


def invalidate_cache() -> None:
    with _lock:
        _cache.clear()
