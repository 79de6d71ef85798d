"""Claims' checks of ``verify_books`` (yfbz.core.books; registered in ClaimsConfig.ready)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import ExtractYear

from yfbz.core.display import money

from .models import CAP_KEYS, Bill, CapKey, CapUsage, Decision, SettlementLine

ZERO = Decimal("0.00")
COUNTING = (Bill.Status.DECIDED, Bill.Status.APPROVED, Bill.Status.PAID, Bill.Status.HISTORIC)
DECISION_PARTS = {  # cap key → the decision's field that counts in it (the scheme's own: ``assistance``)
    CapKey.POOLING: "pooling_paid",
    CapKey.POOLING_DEDUCTIBLE: "pooling_deductible",
    CapKey.YOUFU: "youfu_subsidy",
    CapKey.YOUFU_BURDEN: "youfu_burden",
}


def expected_caps() -> dict[tuple[int, int, str], Decimal]:
    """(person, year, cap key) → what the current decisions (historic ones from load_history included)
    and the one-stop lines behind it add up to — what ``claims.services`` keeps in CapUsage."""
    out: dict[tuple[int, int, str], Decimal] = defaultdict(lambda: ZERO)
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


def check_caps() -> list[str]:
    expected = expected_caps()
    recorded = {(p, y, k): used for p, y, k, used in CapUsage.objects.values_list("person_id", "year", "scheme", "used")}
    labels = dict(CapKey.choices)
    found = []
    for key in sorted(set(expected) | set(recorded)):
        want, have = expected.get(key, ZERO), recorded.get(key, ZERO)
        if want != have and key[2] in CAP_KEYS:
            pid, year, scheme = key
            found.append(f"人员{pid} {year}年「{labels.get(scheme, scheme)}」记录已使用 {money(have)} 元，"
                         f"按现行核定和一站式结算合计应为 {money(want)} 元")
    return found
