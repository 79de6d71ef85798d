"""Identity corrections outside a roster (issue 9): propose → confirm | reject, maker ≠ checker.

A district clerk proposes, with a reason and a document reference, either a new identity (a
category from a date, optionally to a date) or the end of an existing one; a district reviewer who
did not propose it confirms or rejects. Only confirmation changes identities, in the same
transaction as the status move: a new identity carries ``source = CORRECTION`` and ``source_ref``
naming the correction (shown as such on the person page); an ended identity gets its end date.
Every move is a history row (yfbz.core.workflow) and django-auditlog records the identity changes
with who made them. ``monthly_identity_changes`` counts corrections apart from roster changes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yfbz.core.params import BadParameter, check_range
from yfbz.core.roles import Role
from yfbz.core.workflow import record_start, transition

from .models import Category, Identity, IdentityCorrection, Person

C = IdentityCorrection


def _check_dates(valid_from: date | None, valid_to: date | None) -> None:
    try:
        for d, what in ((valid_from, "起始日期"), (valid_to, "终止日期")):
            if d is not None:
                check_range(d, what)
    except BadParameter as exc:
        raise ValidationError(str(exc)) from None
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationError(f"终止日期{valid_to}早于起始日期{valid_from}。")


@transaction.atomic
def _in_area(user, person: Person, on: date, what: str) -> None:
    """The day a correction concerns (a new identity's start, an ending's end) must be one when the
    person's town was under the user's district (docs/areas.md)."""
    from yfbz.core.errors import OutsideArea
    from yfbz.core.scoping import check_in_area

    from .towns import town_on

    try:
        check_in_area(user, name=person.name, town_id=town_on(person, on), on=on, what=what)
    except OutsideArea as exc:
        raise ValidationError(str(exc)) from exc


def correction_propose(*, person: Person, action: str, user, reason: str, document_ref: str,
                       category: Category | None = None, identity: Identity | None = None,
                       valid_from: date | None = None, valid_to: date | None = None) -> IdentityCorrection:
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise PermissionDenied("只有区医保经办人员可以提出名单外身份更正。")
    reason, document_ref = (reason or "").strip(), (document_ref or "").strip()
    if not reason:
        raise ValidationError("请填写更正原因。")
    if not document_ref:
        raise ValidationError("请填写依据文件（部门更正函、复议决定书等的文号）。")
    if len(document_ref) > 100:
        raise ValidationError(f"依据文件超过100个字符（共{len(document_ref)}个），请核对。")
    if action == C.Action.START:
        if category is None or valid_from is None:
            raise ValidationError("新增身份须选择身份类别并填写起始日期。")
        _check_dates(valid_from, valid_to)
        overlapping = Identity.objects.filter(person=person, category=category).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
        if valid_to is not None:
            overlapping = overlapping.filter(valid_from__lte=valid_to)
        if overlapping.exists():
            raise ValidationError(f"{person.name}在该期间已有“{category.name}”身份，不能重复新增；如需改期，请先终止原身份。")
        identity = None
    elif action == C.Action.END:
        if identity is None or identity.person_id != person.pk or valid_to is None:
            raise ValidationError("终止身份须选择该人员的一个身份并填写终止日期。")
        _check_dates(identity.valid_from, valid_to)
        if identity.valid_to is not None and identity.valid_to <= valid_to:
            raise ValidationError(f"该身份已于{identity.valid_to}终止。")
        category, valid_from = identity.category, None
    else:
        raise ValidationError("未知的更正内容。")
    _in_area(user, person, valid_from if action == C.Action.START else valid_to, "提出身份更正")
    if C.objects.filter(person=person, category=category, status=C.Status.PROPOSED).exists():
        raise ValidationError(f"{person.name}的“{category.name}”已有一项待确认的更正，请先确认或退回。")
    correction = C.objects.create(person=person, action=action, category=category, identity=identity,
                                  valid_from=valid_from, valid_to=valid_to, reason=reason, document_ref=document_ref,
                                  proposed_by=user)
    record_start(correction, by=user, reason=f"{correction.get_action_display()}：{reason}")
    return correction


@transaction.atomic
def correction_decide(*, correction_id: int, user, confirm: bool, note: str = "") -> IdentityCorrection:
    correction = C.objects.select_for_update().select_related("person", "category").get(pk=correction_id)
    if not (user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER)):
        raise PermissionDenied("只有区医保审核人员可以确认名单外身份更正。")
    if correction.status != C.Status.PROPOSED:
        raise ValidationError(f"该更正已{correction.get_status_display()}，不能再处理。")
    if correction.proposed_by_id == user.pk:
        raise PermissionDenied("不能确认自己提出的更正（须由另一人确认）。")
    note = (note or "").strip()
    if not confirm:
        if not note:
            raise ValidationError("退回须写明原因。")
        transition(correction, C.Status.REJECTED, by=user, reason=note)
        C.objects.filter(pk=correction.pk).update(decided_by=user, decided_at=timezone.now(), decision_note=note)
        correction.refresh_from_db()
        return correction
    _in_area(user, correction.person, correction.valid_from if correction.action == C.Action.START else correction.valid_to,
             "确认身份更正")
    old_to = None  # an ended identity's end before the correction
    if correction.action == C.Action.START:
        clash = Identity.objects.filter(person=correction.person, category=correction.category).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=correction.valid_from))
        if correction.valid_to is not None:
            clash = clash.filter(valid_from__lte=correction.valid_to)
        if clash.exists():
            raise ValidationError("提出更正后，该人员在该期间已有此身份（可能已由名单带来），本更正无需确认，请退回。")
        identity = Identity.objects.create(
            person=correction.person, category=correction.category, valid_from=correction.valid_from,
            valid_to=correction.valid_to, source=Identity.Source.CORRECTION, source_ref=correction.ref,
        )
    else:
        identity = Identity.objects.select_for_update().get(pk=correction.identity_id)
        if identity.valid_to is not None and identity.valid_to <= correction.valid_to:
            raise ValidationError(f"该身份已于{identity.valid_to}终止，本更正无需确认，请退回。")
        old_to = identity.valid_to
        identity.valid_to = correction.valid_to
        identity.save(update_fields=["valid_to"])
    transition(correction, C.Status.CONFIRMED, by=user, reason=note or "确认")
    C.objects.filter(pk=correction.pk).update(identity=identity, decided_by=user, decided_at=timezone.now(),
                                              decision_note=note)
    correction.refresh_from_db()
    _record_retroactive(correction, identity, old_to)
    return correction


def _record_retroactive(correction: IdentityCorrection, identity: Identity, old_to: date | None) -> None:
    """A confirmed correction that reaches back before today changes who was entitled on days already
    decided: record it as a retroactive change (as a roster's would be) and measure what it reaches, so
    the decisions of that period are decided again or closed with a reason (应退尽退、应补尽补)."""
    from datetime import timedelta

    from .models import RetroactiveChange
    from .retro import measure_changes

    today = timezone.localdate()
    if correction.action == C.Action.START:
        start, end, kind = correction.valid_from, correction.valid_to, RetroactiveChange.Kind.STARTED_EARLIER
    else:
        start, end, kind = correction.valid_to + timedelta(days=1), old_to, RetroactiveChange.Kind.ENDED_EARLIER
    end = today if end is None else min(end, today)
    if start > end:
        return  # nothing already past is touched
    change = RetroactiveChange.objects.create(
        person=correction.person, category=correction.category, identity=identity, period_start=start,
        period_end=end, kind=kind, correction=correction,
    )
    record_start(change, by=None, reason=f"{correction.ref}确认，记录追溯身份变化")
    measure_changes([change], close_empty=True)


def monthly_identity_changes(year: int, *, user=None, town=None) -> dict[int, dict[str, int]]:
    """Identity changes of each month of ``year`` by what made them: {month: {kind: count}}.

    Kinds: ``ROSTER`` / ``CORRECTION`` / ``MIGRATED`` count identities started, by the month they were
    recorded (a roster's when it was confirmed, a correction's when confirmed, a migration's when
    loaded); ``ROSTER_END`` counts identities a confirmed roster ended, by the month of that roster's
    confirmation; ``CORRECTION_END`` identities ended by a confirmed correction, by the month it was
    confirmed. Counted in the database (one grouped query each), scoped when ``user`` is given, to
    the people of ``town`` (their current town) when given."""
    from django.db.models import Max

    from yfbz.core import versioned

    from .models import PersonTown, RosterUpload

    tz = timezone.get_current_timezone()

    def scoped(qs):
        qs = qs.visible_to(user) if user is not None else qs.all()
        return qs

    identities = scoped(Identity.objects)
    if town is not None:
        identities = identities.filter(person__town=town)
    # every identity of the year is counted (1.2M in a first year: 0.6 s): kept per version of its inputs —
    # the newest identity, roster confirmation, correction decision and town record (yfbz.core.versioned)
    asked = (year, versioned.sql_of(identities), versioned.sql_of(scoped(C.objects)),
             town.pk if town is not None else None, str(tz))
    version = (Identity.objects.aggregate(v=Max("pk"))["v"], RosterUpload.objects.aggregate(v=Max("confirmed_at"))["v"],
               C.objects.aggregate(v=Max("decided_at"))["v"], PersonTown.objects.aggregate(v=Max("pk"))["v"])
    return versioned.cached("identity-changes", asked, version,
                            lambda: _count_identity_changes(year, identities, scoped, town, tz))


def _count_identity_changes(year, identities, scoped, town, tz) -> dict[int, dict[str, int]]:
    from django.db.models import Count
    from django.db.models.functions import ExtractMonth

    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    started = (identities.filter(created_at__year=year).annotate(m=ExtractMonth("created_at", tzinfo=tz))
               .order_by().values("m", "source").annotate(n=Count("pk")))
    for row in started:
        out[row["m"]][row["source"]] += row["n"]
    ended = (identities.filter(ended_by__confirmed_at__year=year)
             .annotate(m=ExtractMonth("ended_by__confirmed_at", tzinfo=tz)).order_by().values("m").annotate(n=Count("pk")))
    for row in ended:
        out[row["m"]]["ROSTER_END"] += row["n"]
    ends = scoped(C.objects).filter(action=C.Action.END, status=C.Status.CONFIRMED, decided_at__year=year)
    if town is not None:
        ends = ends.filter(person__town=town)
    for row in ends.annotate(m=ExtractMonth("decided_at", tzinfo=tz)).order_by().values("m").annotate(n=Count("pk")):
        out[row["m"]]["CORRECTION_END"] += row["n"]
    return {m: dict(v) for m, v in sorted(out.items())}
