"""Thin admin: institutions are edited and imported here; bills, decisions, caps and settlement
lines are shown read-only (their changes go through the claims pages and services)."""

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from yfbz.core.scoping import ScopedAdminMixin

from .models import (
    Adjustment,
    Bill,
    BillStatusChange,
    CapUsage,
    Decision,
    Institution,
    Notice,
    NoticePrint,
    SettlementFile,
    SettlementLine,
    SettlementMonth,
)
from .resources import InstitutionResource


@admin.register(Institution)
class InstitutionAdmin(ImportExportModelAdmin):
    resource_classes = [InstitutionResource]
    list_display = ("code", "name", "level", "in_city", "networked", "active")
    list_filter = ("level", "in_city", "networked", "active")
    search_fields = ("code", "name")


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = BillStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "by", "at", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("pk", "person", "institution", "kind", "settled_on", "in_policy_cost", "status")
    list_filter = ("status", "kind", "institution")
    list_select_related = ("person", "institution")
    search_fields = ("person__name", "=person__id_number")
    inlines = [StatusChangeInline]
    exclude = ()


@admin.register(Decision)
class DecisionAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("pk", "bill", "person", "scheme", "category", "assistance", "youfu_subsidy", "is_current", "provisional")
    list_filter = ("scheme", "is_current", "provisional", "year")
    list_select_related = ("bill", "person")
    search_fields = ("person__name", "=person__id_number")


@admin.register(CapUsage)
class CapUsageAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("person", "year", "scheme", "used", "updated_at")
    list_filter = ("year", "scheme")
    list_select_related = ("person",)
    search_fields = ("=person__id_number",)


@admin.register(Adjustment)
class AdjustmentAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("decision", "person", "fund", "kind", "amount", "receivable_ref", "created_at")
    list_select_related = ("decision", "person")


@admin.register(Notice)
class NoticeAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("doc_number", "kind", "decision", "issued_on")
    search_fields = ("doc_number",)


@admin.register(NoticePrint)
class NoticePrintAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("notice", "by", "at", "reprint", "batch")
    list_select_related = ("notice", "by")


@admin.register(SettlementMonth)
class SettlementMonthAdmin(ReadOnlyAdmin):
    list_display = ("institution", "month", "status", "agreed_total", "paid_on")
    list_filter = ("status",)
    list_select_related = ("institution",)


@admin.register(SettlementFile)
class SettlementFileAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "settlement_month", "status", "lines_total", "lines_agreed", "lines_disputed", "agreed_total")
    exclude = ("data",)


@admin.register(SettlementLine)
class SettlementLineAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("settlement_no", "name", "settled_on", "advanced", "decided", "outcome", "dispute", "resolution")
    list_filter = ("outcome", "dispute", "resolution")
    list_select_related = ("institution",)
    search_fields = ("settlement_no", "=id_number")
