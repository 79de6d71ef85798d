from django.contrib import admin

from yfbz.core.adminlock import HistoryInline, ReadOnlyAdmin, ReferenceAdmin
from yfbz.core.scoping import ScopedAdminMixin

from .models import (
    Alert,
    AlertStatusChange,
    Application,
    ApplicationStatusChange,
    BurdenThreshold,
    DeadlineRule,
    DisposableIncome,
    HighCostImport,
    HighCostRow,
    PersonYearBurden,
    SelfPayMonth,
)

POLICY_REASON = "监测预警标准：带生效日期的政策数据（暂行，待区医保局确认），已生效的记录不能修改（更正为新增一条更晚生效的记录）"


@admin.register(BurdenThreshold)
class BurdenThresholdAdmin(ReferenceAdmin):
    editable_because = POLICY_REASON
    list_display = ("alert", "amount", "income_share", "status", "effective_from", "source")
    list_filter = ("alert", "status")


@admin.register(DisposableIncome)
class DisposableIncomeAdmin(ReferenceAdmin):
    editable_because = POLICY_REASON
    list_display = ("year", "amount", "status", "effective_from", "source")


@admin.register(HighCostImport)
class HighCostImportAdmin(ReadOnlyAdmin):
    list_display = ("month", "file_name", "rows", "valid", "invalid", "duplicates", "people", "imported_by", "imported_at")


@admin.register(HighCostRow)
class HighCostRowAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("settlement_no", "name", "town", "settled_on", "total_cost", "burden", "assistance_paid", "engine_assistance")
    list_select_related = ("town",)


@admin.register(PersonYearBurden)
class PersonYearBurdenAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("name", "year", "town", "burden", "self_pay_before", "self_pay_after")
    list_select_related = ("town",)


@admin.register(SelfPayMonth)
class SelfPayMonthAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("year", "month", "category", "town", "settlements", "in_policy_cost", "self_pay_before", "self_pay_after")
    list_select_related = ("town",)


@admin.register(Alert)
class AlertAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("kind", "name", "town", "year", "burden", "expected", "status", "due_on")
    list_filter = ("kind", "status")
    list_select_related = ("town",)
    inlines = [HistoryInline.of(AlertStatusChange)]


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(ReferenceAdmin):
    editable_because = "办理时限：带生效日期的政策数据（暂行，待区医保局确认），已生效的记录不能修改（更正为新增一条更晚生效的记录）"
    list_display = ("step", "working_days", "status", "effective_from", "source")


@admin.register(Application)
class ApplicationAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("person", "town", "status", "registered_on", "settled_on", "total_cost", "due_on")
    list_filter = ("status",)
    list_select_related = ("person", "town")
    inlines = [HistoryInline.of(ApplicationStatusChange)]
