"""A roster's rows counted per town (``RosterTownCount``, issue 14): what the roster page shows per town
(行数, 待审核, 退回, 逾期按报送接受) and a town clerk's own figures, without aggregating the upload's rows.

- the check counts the rows it stores (``Tally``) and writes the counts in its transaction (``store``);
- every review move — a town accepting or sending back rows, the district accepting overdue rows — goes
  through ``beneficiaries.services`` under the upload's lock and calls ``moving`` before its UPDATE and
  ``move`` after it, in the same transaction: the counts stay those of the rows;
- ``aggregate`` counts the rows themselves: the migration's figures for uploads stored before, the
  page's fallback when an upload with rows has no counts, and the tests' reference.
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter

from django.db.models import Count, F, Q

from .models import RosterRow, RosterTownCount

Outcome = RosterRow.Outcome
Review = RosterRow.Review

OUTCOMES = (Outcome.INVALID, Outcome.NEW, Outcome.CONTINUING, Outcome.CHANGED, Outcome.ENDED)
REVIEWS = (Review.PENDING, Review.ACCEPTED, Review.SENT_BACK, Review.OVERDUE)
FIELDS = ("listed",) + tuple(str(o) for o in OUTCOMES) + tuple(str(r) for r in REVIEWS)


class Tally:
    """The counts of the rows a check stores, chunk by chunk (a few milliseconds per 100,000 rows: the
    counting runs in C). Every row is stored pending review."""

    _key = attrgetter("town_id", "outcome")

    def __init__(self):
        self.by_outcome: Counter = Counter()
        self.unlisted: Counter = Counter()

    def add(self, chunk) -> None:
        self.by_outcome.update(map(self._key, chunk))
        self.unlisted.update(r.town_id for r in chunk if r.row_number is None)

    def rows(self, upload_id: int) -> list[RosterTownCount]:
        towns: dict = {}
        for (town_id, outcome), n in self.by_outcome.items():
            c = towns.get(town_id)
            if c is None:
                c = towns[town_id] = RosterTownCount(upload_id=upload_id, town_id=town_id)
            setattr(c, str(outcome), getattr(c, str(outcome)) + n)
            c.listed += n
            if outcome != Outcome.INVALID:
                c.pending += n
        for town_id, n in self.unlisted.items():
            towns[town_id].listed -= n
        return list(towns.values())


def store(upload_id: int, counts: list[RosterTownCount]) -> None:
    """The upload's counts replaced by ``counts`` (the check, run again after a re-validation, starts over)."""
    RosterTownCount.objects.filter(upload_id=upload_id).delete()
    RosterTownCount.objects.bulk_create(counts)


def aggregate(rows) -> list[RosterTownCount]:
    """The counts of ``rows`` (an upload's rows, or those a user sees of it) as they are now, town by
    town, one pass over them (unsaved objects)."""
    reviewable = ~Q(outcome=Outcome.INVALID)
    figures = {
        "listed": Count("id", filter=Q(row_number__isnull=False)),
        **{str(o): Count("id", filter=Q(outcome=o)) for o in OUTCOMES},
        **{str(r): Count("id", filter=reviewable & Q(review=r)) for r in REVIEWS},
    }
    return [
        RosterTownCount(**values)
        for values in rows.order_by().values("upload_id", "town_id").annotate(**figures).order_by("upload_id", "town_id")
    ]


def refresh(upload_id: int) -> None:
    """Count the upload's rows again (the bench's and demo's direct writes; a repair)."""
    store(upload_id, aggregate(RosterRow.objects.filter(upload_id=upload_id)))


def moving(rows) -> list[tuple]:
    """Before a review move's UPDATE of ``rows`` (reviewable rows, the upload locked): how many of them
    each town has in each review state — what the move takes away."""
    return list(rows.order_by().values_list("town_id", "review").annotate(n=Count("id")))


def move(upload_id: int, before: list[tuple], to: str) -> None:
    """After the UPDATE: the rows counted in ``before`` are now ``to``."""
    for town_id, review, n in before:
        if review == to or not n:
            continue
        town = Q(town__isnull=True) if town_id is None else Q(town_id=town_id)
        RosterTownCount.objects.filter(town, upload_id=upload_id).update(**{review: F(review) - n, to: F(to) + n})


def for_user(user, upload) -> list[RosterTownCount]:
    """The counts of the towns whose rows ``user`` sees (scoped exactly as the rows), in town order, each
    with its town. An upload with rows but no counts (none should be left: migration 0026 counted those
    stored before) is counted from its rows, and the page says the same."""
    from .models import Town

    counts = list(RosterTownCount.objects.visible_to(user).filter(upload=upload).select_related("town").order_by("town_id"))
    if counts or not (upload.rows_total or upload.count_ended) or RosterTownCount.objects.filter(upload=upload).exists():
        return counts
    counts = aggregate(RosterRow.objects.visible_to(user).filter(upload=upload))
    towns = Town.objects.in_bulk([c.town_id for c in counts if c.town_id is not None])
    for c in counts:
        c.town = towns.get(c.town_id)
    return counts


def summed(counts: list[RosterTownCount]) -> dict:
    """A town clerk's figures of the roster: their towns' counts added up."""
    total = {f: sum(getattr(c, f) for c in counts) for f in FIELDS}
    return {"rows": total["listed"], "valid": total["listed"] - total["invalid"], **{str(o): total[str(o)] for o in OUTCOMES}}
