"""Row locks shared by every app. Each app keeps its own ``select_for_update`` querysets in its
``locks.py`` (claims/locks.py, funding/locks.py, beneficiaries/locks.py), every one ordered by
primary key, so the order in which rows are locked is code, not a comment (saleor
``order/lock_objects.py``). ``tests/core/test_structure.py`` fails when ``select_for_update``
appears anywhere else.

The order across apps, for a transaction that needs several (docs/architecture.md):
roster department → roster upload → bill → decision → cap rows → settlement month → …
→ fund request → payment batch → ledger period → own accounts.
"""

from __future__ import annotations

from django.db import models


def lock(queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` locked (``SELECT … FOR UPDATE`` of its own table only), in primary-key order."""
    return queryset.select_for_update(of=("self",)).order_by("pk")


def lock_one(model_or_qs, pk: int):
    """One row locked; raises ``DoesNotExist`` like ``get``."""
    qs = model_or_qs._default_manager.all() if isinstance(model_or_qs, type) else model_or_qs
    return lock(qs.filter(pk=pk)).get()


def lock_rows(queryset: models.QuerySet, *fields: str) -> list[tuple]:
    """Lock the rows of ``queryset`` in primary-key order and return (pk, *fields) of each."""
    return list(lock(queryset).values_list("pk", *fields))
