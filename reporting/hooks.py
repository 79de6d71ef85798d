"""Where other parts of the product feed the statistics pages (docs/statistics.md "Hooks").

- ``register_dashboard_section(fn)``: ``fn(user, period) -> dict | None`` with ``title``,
  ``columns`` and ``rows`` (totals only: the leadership sees every section), e.g. the monitoring
  issue's "open warnings and applications". Shown on the leadership dashboard in order.
- ``register_self_pay_indicator(fn)``: ``fn(period) -> dict`` with ``before`` and ``after`` (ratios)
  and ``source`` (words): replaces the default indicator, which is computed from our own
  decisions (the statistics' self-pay before/after assistance over in-policy cost).
"""

from __future__ import annotations

from collections.abc import Callable

_SECTIONS: list[Callable] = []
_SELF_PAY: list[Callable] = []


def register_dashboard_section(fn: Callable) -> None:
    if fn not in _SECTIONS:
        _SECTIONS.append(fn)


def register_self_pay_indicator(fn: Callable) -> None:
    _SELF_PAY[:] = [fn]


def dashboard_sections(user, period) -> list[dict]:
    out = []
    for fn in _SECTIONS:
        section = fn(user, period)
        if section:
            out.append(section)
    return out


def self_pay_indicator(period, total) -> dict:
    if _SELF_PAY:
        return _SELF_PAY[0](period)
    return {"before": total.total.self_pay_ratio_before, "after": total.total.self_pay_ratio_after,
            "source": "本系统已审批的核定和一站式结算（救助对象），政策范围内个人自付÷政策范围内费用"}
