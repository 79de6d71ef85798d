"""Deadlines of the loop and of applications: working days on the official calendar, how many is
dated policy data (``DeadlineRule``, shipped provisional by migration 0004; admin: 监测与申请办理时限)."""

from __future__ import annotations

from datetime import date, timedelta

from .models import DeadlineRule

Step = DeadlineRule.Step


class NoDeadlineRule(LookupError):
    pass


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` on the official Chinese calendar (chinesecalendar)."""
    from chinese_calendar import is_workday

    day, left = start, n
    while left > 0:
        day += timedelta(days=1)
        try:
            work = is_workday(day)
        except NotImplementedError:  # a year the library does not know yet: weekdays
            work = day.weekday() < 5
        if work:
            left -= 1
    return day


def working_days(step: str, on: date) -> int:
    """The number of working days in force on ``on`` for a step (the latest row effective by then)."""
    row = DeadlineRule.objects.filter(step=step, effective_from__lte=on).order_by("-effective_from").first()
    if row is None or not row.active:
        raise NoDeadlineRule(f"{Step(step).label}没有{on}适用的办理时限（请在“监测与申请办理时限”中录入）。")
    return row.working_days


def due(step: str, start: date) -> date:
    """The deadline of a step begun on ``start``."""
    return add_working_days(start, working_days(step, start))
