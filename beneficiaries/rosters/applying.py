"""Applying a confirmed roster (POLICY.md D6): register new people, update their town, village and
phone, start and end identities, record retroactive changes. Runs inside the caller's transaction
(services.roster_apply), page by page so memory stays flat however long the roster is."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from ..models import Identity, Person, PersonTown, RetroactiveChange, RosterRow, RosterUpload
from ..towns import apply_moves
from . import bulk, phases

Outcome = RosterRow.Outcome
Review = RosterRow.Review


def birth_of(idn: str) -> date:
    """Birth date of an ID number the check already validated."""
    return date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))


def sex_of(idn: str) -> str:
    return "M" if int(idn[16]) % 2 else "F"


APPLY_PAGE = 50_000
PERSON_FIELDS = ("id_number", "name", "birth_date", "sex", "town_id", "village", "phone", "created_at", "updated_at")
RETRO_FIELDS = ("person_id", "category_id", "identity_id", "period_start", "period_end", "kind", "roster_upload_id",
                "created_at", "review_note")


def apply_roster(upload: RosterUpload) -> dict:
    """Apply page by page (keyset on the row id) inside the caller's one transaction, so memory stays
    flat however long the roster is."""
    counts = {"people_created": 0, "people_updated": 0, "people_moved": 0, "identities_started": 0, "identities_ended": 0, "retroactive": 0}
    created_here: set[int] = set()  # people this roster registered (a second category of theirs is no news)
    rows_qs = (
        RosterRow.objects.filter(upload=upload, outcome__in=[Outcome.NEW, Outcome.CHANGED, Outcome.ENDED])
        .exclude(review=Review.SENT_BACK)
        .order_by("id")
    )
    last = 0
    while True:
        with phases.phase("生效读行"):
            page = list(
                rows_qs.filter(id__gt=last).values_list(
                    "id", "outcome", "id_number", "name", "category_id", "town_id", "village", "phone",
                    "certified_on", "exits_on", "person_id", "identity_id",
                )[:APPLY_PAGE]
            )
        if not page:
            return counts
        last = page[-1][0]
        _apply_page(upload, [r[1:] for r in page], counts, created_here)


def _apply_page(upload: RosterUpload, rows: list[tuple], counts: dict, created_here: set[int]) -> None:
    now = timezone.now()
    today = timezone.localdate()
    default_end = upload.month - timedelta(days=1)
    with phases.phase("人员"):
        # 1. people: the check found who was registered; register the others
        person_ids: dict[str, int] = {}
        new_people: dict[str, tuple] = {}
        for out, idn, name, _c, town, village, phone, _cert, _exit, person_id, _i in rows:
            if person_id is not None:
                person_ids[idn] = person_id
            elif out == Outcome.NEW and idn not in new_people:
                new_people[idn] = (idn, name, birth_of(idn), sex_of(idn), town, village, phone, now, now)
        for idn in person_ids:
            new_people.pop(idn, None)
        created = bulk.insert_ignoring_conflicts(Person, PERSON_FIELDS, list(new_people.values()), conflict="id_number")
        person_ids.update(created)
        created_here.update(created.values())
        # registered meanwhile (an earlier page of this roster, or another roster since the check)
        missing = [idn for idn in new_people if idn not in created]
        person_ids.update({k: v[0] for k, v in bulk.lookup(Person, "id_number", missing, ("pk",)).items()})
        del new_people
        existing_before = {pk for pk in person_ids.values() if pk not in created_here}
        current = bulk.lookup(Person, "pk", list(existing_before), ("town_id", "village", "phone"))
        # 2. details of people already registered (town, village, phone) as the roster gives them
        updates: dict[int, tuple] = {}
        for out, idn, _n, _c, town, village, phone, *_ in rows:
            pk = person_ids[idn]
            if out == Outcome.ENDED or pk not in existing_before:
                continue
            cur_town, cur_village, cur_phone = current[pk]
            want = (town, village or cur_village, phone or cur_phone)
            if want != (cur_town, cur_village, cur_phone):
                updates[pk] = (pk, *want, now)
        counts["people_updated"] += bulk.update_rows(Person, ("town_id", "village", "phone", "updated_at"), list(updates.values()))
        # a new town: the person lives there from the roster's month (docs/areas.md); earlier records keep theirs
        moves = {pk: (current[pk][0], u[1]) for pk, u in updates.items() if u[1] is not None and u[1] != current[pk][0]}
        counts["people_moved"] += apply_moves(
            moves, upload.month, source=PersonTown._meta.get_field("source").default, source_ref=f"名单{upload.pk}"
        )
    with phases.phase("身份"):
        # 3. identities: new ones start (D6), ended ones end
        starts, ends, retro = [], [], []
        for out, idn, _n, cat, _t, _v, _p, certified, exits, _person_id, identity_id in rows:
            pk = person_ids[idn]
            if out == Outcome.NEW:
                start = certified or upload.month
                starts.append((pk, cat, start, exits, now, upload.pk))
                if pk in existing_before and start <= today:
                    # decisions made before today (the roster takes effect today) lacked this identity,
                    # in the roster's month too: the period runs up to today
                    retro.append((pk, cat, None, start, today, RetroactiveChange.Kind.STARTED_EARLIER, upload.pk, now, ""))
            elif out == Outcome.ENDED:
                ends.append((identity_id, pk, cat, exits or default_end))
        bulk.insert_rows(Identity, ("person_id", "category_id", "valid_from", "valid_to", "created_at", "started_by_id"), starts)
        open_ends = bulk.lookup(Identity, "pk", [e[0] for e in ends], ("valid_from", "valid_to"))
        valid_from = {pk: v[0] for pk, v in open_ends.items() if v[1] is None}
        end_rows = []
        for identity_id, pk, cat, end in ends:
            if identity_id not in valid_from:  # already ended by someone else meanwhile: leave it
                continue
            if end < valid_from[identity_id]:
                # ended before it began (a corrected roster of the same month dropped someone the first one
                # added): the shortest valid identity is one day; staff are told through a CORRECTED change
                end = valid_from[identity_id]
                retro.append((pk, cat, identity_id, end, max(end, today), RetroactiveChange.Kind.CORRECTED, upload.pk, now, ""))
                end_rows.append((identity_id, end, upload.pk))
                continue
            end_rows.append((identity_id, end, upload.pk))
            if end < today:
                retro.append((pk, cat, identity_id, end + timedelta(days=1), today, RetroactiveChange.Kind.ENDED_EARLIER, upload.pk, now, ""))
        bulk.update_rows(Identity, ("valid_to", "ended_by_id"), end_rows)
        bulk.insert_rows(RetroactiveChange, RETRO_FIELDS, retro)
    counts["people_created"] += len(created)
    counts["identities_started"] += len(starts)
    counts["identities_ended"] += len(end_rows)
    counts["retroactive"] += len(retro)

