"""What a retroactive identity change reaches (应退尽退、应补尽补).

An applied roster records a ``RetroactiveChange`` for every identity it ends or starts on a date
already past. The apps that hold decisions about people say what each change reaches through a
small registry — this app imports none of them: the claims app registers, in its
``AppConfig.ready()``, a function that measures hand-bill decisions and one-stop settlement lines.

``measure_changes`` writes the figures on each change (decisions and lines reached, the money
decided, the estimated difference). A change that reaches nothing is closed by the system with a
note saying so, so that the list staff work from holds only changes that need a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

ZERO = Decimal("0.00")
AUTO_CLOSE_NOTE = "系统核查：影响期间内没有已核定的手工报销或一站式结算，无需重新核定，已自动关闭。"


@dataclass
class Reach:
    """What one change reaches in one app."""

    decisions: int = 0
    lines: int = 0
    decided: Decimal = ZERO  # the money decided so far in the period (assistance, subsidy, line payables)
    estimate: Decimal = ZERO  # new − current, decided again on today's identities (− recover, + top up)
    details: list = field(default_factory=list)

    def __iadd__(self, other: Reach) -> Reach:
        self.decisions += other.decisions
        self.lines += other.lines
        self.decided += other.decided
        self.estimate += other.estimate
        self.details += other.details
        return self

    @property
    def anything(self) -> bool:
        return bool(self.decisions or self.lines)


#: name → reach(changes) -> {change id: Reach}
REACHERS: dict[str, Callable[[list], dict[int, Reach]]] = {}


def register_reach(name: str, fn: Callable[[list], dict[int, Reach]]) -> None:
    REACHERS[name] = fn


def reach_of(changes: Iterable) -> dict[int, Reach]:
    """Every registered app's reach of each change, summed."""
    changes = list(changes)
    out = {c.pk: Reach() for c in changes}
    for fn in REACHERS.values():
        for pk, r in fn(changes).items():
            out[pk] += r
    return out


def measure_changes(changes: Iterable, *, close_empty: bool, user=None) -> tuple[int, int]:
    """Write what each change reaches; with ``close_empty``, close the waiting ones that reach nothing
    (the system's move, or ``user``'s when staff asked for the check). Returns (reaching, closed)."""
    from . import services
    from .models import RetroactiveChange
    from .rosters import bulk

    changes = list(changes)
    now = timezone.now()
    reach = reach_of(changes)
    reaching = closed = 0
    for c in changes:
        r = reach[c.pk]
        c.decisions_reached, c.lines_reached = r.decisions, r.lines
        c.amount_reached, c.amount_estimate, c.measured_at = r.decided, r.estimate, now
    # one UPDATE … FROM a temporary table on PostgreSQL: Django's bulk_update writes a CASE of every
    # row for every column, which grows with the square of the rows (a roster ending 2,000 identities)
    bulk.update_rows(
        RetroactiveChange, ("decisions_reached", "lines_reached", "amount_reached", "amount_estimate", "measured_at"),
        [(c.pk, c.decisions_reached, c.lines_reached, c.amount_reached, c.amount_estimate, now) for c in changes],
    )
    empty = []
    for c in changes:
        if reach[c.pk].anything:
            reaching += 1
        elif close_empty and c.status == RetroactiveChange.Status.OPEN:
            empty.append(c)
    closed = services.retroactive_changes_auto_close(changes=empty, user=user, note=AUTO_CLOSE_NOTE)
    return reaching, closed
