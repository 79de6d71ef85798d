"""The follow-up of alerts by the person's town (POLICY.md §15; docs/monitoring.md "The loop")."""

from __future__ import annotations

from datetime import date, timedelta

#: working days (official calendar: holidays and make-up working days) a town has to record its action
FOLLOW_UP_WORKING_DAYS = 10


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


def due_date(raised_on: date) -> date:
    return add_working_days(raised_on, FOLLOW_UP_WORKING_DAYS)
