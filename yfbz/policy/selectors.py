"""Reading the policy in force: ``policy_in_force(on)`` builds the engine's Policy from the rows.

Cheap for bulk use: all rows are read once per policy revision (one small query checks the
revision), and the built Policy is cached per interval between effective dates. For a bulk run
take the book once and call ``book.in_force(day)``: no query at all.
"""

from __future__ import annotations

import threading
from datetime import date

from yfbz.core.memo import forget, remembered
from yfbz.rules.policy import Policy, PolicyBook

from .models import RECORD_MODELS, PolicyRevision, category_records

_lock = threading.Lock()
_cache: dict[str, object] = {}


def current_revision() -> int:
    """The policy revision, read once per request (yfbz.core.memo; a change in the request forgets it)."""
    return remembered("policy-revision", _read_revision)


def _read_revision() -> int:
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


#: how the book finds the areas of a town on a day (docs/areas.md); registered by yfbz.areas (its
#: AppConfig.ready): a lower app asks through a hook, it never imports the areas app
_AREA_CHOOSER = []


def register_area_chooser(fn) -> None:
    _AREA_CHOOSER[:] = [fn]


def area_chooser() -> dict:
    return _AREA_CHOOSER[0]() if _AREA_CHOOSER else {}


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


def warm_policy_book() -> str:
    """A web process's warm-up (``yfbz.core.warm``): the policy book and today's policy, which a worker's first
    person page read (~80 ms)."""
    from django.utils import timezone

    policy_book().in_force(timezone.localdate())
    return "policy book"


def policy_in_force(on: date) -> Policy:
    """The engine's Policy built from the rows in force on ``on``."""
    return policy_book().in_force(on)


def invalidate_cache() -> None:
    with _lock:
        _cache.clear()
    forget("policy-revision")
