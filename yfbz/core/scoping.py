"""Row-level scoping: the one door every user-reachable query goes through.

A model that holds people's data declares how it reaches a town and a department:

    class Person(models.Model):
        objects = ScopedManager()

        class Scoping:
            town = "town"                                      # lookup path to a Town
            department = "identities__category__department"    # lookup path to a Department

and every view, export, PDF, search and admin page starts from

    Person.objects.visible_to(request.user)

The rules (docs/roles.md):
- superusers and the district-wide roles (区医保经办, 区医保审核, 财务, 审计, 系统管理员) see all rows;
- a 镇街经办员 sees the rows whose town is their town; rows with no town are not visible;
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

from .roles import Role

NOTHING = Q(pk__in=[])


def scope_q(model: type[models.Model], user) -> Q:
    """The filter that restricts `model` to what `user` may see."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_superuser or user.sees_everything:
        return Q()
    scoping = getattr(model, "Scoping", None)
    if scoping is None:
        return NOTHING
    q = NOTHING
    town_path = getattr(scoping, "town", None)
    if town_path and user.has_role(Role.TOWN_CLERK) and user.town_id:
        # equality with the clerk's town: rows with no town never match
        q |= Q(**{f"{town_path}__id": user.town_id})
    dept_path = getattr(scoping, "department", None)
    if dept_path and user.has_role(Role.DEPT_OFFICER) and user.department_id:
        if "__" in dept_path:
            # multi-valued paths: a subquery keeps rows distinct
            q |= Q(pk__in=model._base_manager.filter(**{f"{dept_path}__id": user.department_id}).values("pk"))
        else:
            q |= Q(**{f"{dept_path}_id": user.department_id})
    return q


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(scope_q(self.model, user))

    def get_visible_or_404(self, user, **lookup):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(self.visible_to(user), **lookup)


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass


def is_scoped(model) -> bool:
    return isinstance(getattr(model, "objects", None), ScopedManager) and hasattr(model, "Scoping")


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
