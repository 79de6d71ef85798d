from django.contrib import admin
from import_export.admin import ExportMixin, ImportExportModelAdmin

from yfbz.core.scoping import ScopedAdminMixin

from .models import Category, CategoryAlias, Department, Identity, Person, Town
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
