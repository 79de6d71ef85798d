from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "full_name", "town", "department", "is_active", "role_names")
    list_filter = ("groups", "town", "department", "is_active")
    list_select_related = ("town", "department")
    fieldsets = UserAdmin.fieldsets + (("岗位", {"fields": ("full_name", "town", "department")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("岗位", {"fields": ("full_name", "town", "department", "groups")}),)

    @admin.display(description="角色")
    def role_names(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
