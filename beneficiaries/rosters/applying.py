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


def apply_roster(upload: RosterUpload, *, sql: bool | None = None) -> dict:
    """Apply page by page (keyset on the row id) inside the caller's one transaction, so memory stays
    flat however long the roster is. On PostgreSQL the same rules run as set-based SQL (apply_roster_sql)."""
    if bulk.is_postgres() if sql is None else sql:
        return apply_roster_sql(upload)
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


# --- PostgreSQL: the same apply in set-based SQL ---------------------------------------------------
# The rows never travel to Python: a temporary table of the rows to apply, one INSERT … SELECT … ON
# CONFLICT for the people, one UPDATE … FROM for their details, one INSERT … SELECT for the identities
# started, one UPDATE … FROM for those ended, one INSERT … SELECT per kind of retroactive change.
# Same rules as _apply_page above (which SQLite still runs); tests/beneficiaries run both on PostgreSQL.
TMP = "tmp_roster_apply"


def apply_roster_sql(upload: RosterUpload) -> dict:
    from django.db import IntegrityError, connection, transaction

    now = timezone.now()
    today = timezone.localdate()
    default_end = upload.month - timedelta(days=1)
    counts = dict.fromkeys(("people_created", "people_updated", "people_moved", "identities_started", "identities_ended",
                            "retroactive"), 0)
    person, identity, row, retro = (m._meta.db_table for m in (Person, Identity, RosterRow, RetroactiveChange))
    with connection.cursor() as cur:
        with phases.phase("生效读行"):
            # the transaction's sorts (people by ID number, identities by row) and the new people's ids held
            # for the temporary table fit in memory: with the default 4 MB a 100,000-row roster sorted on
            # disk twice and spilled the ids (external merge, 9.6 and 5.7 MB; issue 14, eighth round)
            cur.execute("SET LOCAL work_mem = '64MB'")
            cur.execute(f'DROP TABLE IF EXISTS "{TMP}"')
            cur.execute(
                f'CREATE TEMP TABLE "{TMP}" AS SELECT id, outcome, id_number, name, category_id, town_id, village, phone, '
                f"certified_on, exits_on, identity_id, person_id AS pid, false AS created "
                f'FROM "{row}" WHERE upload_id = %s AND outcome IN (%s, %s, %s) AND review <> %s',
                [upload.pk, Outcome.NEW, Outcome.CHANGED, Outcome.ENDED, Review.SENT_BACK],
            )
            # a temporary table has no statistics: without them PostgreSQL plans nested loops over 100,000 rows.
            # The plans need the row counts and the share of each outcome, not histograms: a sample of 3,000
            # rows (target 10) instead of 30,000 (ANALYZE 0.10–0.17 → 0.015–0.05 s for 20,000 rows, load 4–5)
            cur.execute("SET LOCAL default_statistics_target = 10")
            cur.execute(f'ANALYZE "{TMP}"')
            cur.execute("SET LOCAL default_statistics_target TO DEFAULT")
        with phases.phase("人员"):
            # 1. people: the check found who was registered; register the others (the first row of each wins).
            # The birth date: the check validated it, and 'YYYYMMDD' is ISO 8601 in every DateStyle; the cast
            # reads it in a third of to_date's time (100,000 people: 60 → 20 ms). The people registered are
            # counted by the same statement (no second scan of the temporary table). The rows are sorted by ID
            # number byte by byte (COLLATE "C"): 17 digits and a digit or X, which every collation orders alike,
            # while the database's own collation (C.UTF-8 here, a Chinese locale elsewhere) compares through
            # strcoll; the rows of one person are the rows of one ID number either way.
            def register(conflict: str) -> None:
                cur.execute(
                    f"""WITH ins AS (
                    INSERT INTO "{person}" (id_number, name, birth_date, sex, town_id, village, phone, created_at, updated_at)
                    SELECT DISTINCT ON (id_number COLLATE "C") id_number, name, substr(id_number, 7, 8)::date,
                           CASE WHEN substr(id_number, 17, 1)::int %% 2 = 1 THEN 'M' ELSE 'F' END,
                           town_id, village, phone, %s, %s
                    FROM "{TMP}" t WHERE outcome = %s AND pid IS NULL
                      AND id_number NOT IN (SELECT id_number FROM "{TMP}" WHERE pid IS NOT NULL)
                    ORDER BY id_number COLLATE "C", id
                    {conflict} RETURNING id, id_number),
                upd AS (UPDATE "{TMP}" t SET pid = ins.id, created = true FROM ins WHERE t.id_number = ins.id_number)
                SELECT count(*) FROM ins""",
                    [now, now, Outcome.NEW],
                )
                counts["people_created"] = cur.fetchone()[0]

            # a plain INSERT first: ON CONFLICT's speculative insertion takes the unique index of ID numbers
            # twice per person (100,000 people: 1.24–1.50 s against 0.94–1.12 s, load ~2). Someone registered
            # since the check (another department's roster) makes it fail: the savepoint is rolled back and
            # ON CONFLICT DO NOTHING registers the others.
            try:
                with transaction.atomic():
                    register("")
            except IntegrityError:
                register("ON CONFLICT (id_number) DO NOTHING")
            # registered meanwhile (another roster since the check), or known by another row of this one
            cur.execute(f'UPDATE "{TMP}" t SET pid = p.id FROM "{person}" p WHERE t.pid IS NULL AND p.id_number = t.id_number')
            # 2. details of people already registered (town, village, phone) as the roster gives them (of
            # several rows of one person that change something, the last wins)
            cur.execute(
                f"""UPDATE "{person}" p SET town_id = u.town_id, village = u.village, phone = u.phone, updated_at = %s
                FROM (SELECT DISTINCT ON (w.pid) w.* FROM (
                        SELECT t.pid, t.id, t.town_id, COALESCE(NULLIF(t.village, ''), c.village) AS village,
                               COALESCE(NULLIF(t.phone, ''), c.phone) AS phone, c.town_id AS before,
                               c.village AS village_before, c.phone AS phone_before
                        FROM "{TMP}" t JOIN "{person}" c ON c.id = t.pid WHERE t.outcome <> %s AND NOT t.created) w
                      WHERE w.before IS DISTINCT FROM w.town_id OR w.village <> w.village_before OR w.phone <> w.phone_before
                      ORDER BY w.pid, w.id DESC) u
                WHERE p.id = u.pid
                RETURNING p.id, u.before, u.town_id""",
                [now, Outcome.ENDED],
            )
            updated = cur.fetchall()
            counts["people_updated"] = len(updated)
            # a new town: the person lives there from the roster's month (docs/areas.md); earlier records keep theirs
            moves = {pk: (before, town) for pk, before, town in updated if town is not None and town != before}
            counts["people_moved"] = apply_moves(
                moves, upload.month, source=PersonTown._meta.get_field("source").default, source_ref=f"名单{upload.pk}"
            )
        with phases.phase("身份"):
            # 3. identities: new ones start (D6) on their certification date, else the roster's month
            cur.execute(
                f"""INSERT INTO "{identity}" (person_id, category_id, valid_from, valid_to, created_at, started_by_id)
                SELECT pid, category_id, COALESCE(certified_on, %s), exits_on, %s, %s FROM "{TMP}" WHERE outcome = %s ORDER BY id""",
                [upload.month, now, upload.pk, Outcome.NEW],
            )
            counts["identities_started"] = cur.rowcount
            retro_cols = ("person_id, category_id, identity_id, period_start, period_end, kind, roster_upload_id, "
                          "created_at, review_note")
            # people registered before this roster gain an identity from a past day: decisions made before
            # today (the roster takes effect today) lacked it, in the roster's month too
            cur.execute(
                f"""INSERT INTO "{retro}" ({retro_cols})
                SELECT pid, category_id, NULL, COALESCE(certified_on, %s), %s::date, %s, %s, %s, ''
                FROM "{TMP}" WHERE outcome = %s AND NOT created AND COALESCE(certified_on, %s) <= %s::date ORDER BY id""",
                [upload.month, today, RetroactiveChange.Kind.STARTED_EARLIER, upload.pk, now, Outcome.NEW, upload.month, today],
            )
            counts["retroactive"] += cur.rowcount
            # ended ones end on the exit date, else the last day of the month before; an identity already
            # ended meanwhile is left as it is; one ended before it began (a corrected roster of the same
            # month) is kept one day and staff are told (CORRECTED)
            cur.execute(
                f"""WITH e AS (
                    SELECT DISTINCT ON (t.identity_id) t.identity_id, t.pid, t.category_id,
                           GREATEST(COALESCE(t.exits_on, %s::date), i.valid_from) AS day,
                           COALESCE(t.exits_on, %s::date) < i.valid_from AS corrected
                    FROM "{TMP}" t JOIN "{identity}" i ON i.id = t.identity_id AND i.valid_to IS NULL
                    WHERE t.outcome = %s ORDER BY t.identity_id, t.id),
                upd AS (UPDATE "{identity}" i SET valid_to = e.day, ended_by_id = %s FROM e WHERE i.id = e.identity_id
                        RETURNING i.id),
                ins AS (INSERT INTO "{retro}" ({retro_cols})
                    SELECT pid, category_id, identity_id,
                           CASE WHEN corrected THEN day ELSE day + 1 END,
                           CASE WHEN corrected THEN GREATEST(day, %s::date) ELSE %s::date END,
                           CASE WHEN corrected THEN %s ELSE %s END, %s, %s, ''
                    FROM e WHERE corrected OR day < %s::date ORDER BY identity_id
                    RETURNING id)
                SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM ins)""",
                [default_end, default_end, Outcome.ENDED, upload.pk, today, today, RetroactiveChange.Kind.CORRECTED,
                 RetroactiveChange.Kind.ENDED_EARLIER, upload.pk, now, today],
            )
            ended, retro_ended = cur.fetchone()
            counts["identities_ended"] = ended
            counts["retroactive"] += retro_ended
            cur.execute(f'DROP TABLE "{TMP}"')
    return counts
