"""Rules about staff accounts that hold wherever an account is changed (admin, shell, commands).

三权分立: 系统管理员 (reference data and policy), 安全管理员 (staff accounts and roles) and 审计 (the
audit trail) are held by different people. The admin form checks it with a message; the
``m2m_changed`` guard below refuses it for any other door as well.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from .roles import SEPARATED_DUTIES


class DutiesConflict(ValidationError):
    pass


def check_duties(role_names: set[str]) -> None:
    held = [duty for duty in SEPARATED_DUTIES if role_names & {r.value for r in duty}]
    if len(held) > 1:
        names = "、".join(next(iter(d)).value for d in held)
        raise DutiesConflict(f"三权分立：{names}不能由同一人兼任，请只保留其中一个角色。")


def _guard_groups(sender, instance, action, pk_set, **kwargs):
    from django.contrib.auth.models import Group

    from .models import User

    if action != "pre_add" or not isinstance(instance, User) or not pk_set:
        return
    names = set(instance.groups.values_list("name", flat=True)) | set(
        Group.objects.filter(pk__in=pk_set).values_list("name", flat=True)
    )
    check_duties(names)
    instance._roles_cache = None


def connect():
    from .models import User

    receiver(m2m_changed, sender=User.groups.through, dispatch_uid="yfbz-duties")(_guard_groups)
