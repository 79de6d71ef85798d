"""Row-level scoping: the one door every user-reachable query goes through.

A model that holds people's data declares how it reaches a town and a department:

    class Person(models.Model):
        objects = ScopedManager()

        class Scoping:
            town = "town"                                      # lookup path to a Town
            department = "identities__category__department"    # lookup path to a Department

and every view, export, PDF, search and admin page starts from

    Person.objects.visible_to(request.user)

The rules (docs/roles.md, docs/areas.md):
- superusers and the city level (市级医保) see all rows;
- the district-wide roles (区医保经办, 区医保审核, 财务, 审计, 系统管理员) see the rows of their district
  (User.district, else the bureau's): a record with its own town and date (``Scoping.on`` or
  ``on_year``: bills, decisions, notices, settlement lines, adjustments, subsidy results, facts) when
  its town was under the district on its date; a person (and what hangs on the person) when their town
  ever was, or when they lived in such a town; rows with no town, or a town placed in no district;
- a 镇街经办员 sees the rows whose town is their town; rows with no town are not visible; a record
  with its own town and date only while their town was under their district;
- a 部门数据员 sees the rows reached from their department (rosters they sent, people certified
  by them); a model that declares no department path is invisible to them;
- anyone else (no role, inactive, anonymous, a town clerk with no town) sees nothing.
Scoping fails closed. `tests/core/test_scoping.py` checks that every model with a path to a
town declares Scoping and that every admin for it uses ScopedAdminMixin.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q

from .bytes import BytesDeferredManager, BytesDeferredQuerySet
from .roles import Role

NOTHING = Q(pk__in=[])


def _user_district(user, tree) -> int | None:
    """The district a member of staff works for: their own (User.district), else the bureau's today."""
    if getattr(user, "district_id", None):
        return user.district_id
    from django.utils import timezone

    bureau = tree.bureau_on(timezone.localdate())
    return bureau.district_id if bureau else None


def _window(path: str, lo, hi, year: bool) -> Q | None:
    """The record's date (or, for a year field, its 31 December) within [lo, hi]; None: always."""
    from .params import FIRST as DATE_MIN  # the same day as yfbz.areas.models.DATE_MIN

    parts = {}
    if lo > DATE_MIN:
        parts[f"{path}__gte"] = lo.year if year else lo
    if hi is not None:
        parts[f"{path}__lte"] = (hi.year if (hi.month, hi.day) == (12, 31) else hi.year - 1) if year else hi
    return Q(**parts) if parts else None


def _dated(scoping, spans) -> Q:
    """Records whose own town was, on the record's own date, under one of ``spans``."""
    from collections import defaultdict

    on = getattr(scoping, "on", None) or getattr(scoping, "on_year", None)
    year = not getattr(scoping, "on", None)
    on_paths = (on,) if isinstance(on, str) else tuple(on)
    by_window: dict[tuple, list[int]] = defaultdict(list)
    for span in spans:
        by_window[(span.valid_from, span.valid_to)].append(span.town_id)
    q = NOTHING
    for (lo, hi), towns in by_window.items():
        windows = [_window(p, lo, hi, year) for p in on_paths]
        clause = Q(**{f"{scoping.town}__in": sorted(towns)})
        if all(w is not None for w in windows):
            when = windows[0]
            for w in windows[1:]:
                when |= w
            clause &= when
        q |= clause
    return q


def _district_q(model, scoping, district_id) -> Q:
    """What district staff reach: records made while their town was under the district (a record with
    its own town and date: ``Scoping.on``/``on_year``), people whose town ever was (read-only history
    once it left), and records with no town or a town not yet placed in any district."""
    from .hooks import get

    area_tree = get("area_tree")  # yfbz.areas.tree.area_tree (core imports no app)

    tree = area_tree()
    foreign = any(s.district_id != district_id for spans in tree.spans.values() for s in spans)
    if not foreign:
        return Q()  # every placed town always under this district: nothing to tell apart
    town_path = scoping.town
    q = Q(**{f"{town_path}__isnull": True})
    unplaced = set(tree.towns) - set(tree.spans)
    if unplaced:
        q |= Q(**{f"{town_path}__in": sorted(unplaced)})
    spans = tree.district_spans(district_id) if district_id else []
    if getattr(scoping, "on", None) or getattr(scoping, "on_year", None):
        return q | _dated(scoping, spans)
    ever = sorted({s.town_id for s in spans})
    q |= Q(**{f"{town_path}__in": ever})
    person_path = getattr(scoping, "person", None)
    if person_path is not None and ever:
        # a person who lived in one of its towns (PersonTown) while the bureau served them
        from django.apps import apps

        PersonTown = apps.get_model("beneficiaries", "PersonTown")  # core imports no app

        q |= Q(**{f"{person_path}__in": PersonTown.objects.filter(town_id__in=ever).values("person_id")})
    return q


def _clerk_q(scoping, user) -> Q:
    """A town clerk: rows of their town; a record with its own town and date, only while their town was
    under their district (a town that left: the records after it left are the new district's)."""
    town_path = scoping.town
    mine = Q(**{f"{town_path}__id": user.town_id})
    if not (getattr(scoping, "on", None) or getattr(scoping, "on_year", None)):
        return mine
    from .hooks import get

    area_tree = get("area_tree")  # yfbz.areas.tree.area_tree (core imports no app)

    tree = area_tree()
    spans = tree.spans.get(user.town_id)
    if not spans:
        return mine
    district_id = _user_district(user, tree)
    ours = [s for s in spans if s.district_id == district_id]
    if len(ours) == len(spans):
        return mine
    return _dated(scoping, ours) if ours else NOTHING


def scope_q(model: type[models.Model], user) -> Q:
    """The filter that restricts `model` to what `user` may see."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_superuser or getattr(user, "sees_every_district", False):
        return Q()
    scoping = getattr(model, "Scoping", None)
    if user.sees_everything:
        if scoping is None or not getattr(scoping, "town", None):
            return Q()  # nothing to do with a town (rosters by department, reference data)
        from .hooks import get

        area_tree = get("area_tree")  # yfbz.areas.tree.area_tree (core imports no app)
        return _district_q(model, scoping, _user_district(user, area_tree()))
    if scoping is None:
        return NOTHING
    q = NOTHING
    town_path = getattr(scoping, "town", None)
    if town_path and user.has_role(Role.TOWN_CLERK) and user.town_id:
        # equality with the clerk's town: rows with no town never match
        q |= _clerk_q(scoping, user)
    dept_path = getattr(scoping, "department", None)
    if dept_path and user.has_role(Role.DEPT_OFFICER) and user.department_id:
        if "__" in dept_path:
            # multi-valued paths: a subquery keeps rows distinct
            q |= Q(pk__in=model._base_manager.filter(**{f"{dept_path}__id": user.department_id}).values("pk"))
        else:
            q |= Q(**{f"{dept_path}_id": user.department_id})
    return q


def district_q(user, path: str = "district") -> Q:
    """Records that carry the district they serve (a fund request, its payment batches, a receivable:
    docs/areas.md, funds by area): district staff see their district's, and those with no district when
    their district is the bureau's; the city level and superusers see every district's; anyone else
    nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_superuser or getattr(user, "sees_every_district", False):
        return Q()
    if not user.sees_everything:
        return NOTHING
    from django.utils import timezone

    from .hooks import get

    tree = get("area_tree")()  # yfbz.areas.tree.area_tree (core imports no app)
    district_id = _user_district(user, tree)
    bureau = tree.bureau_on(timezone.localdate())
    q = Q(**{path: district_id}) if district_id else NOTHING
    if bureau is None or district_id == bureau.district_id:
        q |= Q(**{f"{path}__isnull": True})
    return q


def changeable_q(model: type[models.Model], user) -> Q:
    """What `user` may change: what they see, less the people whose town has left their district (kept
    visible, read-only, for the history the bureau made: docs/areas.md)."""
    q = scope_q(model, user)
    scoping = getattr(model, "Scoping", None)
    person_town = getattr(scoping, "current_town", None) or getattr(scoping, "town", None)
    if user is None or not getattr(user, "is_authenticated", False) or user.is_superuser or not person_town:
        return q
    if getattr(scoping, "on", None) or getattr(scoping, "on_year", None):
        person_town = getattr(scoping, "current_town", None)
        if not person_town:
            return q
    from django.utils import timezone

    from .hooks import get

    area_tree = get("area_tree")  # yfbz.areas.tree.area_tree (core imports no app)

    tree = area_tree()
    district_id = _user_district(user, tree)
    if not any(s.district_id != district_id for spans in tree.spans.values() for s in spans):
        return q
    today = timezone.localdate()
    here = {t for t in tree.towns if t not in tree.spans or tree.district_of(t, today) == district_id}
    return q & (Q(**{f"{person_town}__isnull": True}) | Q(**{f"{person_town}__in": sorted(here)}))


class ScopedQuerySet(BytesDeferredQuerySet):
    def visible_to(self, user):
        return self.filter(scope_q(self.model, user))

    def changeable_by(self, user):
        return self.filter(changeable_q(self.model, user))

    def get_visible_or_404(self, user, **lookup):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(self.visible_to(user), **lookup)


class ScopedManager(BytesDeferredManager.from_queryset(ScopedQuerySet)):
    """Also defers file bytes by default (yfbz.core.bytes)."""


def is_scoped(model) -> bool:
    return isinstance(getattr(model, "objects", None), ScopedManager) and hasattr(model, "Scoping")


def check_changeable(user, obj) -> None:
    """Raise PermissionDenied unless `user` may change `obj` (a person whose town left their district is
    read-only for them)."""
    model = type(obj)
    if not model._default_manager.filter(pk=obj.pk).filter(changeable_q(model, user)).exists():
        raise PermissionDenied("该人员所在镇街已划出本区，其记录只读")


def check_in_area(user, *, name: str, town_id: int | None, on, what: str) -> None:
    """Refuse a write (``what``: 录入票据, 核定, 审批, 身份更正, 参保登记 …) about a person whose town on
    ``on`` (the day the record concerns: a bill's settlement date, a subsidy year's 31 December) was
    not under the user's district that day (docs/areas.md): raises ``errors.OutsideArea`` in Chinese.
    A person with no town, a town placed in no district and a tree with one district pass."""
    if town_id is None or user is None:
        return
    from .errors import OUTSIDE_AREA, OutsideArea
    from .hooks import get

    tree = get("area_tree")()  # yfbz.areas.tree.area_tree (core imports no app)
    if town_id not in tree.spans:
        return
    district_id = _user_district(user, tree)
    governing = tree.district_of(town_id, on)
    if district_id is None or governing == district_id:
        return
    other = tree.area(governing)
    raise OutsideArea(
        OUTSIDE_AREA, name=name, on=on, town=tree.towns.get(town_id, ("", "该镇街"))[1],
        there=f"隶属{other.name}" if other else "不属任何区", district=tree.area(district_id).name,
        other=other.name if other else "其所属区", what=what,
    )


def towns_on(user, on) -> Q:
    """The towns (a filter on ``Town``) under the user's district on ``on``, towns placed in no district
    included: the towns a district page offers for a date (a subsidy year's 31 December), not the towns
    that left before it or arrive after it (docs/areas.md)."""
    from .hooks import get

    tree = get("area_tree")()
    district_id = _user_district(user, tree)
    if district_id is None:
        return Q()
    return Q(pk__in=tree.towns_under(district_id, on)) | ~Q(pk__in=list(tree.spans))


def check_visible(user, obj) -> None:
    """Raise PermissionDenied unless `user` may see `obj` (for code paths that start from an object)."""
    model = type(obj)
    if not model._default_manager.filter(pk=obj.pk).filter(scope_q(model, user)).exists():
        raise PermissionDenied("无权查看该记录")


class ScopedAdminMixin:
    """Admin screens for scoped models: the list, the change page, the related-object choices
    and the import-export screens all start from visible_to(request.user)."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(scope_q(self.model, request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if is_scoped(related) and "queryset" not in kwargs:
            kwargs["queryset"] = related.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_export_queryset(self, request):  # django-import-export
        return super().get_export_queryset(request).filter(scope_q(self.model, request.user))
