"""Queries over people and identities. Everything a user reaches starts from visible_to(user)."""

from django.utils import timezone

from .models import Identity, Person


def people_for(user):
    return Person.objects.visible_to(user).select_related("town")


def person_for(user, pk):
    return Person.objects.select_related("town").get_visible_or_404(user, pk=pk)


def town_history(person) -> list[dict]:
    """The person's towns by date, each with the district that governed the town when the span began
    and today (docs/areas.md)."""
    from yfbz.areas.tree import area_tree

    from .towns import history

    tree = area_tree()
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
        "person", "person__town", "category", "roster_upload", "roster_upload__department", "reviewed_by"
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

    from django.db.models import Max, Min
    from django.utils import timezone

    from .models import Department, RosterRow, RosterUpload, Town

    deadline = working_days(month_start, DEADLINE_WORKING_DAYS)[-1]
    roster_month = (month_start - dt.timedelta(days=1)).replace(day=1)

    def state(at):
        if at is None:
            return "missing"
        return "on_time" if timezone.localdate(at) <= deadline else "late"

    departments, cells = [], {}
    towns = list(Town.objects.filter(active=True).order_by("id"))
    for dept in Department.objects.order_by("id"):
        uploads = RosterUpload.objects.filter(department=dept, month=roster_month).exclude(
            status__in=[RosterUpload.Status.UNREADABLE]
        )
        first = uploads.aggregate(at=Min("uploaded_at"))["at"]
        confirmed = uploads.filter(status=RosterUpload.Status.CONFIRMED).order_by("confirmed_at").first()
        live = confirmed or uploads.exclude(status=RosterUpload.Status.REJECTED).order_by("-uploaded_at").first()
        departments.append({
            "department": dept, "sent_at": first, "sent": state(first),
            "confirmed_at": confirmed.confirmed_at if confirmed else None,
            "confirmed": state(confirmed.confirmed_at if confirmed else None), "upload": live,
        })
        if live is None:
            continue
        per_town = (
            RosterRow.objects.filter(upload=live, town__isnull=False)
            .exclude(outcome=RosterRow.Outcome.INVALID)
            .values("town_id")
            .annotate(last=Max("reviewed_at"), first_pending=Min("review"))
        )
        pending = set(
            RosterRow.objects.filter(upload=live, review=RosterRow.Review.PENDING, town__isnull=False)
            .exclude(outcome=RosterRow.Outcome.INVALID).values_list("town_id", flat=True).distinct()
        )
        for r in per_town:
            done = r["town_id"] not in pending
            cells[(r["town_id"], dept.pk)] = {"reviewed_at": r["last"] if done else None,
                                              "state": state(r["last"]) if done else "missing"}
    none = {"state": "none"}  # this department's roster has nobody of this town
    grid = [
        {"town": t, "cells": [cells.get((t.pk, d["department"].pk), none if d["upload"] else None) for d in departments]}
        for t in towns
    ]
    return {"month": month_start, "roster_month": roster_month, "deadline": deadline, "departments": departments, "grid": grid}


# --- the best identity for each benefit on a date (asks the policy engine) ---------------------------
REFERENCE_COST = "10000"


def benefits_on(person, on):
    """For each benefit, the identity that gives most on `on` and why, as the engine decides it for
    reference bills (in-policy self-pay of 10,000 yuan) — the engine's own 就高 rule, not a copy of it."""
    from decimal import Decimal

    from yfbz.policy.inputs import decide_bill, decide_subsidy, person_for_engine, policy_for
    from yfbz.rules import REASON_ZH, Bill, BillKind, Enrolment, Reason

    rp = person_for_engine(person)
    policy = policy_for(on, person=rp)
    cost = Decimal(REFERENCE_COST)
    large = max(cost, policy.large_min_cost + 1)
    disease = min(policy.catalogue) if policy.catalogue else None
    bills = [
        Bill(BillKind.OUTPATIENT, on, 2, cost),
        Bill(BillKind.INPATIENT, on, 2, cost, disease=disease),
        Bill(BillKind.INPATIENT, on, 3, large),
    ]
    # reasons about the reference bill itself (caps, which scheme paid it) say nothing about the identity
    about_bill = {Reason.OTHER_SCHEME_PAYS_MORE, Reason.TIE_MORE_SPECIFIC, Reason.CAP_LIMITED, Reason.CAP_USED_UP,
                  Reason.NOTHING_LEFT_TO_PAY, Reason.PAID, Reason.COMPARED_SCHEMES, Reason.YOUFU_PAID,
                  Reason.YOUFU_CAP_USED_UP, Reason.YOUFU_NOTHING_REMAINS, Reason.YOUFU_CAP_LIMITED}
    seen, rows = set(), []
    youfu = None
    for bill in bills:
        decision, _ = decide_bill(rp, bill, policy=policy)
        if youfu is None or (decision.youfu.eligible and not youfu.eligible):
            youfu = decision.youfu
        for c in decision.considered:
            if c.scheme in seen or not c.applicable:
                continue
            seen.add(c.scheme)
            rows.append({
                "benefit": c.scheme.zh,
                "category": policy.category_name(c.category) if c.category else None,
                "ratio": c.ratio, "cap": c.cap, "level": bill.institution_level,
                "source": c.rule.source if c.rule else "",
                "why": "；".join(REASON_ZH[r] for r in c.reasons if r in REASON_ZH and r not in about_bill) or (
                    f"比较了{c.identities_compared}个身份，取待遇最优者" if c.identities_compared > 1 else "唯一符合条件的身份"
                ),
            })
    if youfu is not None:
        rows.append({
            "benefit": "优抚对象医疗补助", "category": policy.category_name(youfu.category) if youfu.eligible else None,
            "ratio": youfu.ratio, "cap": youfu.cap, "level": None,
            "source": youfu.rule.source if youfu.rule else "",
            "why": "；".join(REASON_ZH[r] for r in youfu.reasons if r in REASON_ZH and r not in about_bill)
            or ("优抚对象，在其他救助之后补助" if youfu.eligible else "无优抚身份"),
        })
    sub = decide_subsidy(rp, on.year, Enrolment.RESIDENT_T1)
    rows.append({
        "benefit": f"{on.year}年资助参保（一档居民）", "category": policy.category_name(sub.category) if sub.category else None,
        "ratio": sub.share, "cap": sub.amount if sub.category else None, "level": None, "source": "",
        "why": "；".join(REASON_ZH[r] for r in sub.reasons if r in REASON_ZH),
    })
    return {"on": on, "held": [policy.category_name(c) for c in rp.categories_on(on)], "rows": rows,
            "policy_version": policy.version}
