"""Claims' side of the back-dated policy preview (``yfbz.policy.impact``): the current decisions on
hand-settled bills and the counted one-stop lines of every person-year a new policy row can reach,
as the engine needs them to decide them again. ``ClaimsConfig.ready`` registers ``items``.

Left out: bills still being entered (decided afresh anyway), bills a reviewer refused on their
papers, historic decisions recorded from the old system (never re-decided), duplicate lines and
lines of unknown people.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.urls import reverse

from yfbz.policy.impact import BillItem
from yfbz.policy.inputs import bill_for_engine

from .models import Bill, Decision, SettlementLine
from .retro import counted

S = Bill.Status
REDECIDABLE = (S.DECIDED, S.APPROVED, S.PAID, S.REFUSED)
CHUNK = 5000


def _decisions():
    return (
        Decision.objects.filter(is_current=True, bill__status__in=REDECIDABLE, historic=False)
        .exclude(bill__status=S.REFUSED, refusal_reason__gt="")
    )


def _lines():
    return SettlementLine.objects.filter(duplicate=False, person__isnull=False).exclude(scheme="")


def items(since: date, limit: int) -> Iterator[BillItem]:
    """Every decision and counted line of the person-years with one settled on or after ``since``."""
    reached = set(_decisions().filter(settled_on__gte=since).values_list("person_id", "year").distinct()[: limit + 1])
    reached |= {
        (pid, on.year)
        for pid, on in _lines().filter(settled_on__gte=since).values_list("person_id", "settled_on")[: limit + 1]
    }
    pids = sorted({p for p, _ in reached})
    years = sorted({y for _, y in reached})
    n = 0
    for i in range(0, len(pids), CHUNK):
        chunk = pids[i : i + CHUNK]
        decisions = (
            _decisions().filter(person_id__in=chunk, year__in=years)
            .select_related("bill", "bill__institution").order_by("settled_on", "pk")
        )
        for d in decisions:
            if (d.person_id, d.year) not in reached:
                continue
            yield BillItem(
                f"bill:{d.bill_id}", f"手工报销票据{d.bill_id}", reverse("claims:bill-detail", args=[d.bill_id]),
                d.person_id, bill_for_engine(d.bill), d.assistance, d.youfu_subsidy,
            )
            n += 1
            if n >= limit:
                return
        lines = (
            _lines().filter(person_id__in=chunk, settled_on__year__in=years)
            .select_related("institution").order_by("settled_on", "pk")
        )
        for line in lines:
            if (line.person_id, line.settled_on.year) not in reached:
                continue
            yield BillItem(
                f"line:{line.pk}", f"一站式结算 {line.institution.name} {line.settlement_no}",
                reverse("claims:settlement-month", args=[line.settlement_month_id]), line.person_id,
                bill_for_engine(line, ref=line.settlement_no), counted(line), getattr(line, "youfu_subsidy", 0) or 0,
            )
            n += 1
            if n >= limit:
                return
