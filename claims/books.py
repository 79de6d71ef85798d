"""Claims' checks of ``verify_books`` (yfbz.core.books; registered in ClaimsConfig.ready)."""

from __future__ import annotations

from decimal import Decimal

from yfbz.core.display import money

from . import caps
from .models import CAP_KEYS, CapKey, CapUsage

ZERO = Decimal("0.00")


def check_caps() -> list[str]:
    expected = caps.expected()
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
