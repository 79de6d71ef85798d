"""Pages of long lists without counting a million rows (issue 14).

``Paginator(qs).count`` runs ``SELECT COUNT(*)`` over the whole filtered table on every page view:
on 1,000,150 bills that alone is a sequential scan per click. ``EstimatedPaginator`` counts
exactly up to ``EXACT_UP_TO`` rows (a count over ``LIMIT EXACT_UP_TO + 1``: a bounded scan) and
beyond that takes PostgreSQL's planner estimate, which the pager shows as “约 N 条（估算）”. Who
needs an exact total of a long list exports it or reads the statistics pages.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_UP_TO = 10_000


def planner_estimate(qs) -> int | None:
    """The number of rows PostgreSQL's planner expects ``qs`` to return (no scan), or None."""
    if connections[qs.db].vendor != "postgresql":
        return None
    try:
        plan = json.loads(qs.order_by().explain(format="json"))
    except Exception:  # noqa: BLE001 — an estimate is a nicety; the exact count stays available
        return None
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedPaginator(Paginator):
    exact_up_to = EXACT_UP_TO

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.estimated = False

    @cached_property
    def count(self):
        qs = self.object_list
        if not hasattr(qs, "query"):
            return super().count
        bounded = qs.order_by()[: self.exact_up_to + 1].count()
        if bounded <= self.exact_up_to:
            return bounded
        estimate = planner_estimate(qs)
        if estimate is None:
            return qs.count()
        self.estimated = True
        # never fewer pages than the rows we know of
        return max(estimate, bounded)
