"""The ONE builder of engine input: database rows (persons, identities, person attributes,
institutions, what each annual cap has used) → the pure engine's dataclasses (``yfbz.rules``),
and the ONE choice of the policy in force for a bill or a subsidy year (``policy_for``).

Every path that asks the engine something goes through here: hand-settled bills and their
re-decisions, one-stop settlement lines (import and disputes), contribution subsidies (the year's
run and self-paid reports), the person page's "best identity per benefit", the what-if path and the
adoption of history. So a new person attribute, an institution flag or (later) the person's area
is added once and every path sees it (docs/policy-engine.md "Engine input").

Bulk callers preload many people at once (``persons_for_engine``: a few queries per 5,000
people) and keep one ``PolicyBook``; deciding a line then needs no query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from beneficiaries.models import Identity, Person, PersonAttribute
from yfbz.core.lookups import Many  # and registers ``__any`` (one array parameter instead of an IN list)
from yfbz.rules import AttributeSpan, BillKind, Decision, TownSpan, adjudicate, contribution_subsidy
from yfbz.rules import Bill as EngineBill
from yfbz.rules import Identity as EngineIdentity
from yfbz.rules import Person as EnginePerson
from yfbz.rules.policy import Policy, PolicyBook
from yfbz.rules.subsidy import SubsidyDecision

from .selectors import policy_book

CHUNK = 5000
MAINTENANCE = PersonAttribute.Kind.NEEDS_MAINTENANCE.value


# --- which policy applies ----------------------------------------------------------------------
def policy_for(on: date, *, person: EnginePerson | None = None, book: PolicyBook | None = None) -> Policy:
    """THE choice of the policy rows in force for a bill settled on ``on`` (D1) or a subsidy year
    (pass 31 December), for ``person``. Every decision path calls this (or ``decide_bill`` /
    ``decide_subsidy``, which do): the person's area is to be taken into account here and in
    ``PolicyBook.in_force``, nowhere else."""
    return (book or policy_book()).in_force(on, town=person.town_on(on) if person is not None else None)


class PoliciesByTown(dict):
    """``policy_for`` on one date for many people (a bulk run): chosen once per town, the person's town
    on that date (``policies.of(person)`` is ``policy_for(on, person=person, book=book)``)."""

    def __init__(self, on: date, book: PolicyBook | None = None):
        super().__init__()
        self.on, self.book = on, book or policy_book()

    def __missing__(self, town: str | None) -> Policy:
        pol = self[town] = self.book.in_force(self.on, town=town)
        return pol

    def of(self, person: EnginePerson) -> Policy:
        return self[person.town_on(self.on)]


# --- persons -----------------------------------------------------------------------------------
def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _by_person(qs, ids: list[int], field: str = "person_id"):
    """Rows of ``qs`` (values lists whose first item is ``field``) for these people, a chunk at a
    time: a range lookup when the chunk's ids are dense (a batch of consecutive people), an IN list
    otherwise."""
    for chunk in _chunks(sorted(set(ids))):
        lo, hi = chunk[0], chunk[-1]
        if hi - lo < 2 * len(chunk):
            wanted = set(chunk)
            rows = qs.filter(**{f"{field}__gte": lo, f"{field}__lte": hi})
            yield from (r for r in rows if r[0] in wanted)
        else:
            yield from qs.filter(**{f"{field}__any": chunk})


def identities_by_person(
    person_ids: Iterable[int], *, period: tuple[date, date] | None = None
) -> dict[int, tuple[EngineIdentity, ...]]:
    """Every identity of these people as engine values (only those overlapping ``period`` if given)."""
    from django.db.models import Q

    qs = Identity.objects.all()
    if period is not None:
        start, end = period
        qs = qs.filter(valid_from__lte=end).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    qs = qs.order_by("person_id", "valid_from", "id").values_list("person_id", "category__code", "valid_from", "valid_to")
    out: dict[int, list[EngineIdentity]] = defaultdict(list)
    for pid, code, vf, vt in _by_person(qs, list(person_ids)):
        out[pid].append(EngineIdentity(code, vf, vt))
    return {pid: tuple(v) for pid, v in out.items()}


def attributes_by_person(person_ids: Iterable[int]) -> dict[int, tuple[AttributeSpan, ...]]:
    """Every dated person attribute of these people (PersonAttribute rows) as engine values."""
    qs = PersonAttribute.objects.filter(status__in=PersonAttribute.COUNTING).order_by("person_id", "valid_from", "id").values_list(
        "person_id", "attribute", "valid_from", "valid_to"
    )
    out: dict[int, list[AttributeSpan]] = defaultdict(list)
    for pid, name, vf, vt in _by_person(qs, list(person_ids)):
        out[pid].append(AttributeSpan(name, vf, vt))
    return {pid: tuple(v) for pid, v in out.items()}


def town_spans_by_person(person_ids: Iterable[int]) -> dict[int, tuple[TownSpan, ...]]:
    """The towns by date of those of these people who ever moved (docs/areas.md): one indexed query
    per 5,000 people; the others live in ``Person.town`` on every date."""
    from beneficiaries.models import PersonTown

    qs = PersonTown.objects.order_by("person_id", "valid_from").values_list("person_id", "town__code", "valid_from", "valid_to")
    out: dict[int, list[TownSpan]] = defaultdict(list)
    for pid, code, vf, vt in _by_person(qs, list(person_ids)):
        out[pid].append(TownSpan(code, vf, vt))
    return {pid: tuple(v) for pid, v in out.items()}


def engine_person(
    *,
    id_number: str,
    birth_date: date | None,
    identities: tuple[EngineIdentity, ...],
    attributes: tuple[AttributeSpan, ...] = (),
    name: str = "",
    town: str | None = None,
    towns: tuple[TownSpan, ...] = (),
) -> EnginePerson:
    """One engine Person from plain values (the rows already read)."""
    return EnginePerson(id_number, birth_date, identities, frozenset(), name, town, attributes, towns)


PERSON_VALUES = ("pk", "id_number", "birth_date", "name", "town__code")


def _person_from_values(
    row: tuple, identities: Mapping, attributes: Mapping, towns: Mapping[int, tuple[TownSpan, ...]]
) -> EnginePerson:
    pk, id_number, birth, name, town = row
    return engine_person(
        id_number=id_number,
        birth_date=birth,
        identities=identities.get(pk, ()),
        attributes=attributes.get(pk, ()),
        name=name,
        town=town,
        towns=towns.get(pk, ()),
    )


def persons_for_engine(
    person_ids: Iterable[int], *, period: tuple[date, date] | None = None
) -> dict[int, EnginePerson]:
    """Engine Persons of many people (by primary key), with their identities (overlapping ``period``
    if given) and dated attributes: three queries per 5,000 people."""
    ids = sorted(set(person_ids))
    idents = identities_by_person(ids, period=period)
    attrs = attributes_by_person(ids)
    towns = town_spans_by_person(ids)
    rows = Person.objects.values_list(*PERSON_VALUES).order_by("pk")
    return {row[0]: _person_from_values(row, idents, attrs, towns) for row in _by_person(rows, ids, "pk")}


def persons_for_engine_by_id_number(id_numbers: Iterable[str]) -> dict[str, tuple[int, EnginePerson]]:
    """(person pk, engine Person) by resident ID number, for files that name people by number
    (one-stop settlement); numbers with no person are left out."""
    numbers = sorted(set(id_numbers))
    rows = []
    for i in range(0, len(numbers), 10 * CHUNK):  # one array parameter per chunk (``__any``)
        rows.extend(Person.objects.filter(id_number__any=Many(numbers[i : i + 10 * CHUNK])).values_list(*PERSON_VALUES))
    idents = identities_by_person([r[0] for r in rows])
    attrs = attributes_by_person([r[0] for r in rows])
    towns = town_spans_by_person([r[0] for r in rows])
    return {r[1]: (r[0], _person_from_values(r, idents, attrs, towns)) for r in rows}


def person_for_engine(person: Any) -> EnginePerson:
    """The engine Person of one ``beneficiaries.Person``."""
    return engine_person(
        id_number=person.id_number,
        birth_date=person.birth_date,
        identities=identities_by_person([person.pk]).get(person.pk, ()),
        attributes=attributes_by_person([person.pk]).get(person.pk, ()),
        name=person.name,
        town=person.town.code if person.town_id else None,
        towns=town_spans_by_person([person.pk]).get(person.pk, ()),
    )


# --- bills -------------------------------------------------------------------------------------
def bill_for_engine(
    src: Any, *, institution: Any | None = None, basic_paid: Decimal | None = None, ref: str | None = None
) -> EngineBill:
    """The engine Bill of anything that carries a bill's fields: a hand-settled ``claims.Bill``, a
    one-stop ``SettlementLine`` or a settlement file row. ``institution`` (default ``src.institution``)
    gives the level (0 = 未定级). ``basic_paid`` replaces the bill's own figure (employees' pooling
    computed by the bureau). ``ref`` defaults to the bill's primary key. Whether the institution is
    designated (定点) is asked on the settlement date (``Institution.designated_on``)."""
    inst = institution if institution is not None else src.institution
    designated = inst.designated_on(src.settled_on) if hasattr(inst, "designated_on") else True
    return EngineBill(
        kind=BillKind(src.kind),
        settled_on=src.settled_on,
        institution_level=inst.level,
        in_policy_cost=src.in_policy_cost,
        basic_paid=src.basic_paid if basic_paid is None else basic_paid,
        critical_paid=src.critical_paid,
        disease=src.disease or None,
        total_cost=src.total_cost,
        admitted_on=src.admitted_on,
        ref=ref if ref is not None else str(getattr(src, "pk", "") or ""),
        designated=designated,
        large_paid=getattr(src, "large_paid", None) or Decimal("0.00"),
    )


# --- deciding ----------------------------------------------------------------------------------
def decide_bill(
    person: EnginePerson,
    bill: EngineBill,
    caps_used: Mapping[str, Decimal] | None = None,
    *,
    book: PolicyBook | None = None,
    policy: Policy | None = None,
) -> tuple[Decision, Policy]:
    """The engine's decision on one bill under the policy ``policy_for`` chooses (or ``policy``
    when the caller already chose it with ``policy_for``), given what each cap has used this year."""
    pol = policy if policy is not None else policy_for(bill.settled_on, person=person, book=book)
    return adjudicate(pol, person, bill, caps_used or {}), pol


def decide_subsidy(
    person: EnginePerson, year: int, enrolment: str | None, *, book: PolicyBook | None = None,
    policies: PoliciesByTown | None = None,
) -> SubsidyDecision:
    """The contribution subsidy of ``year`` (policy in force on 31 December of the year, D8). A bulk run
    passes ``policies`` (``PoliciesByTown`` on 31 December of the year) to choose the policy once per town."""
    pol = policies.of(person) if policies is not None else policy_for(date(year, 12, 31), person=person, book=book)
    return contribution_subsidy(pol, person, year, enrolment)


__all__ = [
    "MAINTENANCE",
    "PoliciesByTown",
    "attributes_by_person",
    "bill_for_engine",
    "decide_bill",
    "decide_subsidy",
    "engine_person",
    "identities_by_person",
    "person_for_engine",
    "persons_for_engine",
    "persons_for_engine_by_id_number",
    "policy_for",
    "town_spans_by_person",
]
