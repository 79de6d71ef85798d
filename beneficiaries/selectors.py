"""Queries over people and identities. Everything a user reaches starts from visible_to(user)."""

from django.utils import timezone

from yfbz.core import hooks

from .models import Identity, Person


def people_for(user):
    return Person.objects.visible_to(user).select_related("town")


def person_for(user, pk):
    return Person.objects.select_related("town").get_visible_or_404(user, pk=pk)


def person_to_change(user, pk):
    """The person, for a change: 404 if not visible, refused (read-only) if their town has left the
    user's district (the history the bureau made stays visible: docs/areas.md)."""
    from yfbz.core.scoping import check_changeable

    person = person_for(user, pk)
    check_changeable(user, person)
    return person


def read_only_for(user, person) -> bool:
    """True when the person is visible to ``user`` but their town has left the user's district."""
    return not Person.objects.changeable_by(user).filter(pk=person.pk).exists()


def town_history(person) -> list[dict]:
    """The person's towns by date, each with the district that governed the town when the span began
    and today (docs/areas.md)."""
    from .towns import history

    tree = hooks.call("area_tree")  # yfbz.areas.tree.area_tree (beneficiaries imports no areas)
    today = timezone.localdate()
    rows = []
    for span in history(person):
        start = span.valid_from
        rows.append({
            "span": span,
            "known_start": start.year > 1900,
            "district": tree.district_name(span.town_id, max(start, min(span.valid_to or today, today))),
            "in_jurisdiction": span.town_id in tree.jurisdiction(min(span.valid_to or today, today)),
        })
    return rows


def identities_of(person):
    return (
        Identity.objects.filter(person=person)
        .select_related("category", "category__department", "started_by", "ended_by")
        .order_by("valid_from", "id")
    )


# --- rosters ---------------------------------------------------------------------------------------
def uploads_for(user):
    """Uploads a user may open: by scoping (department officers: their department's; district: all),
    and for a town clerk every upload that has rows of their town once it went to town review."""
    from django.db.models import Q

    from yfbz.core.roles import Role

    from .models import RosterRow, RosterUpload

    q = Q(pk__in=RosterUpload.objects.visible_to(user).values("pk"))
    if user.has_role(Role.TOWN_CLERK) and user.town_id:
        q |= Q(
            pk__in=RosterRow.objects.visible_to(user).values("upload_id"),
            status__in=[RosterUpload.Status.TOWN_REVIEW, RosterUpload.Status.CONFIRMING, RosterUpload.Status.CONFIRMED],
        )
    return RosterUpload.objects.filter(q).select_related("department", "uploaded_by")


def upload_for(user, pk):
    from django.shortcuts import get_object_or_404

    return get_object_or_404(uploads_for(user), pk=pk)


def rows_for(user, upload):
    from .models import RosterRow

    return RosterRow.objects.visible_to(user).filter(upload=upload).select_related("category", "town")


def retroactive_changes_for(user):
    from .models import RetroactiveChange

    return RetroactiveChange.objects.visible_to(user).select_related(
        "person", "person__town", "category", "roster_upload", "roster_upload__department", "correction", "reviewed_by"
    )


# --- the monthly duty board (POLICY.md §13) --------------------------------------------------------
DEADLINE_WORKING_DAYS = 5


def working_days(month_start, n):
    """The first n working days of a month on the official calendar (holidays and make-up days)."""
    import datetime as dt

    from chinese_calendar import is_workday

    days, day = [], month_start
    while len(days) < n:
        try:
            work = is_workday(day)
        except NotImplementedError:  # a year the calendar package does not know yet: weekdays
            work = day.weekday() < 5
        if work:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def duty_board(month_start):
    """For the roster of the month before `month_start`, due by its 5th working day: per department
    whether it was sent and confirmed and when; per town and department whether the town reviewed."""
    import datetime as dt
    from collections import defaultdict

    from django.db.models import Count, Max, Q
    from django.utils import timezone

    from .models import Department, RosterRow, RosterUpload, Town

    deadline = working_days(month_start, DEADLINE_WORKING_DAYS)[-1]
    roster_month = (month_start - dt.timedelta(days=1)).replace(day=1)

    def state(at):
        if at is None:
            return "missing"
        return "on_time" if timezone.localdate(at) <= deadline else "late"

    # a fixed number of queries whatever the number of departments, and the towns' review state
    # aggregated in the database (issue 14: 4–5 queries per department, and a DISTINCT that kept the
    # rows' default order brought 650k pending rows back to Python)
    departments, cells = [], {}
    towns = list(Town.objects.filter(active=True).order_by("id"))
    uploads = defaultdict(list)
    for u in (RosterUpload.objects.filter(month=roster_month).exclude(status=RosterUpload.Status.UNREADABLE)
              .order_by("uploaded_at", "id")):
        uploads[u.department_id].append(u)
    for dept in Department.objects.order_by("id"):
        mine = uploads[dept.pk]
        first = mine[0].uploaded_at if mine else None
        confirmed = min((u for u in mine if u.status == RosterUpload.Status.CONFIRMED),
                        key=lambda u: (u.confirmed_at is None, u.confirmed_at or first, u.pk), default=None)
        live = confirmed or next((u for u in reversed(mine) if u.status != RosterUpload.Status.REJECTED), None)
        departments.append({
            "department": dept, "sent_at": first, "sent": state(first),
            "confirmed_at": confirmed.confirmed_at if confirmed else None,
            "confirmed": state(confirmed.confirmed_at if confirmed else None), "upload": live,
        })
    from .services import review_deadline, review_overdue

    live_ids = {d["upload"].pk: d["department"].pk for d in departments if d["upload"] is not None}
    late, review_by_upload = {}, {}
    for d in departments:
        live = d["upload"]
        if live is None:
            continue
        d["review_deadline"] = review_by_upload[live.pk] = review_deadline(live) if live.submitted_at else None
        late[live.pk] = live.status == RosterUpload.Status.TOWN_REVIEW and review_overdue(live)
    per_town = (
        RosterRow.objects.filter(upload_id__in=list(live_ids), town__isnull=False)
        .exclude(outcome=RosterRow.Outcome.INVALID)
        .values("upload_id", "town_id")
        .annotate(last=Max("reviewed_at"), pending=Count("id", filter=Q(review=RosterRow.Review.PENDING)),
                  overdue=Count("id", filter=Q(review=RosterRow.Review.OVERDUE)))
        .order_by()
    )
    for r in per_town:
        done = not r["pending"]
        if r["overdue"]:
            cell_state = "overdue_accepted"  # the town did not review: the district accepted its rows as sent
        elif done:
            # a town's review is late after its own deadline (5 working days after sending), else the month's
            review_by = review_by_upload.get(r["upload_id"])
            cell_state = state(r["last"]) if review_by is None or r["last"] is None else (
                "on_time" if timezone.localdate(r["last"]) <= review_by else "late")
        else:
            cell_state = "overdue" if late[r["upload_id"]] else "missing"
        cells[(r["town_id"], live_ids[r["upload_id"]])] = {"reviewed_at": r["last"] if done else None, "state": cell_state}
    none = {"state": "none"}  # this department's roster has nobody of this town
    grid = [
        {"town": t, "cells": [cells.get((t.pk, d["department"].pk), none if d["upload"] else None) for d in departments]}
        for t in towns
    ]
    return {"month": month_start, "roster_month": roster_month, "deadline": deadline, "departments": departments, "grid": grid}


# --- the best identity for each benefit on a date (asks the policy engine) ---------------------------
def benefits_on(person, on):
    """For each benefit, the identity that gives most on ``on`` and why, as the policy engine decides it
    (``yfbz.policy.benefits.benefits_on``, registered as a hook: beneficiaries imports no policy)."""
    return hooks.call("benefits_on", person, on)
