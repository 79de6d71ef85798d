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
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
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


class StaffCreationForm(_DutiesMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
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
        ("岗位", {"fields": ("full_name", "town", "department", "district", "email")}),
        ("角色与状态", {"fields": ("is_active", "is_staff", "groups", "is_superuser", "user_permissions")}),
        ("时间", {"fields": ("last_login", "date_joined", "password_changed_at")}),
    )
    add_fieldsets = UserAdmin.add_fieldsets + (("岗位", {"fields": ("full_name", "town", "department", "district", "groups")}),)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":  # roles as plain checkboxes, in Chinese (no script widget)
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

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

    def save_model(self, request, obj, form, change):
        if not change:
            obj.password_changed_at = None  # a password someone else chose: changed at the first login
        super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and str(request.user.pk) != str(id):
            # reset by the security administrator: the person sets their own at the next login
            User.objects.filter(pk=id).update(password_changed_at=None)
        return response


# --- login throttling and second factors: the security administrator unlocks and resets --------------
def _unlock_and_reset_admins():
    from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .audit import audit_bulk

    def keeps_accounts(request):
        u = request.user
        return bool(u.is_active and (u.is_superuser or u.has_role(Role.SECURITY_ADMIN)))

    for model in (AccessAttempt, AccessLog, AccessFailureLog, TOTPDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
    # the third-party apps' names as staff read them
    from django.apps import apps

    apps.get_app_config("axes").verbose_name = "登录锁定"
    apps.get_app_config("otp_totp").verbose_name = "动态口令"
    for model, name in ((AccessAttempt, "登录失败（计入锁定）"), (AccessLog, "登录记录"), (AccessFailureLog, "登录失败记录"),
                        (TOTPDevice, "动态口令设备")):
        model._meta.verbose_name = model._meta.verbose_name_plural = name

    @admin.register(AccessAttempt)
    class LockoutAdmin(ReadOnlyAdmin, AccessAttemptAdmin):
        """Failed logins that count toward a lock; deleting one unlocks (解锁) that account or address."""

        editable_because = "解锁：删除失败登录记录即解除锁定，只有安全管理员可以操作，并记入审计日志"
        actions = ["unlock"]

        def has_delete_permission(self, request, obj=None):
            return keeps_accounts(request)

        @admin.action(description="解除所选账号/地址的登录锁定", permissions=["delete"])
        def unlock(self, request, queryset):
            names = [f"{a.username or '—'}@{a.ip_address}" for a in queryset]
            queryset.delete()
            audit_bulk(actor=request.user, what="解除登录锁定", summary={"账号@地址": "、".join(names)}, model=AccessAttempt)
            self.message_user(request, f"已解除锁定：{'、'.join(names)}")

    @admin.register(AccessLog)
    class LoginLogAdmin(ReadOnlyAdmin, AccessLogAdmin):
        pass

    @admin.register(AccessFailureLog)
    class LoginFailureAdmin(ReadOnlyAdmin, AccessFailureLogAdmin):
        pass

    @admin.register(TOTPDevice)
    class SecondFactorAdmin(ReadOnlyAdmin, TOTPDeviceAdmin):
        """A member of staff's phone; deleting it (重置) lets them enrol a new one at the next login."""

        editable_because = "重置动态口令设备（手机丢失或更换）：只有安全管理员可以删除，本人下次登录时重新绑定，记入审计日志"
        list_display = ("user", "name", "confirmed")
        fields = ("user", "name", "confirmed")
        readonly_fields = fields

        def has_delete_permission(self, request, obj=None):
            return keeps_accounts(request)

        def get_fieldsets(self, request, obj=None):
            return [(None, {"fields": self.fields})]

        def delete_model(self, request, obj):
            audit_bulk(actor=request.user, what="重置动态口令设备", summary={"工作人员": obj.user.username}, model=TOTPDevice)
            super().delete_model(request, obj)

        def delete_queryset(self, request, queryset):
            for obj in queryset:
                self.delete_model(request, obj)


_unlock_and_reset_admins()


# Roles are defined in yfbz/core/roles.py and re-applied after every migrate: the groups are shown,
# never edited here (an edit would silently come back at the next deployment).
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdmin, GroupAdmin):
    pass


# --- the beat schedule (django-celery-beat): data the system administrator may adjust ---------------
def _lock_beat_admin():
    from django_celery_beat import admin as beat_admin
    from django_celery_beat import models as beat

    from .adminlock import ReferenceAdmin

    because = "定时任务的运行时间是数据（django-celery-beat）：系统管理员可调整每晚账目核对等任务的时间"
    for model, base in ((beat.PeriodicTask, beat_admin.PeriodicTaskAdmin), (beat.CrontabSchedule, beat_admin.CrontabScheduleAdmin),
                        (beat.IntervalSchedule, admin.ModelAdmin), (beat.SolarSchedule, admin.ModelAdmin),
                        (beat.ClockedSchedule, beat_admin.ClockedScheduleAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, type(f"Locked{model.__name__}Admin", (ReferenceAdmin, base), {"editable_because": because}))


_lock_beat_admin()


# --- the audit trail in the admin: the same words as /audit/ (yfbz.core.display) -----------------------
def _audit_trail_admin():
    from auditlog.models import LogEntry
    from django.utils.html import format_html, format_html_join

    from . import display

    if admin.site.is_registered(LogEntry):
        admin.site.unregister(LogEntry)  # django-auditlog's own admin speaks English and shows raw JSON

    class ActionFilter(admin.SimpleListFilter):
        title = "动作"
        parameter_name = "action"

        def lookups(self, request, model_admin):
            return [(str(k), v) for k, v in display.AUDIT_ACTIONS.items()]

        def queryset(self, request, queryset):
            return queryset.filter(action=int(self.value())) if self.value() in {str(k) for k in display.AUDIT_ACTIONS} else queryset

    @admin.register(LogEntry)
    class AuditTrailAdmin(ReadOnlyAdmin):
        """Read only, append-only: the trail as the auditor reads it on /audit/."""

        list_display = ("when", "who", "what", "kind", "about", "summary")
        list_select_related = ("content_type", "actor")
        list_filter = (ActionFilter,)
        search_fields = ("object_repr",)
        date_hierarchy = "timestamp"
        fields = ("when", "who", "what", "kind", "about", "changes_in_words", "address")
        readonly_fields = fields

        @admin.display(description="时间", ordering="timestamp")
        def when(self, obj):
            from django.utils import timezone

            return timezone.localtime(obj.timestamp).strftime("%Y-%m-%d %H:%M:%S")

        @admin.display(description="操作人")
        def who(self, obj):
            return str(obj.actor) if obj.actor else "系统"

        @admin.display(description="动作")
        def what(self, obj):
            return display.AUDIT_ACTIONS.get(obj.action, str(obj.action))

        @admin.display(description="对象类型")
        def kind(self, obj):
            return obj.content_type.name if obj.content_type_id else "—"

        @admin.display(description="对象")
        def about(self, obj):
            return display.audit_object(obj)

        @admin.display(description="IP地址")
        def address(self, obj):
            return obj.remote_addr or "—"

        @admin.display(description="变更摘要")
        def summary(self, obj):
            # the fields by name only: the values (auditlog's display dict, a date parsed per field, a
            # related object named) are read on the entry's own page (issue 14: 100 entries a page)
            names = display.audit_change_names(obj)
            return f"{len(names)}项：{'、'.join(names[:6])}{'等' if len(names) > 6 else ''}" if names else "—"

        @admin.display(description="变更（前 → 后）")
        def changes_in_words(self, obj):
            rows = display.audit_changes(obj)
            if not rows:
                return "—"
            return format_html('<table class="audit-changes">{}</table>', format_html_join(
                "", "<tr><th>{}</th><td>{}</td><td>→</td><td>{}</td></tr>", rows))


_audit_trail_admin()
