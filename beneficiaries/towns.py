"""A person's town over time (docs/areas.md).

A person with no ``PersonTown`` rows has lived in ``Person.town`` all along: every person registered
before areas were dated, and every person a roster registers, until their town first changes. The
first change writes both spans: the old town from the beginning up to the day before, the new town
from that day. From then on the spans are the record and ``Person.town`` is the open one's town.

The town on a date is therefore: the span covering the date, else ``Person.town``. Bulk paths read
the spans of a chunk of people in one query (``spans_by_person``) and answer in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from yfbz.core.params import FIRST as DATE_MIN  # the same day as yfbz.areas.models.DATE_MIN

from .models import Identity, Person, PersonTown, Town

Source = Identity.Source
CHUNK = 5000


def spans_by_person(person_ids: Iterable[int]) -> dict[int, list[tuple[int, date, date | None]]]:
    """{person id: [(town id, valid_from, valid_to), …] by date} for the people who ever moved."""
    ids = sorted(set(person_ids))
    out: dict[int, list] = defaultdict(list)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        qs = PersonTown.objects.filter(person_id__in=chunk).order_by("person_id", "valid_from")
        for pid, town, vf, vt in qs.values_list("person_id", "town_id", "valid_from", "valid_to"):
            out[pid].append((town, vf, vt))
    return dict(out)


def town_in(spans: Sequence[tuple[int, date, date | None]] | None, current: int | None, on: date) -> int | None:
    """The town of ``on`` from a person's spans (None or empty: ``current``, the person's town)."""
    if not spans:
        return current
    for town, vf, vt in spans:
        if vf <= on and (vt is None or on <= vt):
            return town
    return current


def town_on(person: Person, on: date) -> int | None:
    """The town id of one person on one day (one indexed read of their spans, usually none)."""
    spans = list(PersonTown.objects.filter(person_id=person.pk).order_by("valid_from").values_list("town_id", "valid_from", "valid_to"))
    return town_in(spans, person.town_id, on)


def history(person: Person) -> list[PersonTown]:
    """The person's towns by date, for the person page (one unsaved span when they never moved)."""
    spans = list(PersonTown.objects.filter(person=person).select_related("town").order_by("valid_from"))
    if spans or person.town_id is None:
        return spans
    return [PersonTown(person=person, town=person.town, valid_from=DATE_MIN, valid_to=None, source="")]


def _plan(current: int | None, spans: list[tuple[int, date, date | None, int | None]], town: int, on: date):
    """What to write for one person moving to ``town`` on ``on``: (closes, inserts, retowns).
    spans: (town, from, to, span pk) by date."""
    if not spans:
        if current == town:
            return [], [], []
        inserts = []
        if current is not None and on > DATE_MIN:
            inserts.append((current, DATE_MIN, on - timedelta(days=1)))
            inserts.append((town, on, None))
        else:
            inserts.append((town, DATE_MIN, None))
        return [], inserts, []
    later = [s for s in spans if s[1] > on]
    if later:
        raise ValidationError(f"该人员自{later[0][1]:%Y-%m-%d}起已登记在其他镇街，不能登记更早的迁移。")
    cur = next((s for s in spans if s[1] <= on and (s[2] is None or on <= s[2])), None)
    if cur is None:  # not reachable while spans cover from the beginning; start a span anyway
        return [], [(town, on, None)], []
    if cur[0] == town:
        return [], [], []
    if cur[1] == on:
        return [], [], [(cur[3], town)]
    return [(cur[3], on - timedelta(days=1))], [(town, on, cur[2])], []


@transaction.atomic
def person_town_change(person: Person, town: Town, on: date, *, source: str = Source.CORRECTION, source_ref: str = "") -> bool:
    """``person`` lives in ``town`` from ``on`` (a correction, an appeal, a move reported by the town).
    Returns whether anything changed."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    spans = list(PersonTown.objects.filter(person=person).order_by("valid_from").values_list("town_id", "valid_from", "valid_to", "pk"))
    closes, inserts, retowns = _plan(person.town_id, spans, town.pk, on)
    if not (closes or inserts or retowns):
        return False
    for pk, end in closes:
        PersonTown.objects.filter(pk=pk).update(valid_to=end)
    for pk, t in retowns:
        PersonTown.objects.filter(pk=pk).update(town_id=t, source=source, source_ref=source_ref)
    for t, vf, vt in inserts:
        PersonTown.objects.create(person=person, town_id=t, valid_from=vf, valid_to=vt, source=source, source_ref=source_ref)
    open_town = PersonTown.objects.filter(person=person, valid_to__isnull=True).values_list("town_id", flat=True).first()
    if open_town is not None and open_town != person.town_id:
        person.town_id = open_town
        person.save(update_fields=["town", "updated_at"])
    return True


def apply_moves(moves: dict[int, tuple[int | None, int]], on: date, *, source: str, source_ref: str) -> int:
    """Bulk: ``{person id: (their town before, new town)}`` from ``on`` (a roster gave the new town).
    Runs in the caller's transaction; ``Person.town`` is the caller's to update. One read of the
    movers' spans, then bulk writes."""
    from .rosters import bulk

    if not moves:
        return 0
    existing: dict[int, list] = defaultdict(list)
    ids = sorted(moves)
    for i in range(0, len(ids), CHUNK):
        qs = PersonTown.objects.filter(person_id__in=ids[i : i + CHUNK]).order_by("person_id", "valid_from")
        for pid, t, vf, vt, pk in qs.values_list("person_id", "town_id", "valid_from", "valid_to", "pk"):
            existing[pid].append((t, vf, vt, pk))
    closes, retowns, inserts = [], [], []
    for pid, (before, town) in moves.items():
        spans = existing.get(pid, [])
        later = [s for s in spans if s[1] > on]
        if later:  # a later roster moved them already: that one stands
            continue
        c, ins, rt = _plan(before, spans, town, on)
        closes += c
        retowns += [(pk, t, source, source_ref) for pk, t in rt]
        inserts += [(pid, t, vf, vt, source, source_ref) for t, vf, vt in ins]
    bulk.update_rows(PersonTown, ("valid_to",), closes)
    bulk.update_rows(PersonTown, ("town_id", "source", "source_ref"), retowns)
    bulk.insert_rows(PersonTown, ("person_id", "town_id", "valid_from", "valid_to", "source", "source_ref"), inserts)
    return len(moves)
