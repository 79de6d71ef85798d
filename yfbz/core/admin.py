"""Staff accounts: kept by the security administrator (安全管理员), never by the person themself.

- Only a superuser or a 安全管理员 adds, changes or deletes accounts; the auditor reads them.
- ``is_superuser`` and direct permissions are never editable here (superusers are made with
  ``createsuperuser`` on the server; roles are groups); nobody changes their own roles, staff flag
  or active flag, and a non-superuser cannot touch a superuser's account (or its password).
- 系统管理员, 安全管理员 and 审计 are never held by one person (三权分立, ``accounts.check_duties``).
- Every role change is an audit entry (django-auditlog tracks ``groups``) with who made it.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group

from .accounts import DutiesConflict, check_duties
from .adminlock import ReadOnlyAdmin
from .models import User
from .roles import Role


class _DutiesMixin:
    def clean(self):
        data = super().clean()
        groups = data.get("groups")
        if groups is not None:
            try:
                check_duties({g.name for g in groups})
            except DutiesConflict as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


class StaffChangeForm(_DutiesMixin, UserChangeForm):
    pass


class StaffCreationForm(_DutiesMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


# never editable in the admin, by anyone
ALWAYS_READ_ONLY = ("is_superuser", "user_permissions", "last_login", "date_joined", "password_changed_at")
# never editable on one's own account
SELF_READ_ONLY = ("is_staff", "is_active", "groups")


@admin.register(User)
class StaffAdmin(UserAdmin):
    editable_because = "工作人员账号和角色：由安全管理员维护（本人不能改自己的角色，超级用户只能在服务器命令行创建），每次变更记入审计日志"
    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = ("username", "full_name", "town", "department", "is_active", "role_names")
    list_filter = ("groups", "town", "department", "is_active")
    list_select_related = ("town", "department")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("岗位", {"fields": ("full_name", "town", "department", "email")}),
        ("角色与状态", {"fields": ("is_active", "is_staff", "groups", "is_superuser", "user_permissions")}),
        ("时间", {"fields": ("last_login", "date_joined", "password_changed_at")}),
    )
    add_fieldsets = UserAdmin.add_fieldsets + (("岗位", {"fields": ("full_name", "town", "department", "groups")}),)
    filter_horizontal = ("groups",)

    @admin.display(description="角色")
    def role_names(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @staticmethod
    def _keeps_accounts(request) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or user.has_role(Role.SECURITY_ADMIN)))

    def _may_touch(self, request, obj) -> bool:
        if not self._keeps_accounts(request):
            return False
        # a superuser's account (and so its password) only by a superuser
        return obj is None or not obj.is_superuser or request.user.is_superuser

    def has_add_permission(self, request):
        return self._keeps_accounts(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._may_touch(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.pk == request.user.pk:
            return False
        return self._may_touch(request, obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(ALWAYS_READ_ONLY)
        if obj is not None and obj.pk == request.user.pk:
            fields += SELF_READ_ONLY
        return fields

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets


# Roles are defined in yfbz/core/roles.py and re-applied after every migrate: the groups are shown,
# never edited here (an edit would silently come back at the next deployment).
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdmin, GroupAdmin):
    pass
