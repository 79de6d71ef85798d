"""The engine's input built from the database: a person's identities (the engine keeps those valid
on the settlement date, D1), their attributes, the bill, what each cap has used this year.

Bulk callers (the settlement import) preload identities for many people with ``identities_by_person``
so that deciding a line needs no query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from beneficiaries.models import Identity
from yfbz.rules import Bill as EngineBill
from yfbz.rules import BillKind
from yfbz.rules import Identity as EngineIdentity
from yfbz.rules import Person as EnginePerson

MAINTENANCE = "needs_maintenance_treatment"


def identities_by_person(person_ids: Iterable[int]) -> dict[int, tuple[EngineIdentity, ...]]:
    """Every identity of these people as engine values, in one query per 5,000 people."""
    ids = list(person_ids)
    out: dict[int, list[EngineIdentity]] = defaultdict(list)
    for i in range(0, len(ids), 5000):
        rows = (
            Identity.objects.filter(person_id__in=ids[i : i + 5000])
            .order_by("person_id", "valid_from", "id")
            .values_list("person_id", "category__code", "valid_from", "valid_to")
        )
        for pid, code, vf, vt in rows:
            out[pid].append(EngineIdentity(code, vf, vt))
    return {pid: tuple(v) for pid, v in out.items()}


def engine_person(
    *, id_number: str, birth_date, needs_maintenance: bool, identities: tuple[EngineIdentity, ...], name: str = ""
) -> EnginePerson:
    attrs = frozenset({MAINTENANCE}) if needs_maintenance else frozenset()
    return EnginePerson(id_number, birth_date, identities, attrs, name)


def person_for_engine(person, identities: Mapping[int, tuple[EngineIdentity, ...]] | None = None) -> EnginePerson:
    idents = (identities or identities_by_person([person.pk])).get(person.pk, ())
    return engine_person(
        id_number=person.id_number,
        birth_date=person.birth_date,
        needs_maintenance=person.needs_maintenance_treatment,
        identities=idents,
        name=person.name,
    )


def bill_for_engine(bill, *, basic_paid: Decimal | None = None) -> EngineBill:
    return EngineBill(
        kind=BillKind(bill.kind),
        settled_on=bill.settled_on,
        institution_level=bill.institution.level,
        in_policy_cost=bill.in_policy_cost,
        basic_paid=bill.basic_paid if basic_paid is None else basic_paid,
        critical_paid=bill.critical_paid,
        disease=bill.disease or None,
        total_cost=bill.total_cost,
        admitted_on=bill.admitted_on,
        ref=str(bill.pk or ""),
    )
