"""Funding's side of the back-dated policy preview (``yfbz.policy.impact``): the contribution
subsidies computed for the years a new policy row can reach. ``FundingConfig.ready`` registers it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from yfbz.policy.impact import SubsidyItem

from .models import EnrolmentKind, SubsidyResult


def items(since: date, limit: int) -> Iterator[SubsidyItem]:
    rows = (
        SubsidyResult.objects.filter(year__gte=since.year)
        .order_by("year", "person_id")
        .values_list("pk", "person_id", "year", "enrolment", "amount")[:limit]
    )
    for pk, pid, year, enrolment, amount in rows:
        enr = None if enrolment in ("", EnrolmentKind.NOT_ENROLLED) else enrolment
        yield SubsidyItem(f"subsidy:{pk}", f"{year}年资助参保", None, pid, year, enr, amount)
