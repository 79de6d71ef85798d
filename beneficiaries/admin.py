from django.contrib import admin
from import_export.admin import ExportMixin, ImportExportModelAdmin

from yfbz.core.scoping import ScopedAdminMixin

from .models import (
    Category,
    CategoryAlias,
    Department,
    Identity,
    Person,
    RetroactiveChange,
    RosterRow,
    RosterStatusChange,
    RosterUpload,
    Town,
)
from .resources import CategoryAliasResource, PersonResource, TownResource


@admin.register(Town)
class TownAdmin(ImportExportModelAdmin):
    resource_classes = [TownResource]
    list_display = ("code", "name", "kind", "active")
    search_fields = ("code", "name")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


class AliasInline(admin.TabularInline):
    model = CategoryAlias
    extra = 1


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "youfu")
    list_filter = ("department", "youfu")
    list_select_related = ("department",)
    inlines = [AliasInline]


@admin.register(CategoryAlias)
class CategoryAliasAdmin(ImportExportModelAdmin):
    resource_classes = [CategoryAliasResource]
    list_display = ("wording", "category", "department")
    list_filter = ("department",)
    search_fields = ("wording", "category__code", "category__name")
    list_select_related = ("category", "department")


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("category", "valid_from", "valid_to")


@admin.register(Person)
class PersonAdmin(ScopedAdminMixin, ExportMixin, admin.ModelAdmin):
    resource_classes = [PersonResource]
    list_display = ("name", "masked_id", "town", "village", "sex", "birth_date")
    list_filter = ("town",)
    list_select_related = ("town",)
    search_fields = ("name", "=id_number")
    inlines = [IdentityInline]
    show_full_result_count = False

    @admin.display(description="公民身份号码")
    def masked_id(self, obj):
        return obj.masked_id_number


@admin.register(Identity)
class IdentityAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("person", "category", "valid_from", "valid_to")
    list_filter = ("category__department", "category")
    list_select_related = ("person", "category")
    raw_id_fields = ("person",)
    show_full_result_count = False


# --- rosters: read-only screens; changes go through the roster pages and services -------------------
class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = RosterStatusChange
    extra = 0
    fields = ("at", "by", "from_status", "to_status", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RosterUpload)
class RosterUploadAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "department", "month", "mode", "status", "rows_total", "rows_invalid", "count_new", "count_ended", "uploaded_by", "uploaded_at")
    list_filter = ("department", "status", "mode")
    list_select_related = ("department", "uploaded_by")
    inlines = [StatusChangeInline]
    actions = ["revalidate"]
    show_full_result_count = False

    @admin.action(description="重新校验所选名单（补充类别写法后）", permissions=["view"])
    def revalidate(self, request, queryset):
        from django.core.exceptions import PermissionDenied, ValidationError

        from .services import roster_revalidate

        done = 0
        for upload in queryset:
            try:
                roster_revalidate(upload=upload, user=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"名单{upload.pk}：{exc}", level="error")
        self.message_user(request, f"已开始重新校验{done}份名单")


@admin.register(RosterRow)
class RosterRowAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("upload", "row_number", "name", "category", "town", "outcome", "review")
    list_filter = ("outcome", "review")
    list_select_related = ("upload", "upload__department", "category", "town")
    search_fields = ("name", "=id_number")
    show_full_result_count = False


@admin.register(RetroactiveChange)
class RetroactiveChangeAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("person", "category", "kind", "period_start", "period_end", "roster_upload", "reviewed_at")
    list_filter = ("kind", "category")
    list_select_related = ("person", "category", "roster_upload", "roster_upload__department")
    raw_id_fields = ("person",)
    show_full_result_count = False
