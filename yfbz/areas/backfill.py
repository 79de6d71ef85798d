"""Backfilling the town a record was made under, for the migrations that add it (claims 0010,
funding 0010): the person's town on the record's date, from their ``PersonTown`` spans where they
moved, else their town. Works on the migration's historical models."""

from __future__ import annotations

from datetime import date

from django.db.models import OuterRef, Subquery


def _person_town(apps):
    Person = apps.get_model("beneficiaries", "Person")
    return Subquery(Person.objects.filter(pk=OuterRef("person_id")).values("town_id")[:1])


def by_date(apps, model, date_field: str) -> None:
    """``model.town`` = the person's town on ``date_field``."""
    PersonTown = apps.get_model("beneficiaries", "PersonTown")
    model.objects.filter(person__isnull=False).update(town_id=_person_town(apps))
    for span in PersonTown.objects.order_by("person_id", "valid_from"):
        rows = model.objects.filter(person_id=span.person_id, **{f"{date_field}__gte": span.valid_from})
        if span.valid_to is not None:
            rows = rows.filter(**{f"{date_field}__lte": span.valid_to})
        rows.update(town_id=span.town_id)


def by_year_end(apps, model) -> None:
    """``model.town`` = the person's town on 31 December of the row's ``year``."""
    PersonTown = apps.get_model("beneficiaries", "PersonTown")
    model.objects.update(town_id=_person_town(apps))
    for span in PersonTown.objects.order_by("person_id", "valid_from"):
        for year in model.objects.filter(person_id=span.person_id).values_list("year", flat=True).distinct():
            end = date(year, 12, 31)
            if span.valid_from <= end and (span.valid_to is None or end <= span.valid_to):
                model.objects.filter(person_id=span.person_id, year=year).update(town_id=span.town_id)
