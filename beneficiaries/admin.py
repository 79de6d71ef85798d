"""Reference data (towns, departments, categories, category wordings) is edited here by the system
administrator; people, identities and rosters are shown read-only: they change only through rosters
and identity corrections (docs/security.md)."""

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from yfbz.core.adminlock import HistoryInline, ReadOnlyAdmin, ReadOnlyInline, ReferenceAdmin
from yfbz.core.scoping import ScopedAdminMixin

from .models import (
    Category,
    CategoryAlias,
    Department,
    Identity,
    IdentityCorrection,
    IdentityCorrectionStatusChange,
    Person,
    RetroactiveChange,
    RetroactiveChangeStatusChange,
    RosterRow,
    RosterStatusChange,
    RosterUpload,
    Town,
)
from .resources import CategoryAliasResource, TownResource

REFERENCE = "参考数据：镇街、部门、身份类别和类别写法不属于任何业务流程，由系统管理员维护"


@admin.register(Town)
class TownAdmin(ReferenceAdmin, ImportExportModelAdmin):
    editable_because = REFERENCE
    resource_classes = [TownResource]
    list_display = ("code", "name", "kind", "active")
    search_fields = ("code", "name")

    def has_import_permission(self, request):
        return False  # towns arrive through 区划 → 导入镇街 (the one reader; a town under its district from a date)


@admin.register(Department)
class DepartmentAdmin(ReferenceAdmin):
    editable_because = REFERENCE
    list_display = ("code", "name")


class AliasInline(admin.TabularInline):
    model = CategoryAlias
    extra = 1


@admin.register(Category)
class CategoryAdmin(ReferenceAdmin):
    editable_because = REFERENCE
    list_display = ("code", "name", "department", "youfu")
    list_filter = ("department", "youfu")
    list_select_related = ("department",)
    inlines = [AliasInline]


@admin.register(CategoryAlias)
class CategoryAliasAdmin(ReferenceAdmin, ImportExportModelAdmin):
    editable_because = REFERENCE
    resource_classes = [CategoryAliasResource]
    list_display = ("wording", "category", "department")
    list_filter = ("department",)
    search_fields = ("wording", "category__code", "category__name")
    list_select_related = ("category", "department")
    change_list_template = "admin/beneficiaries/categoryalias/change_list.html"

    def has_import_permission(self, request):
        return False  # one door for files: 从文件导入 (the one reader: title rows, header wordings, row numbers)

    def get_urls(self):
        from django.urls import path

        return [
            path("import-file/", self.admin_site.admin_view(self.import_file_view),
                 name="beneficiaries_categoryalias_import_file"),
            *super().get_urls(),
        ]

    def import_file_view(self, request):
        from django import forms
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import redirect
        from django.template.response import TemplateResponse

        from yfbz.core.uploads import DataFileField
        from yfbz.files.formats import CATEGORY_ALIASES
        from yfbz.files.reader import describe

        from .aliases import AliasImportError, category_aliases_import

        if not self.may_edit(request):
            raise PermissionDenied

        class ImportFileForm(forms.Form):
            file = DataFileField(label="类别写法文件", kind="reference")

        form = ImportFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = category_aliases_import(data=form.cleaned_data["file"].read(), user=request.user)
            except AliasImportError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已导入类别写法：新增{done.added}个，更新{done.updated}个。{describe(done.reading)}")
                return redirect("admin:beneficiaries_categoryalias_changelist")
        return TemplateResponse(request, "admin/beneficiaries/categoryalias/import_file.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "title": "从文件导入类别写法",
            "columns": CATEGORY_ALIASES.columns,
        })


class IdentityInline(ReadOnlyInline, admin.TabularInline):
    model = Identity
    fields = ("category", "valid_from", "valid_to", "source", "source_ref")
    readonly_fields = fields


# People and identities: made by rosters and identity corrections only (a person with no town and a
# DIBAO identity typed in here was paid once: issue 9, finding 2). No export here: the people page's
# export is the one door, masked unless full numbers are asked for on purpose and recorded.
@admin.register(Person)
class PersonAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("name", "masked_id", "town", "village", "sex", "birth_date")
    list_filter = ("town",)
    list_select_related = ("town",)
    search_fields = ("name", "=id_number")
    inlines = [IdentityInline]
    exclude = ("id_number", "phone")
    readonly_fields = ("masked_id", "masked_phone")

    @admin.display(description="公民身份号码")
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description="联系电话")
    def masked_phone(self, obj):
        return obj.masked_phone


@admin.register(Identity)
class IdentityAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("person", "category", "valid_from", "valid_to", "source", "source_ref")
    list_filter = ("category__department", "category")
    list_select_related = ("person", "category")
    raw_id_fields = ("person",)


# --- rosters: read-only screens; changes go through the roster pages and services -------------------
@admin.register(RosterUpload)
class RosterUploadAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("pk", "department", "month", "mode", "status", "rows_total", "rows_invalid", "count_new", "count_ended", "uploaded_by", "uploaded_at")
    list_filter = ("department", "status", "mode")
    list_select_related = ("department", "uploaded_by")
    inlines = [HistoryInline.of(RosterStatusChange)]
    actions = ["revalidate"]
    show_full_result_count = False

    @admin.action(description="重新校验所选名单（补充类别写法后）", permissions=["view"])
    def revalidate(self, request, queryset):
        from django.core.exceptions import PermissionDenied, ValidationError

        from yfbz.core.errors import YfbzError

        from .services import roster_revalidate

        done = 0
        for upload in queryset:
            try:
                roster_revalidate(upload=upload, user=request.user)
                done += 1
            except (ValidationError, PermissionDenied, YfbzError) as exc:
                self.message_user(request, f"名单{upload.pk}：{exc}", level="error")
        self.message_user(request, f"已开始重新校验{done}份名单")


@admin.register(RosterRow)
class RosterRowAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("upload", "row_number", "name", "masked_id", "category", "town", "outcome", "review")
    list_filter = ("outcome", "review")
    list_select_related = ("upload", "upload__department", "category", "town")
    search_fields = ("name", "=id_number")
    exclude = ("id_number", "phone", "cells")  # full numbers only on purpose, through the roster page
    readonly_fields = ("masked_id",)

    @admin.display(description="公民身份号码")
    def masked_id(self, obj):
        from yfbz.core.pii import mask

        return mask(obj.id_number)
    show_full_result_count = False


@admin.register(RetroactiveChange)
class RetroactiveChangeAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("person", "category", "kind", "period_start", "period_end", "status", "decisions_reached",
                    "lines_reached", "roster_upload", "reviewed_at")
    list_filter = ("status", "kind", "category")
    inlines = [HistoryInline.of(RetroactiveChangeStatusChange)]
    list_select_related = ("person", "category", "roster_upload", "roster_upload__department", "correction")
    raw_id_fields = ("person",)
    show_full_result_count = False



@admin.register(IdentityCorrection)
class IdentityCorrectionAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    """Shown only: corrections are proposed and confirmed on the person page (beneficiaries.corrections)."""

    list_display = ("pk", "person", "action", "category", "valid_from", "valid_to", "status", "proposed_by", "decided_by")
    list_filter = ("status", "action")
    list_select_related = ("person", "category", "proposed_by", "decided_by")
    raw_id_fields = ("person", "identity")
    inlines = [HistoryInline.of(IdentityCorrectionStatusChange)]
