"""Thin admin: lists for checking, the year settings and budgets; money moves only through services."""

from django.contrib import admin

from yfbz.core.adminlock import HistoryInline, ReadOnlyAdmin, ReadOnlyInline, ReferenceAdmin
from yfbz.core.roles import Role
from yfbz.core.scoping import ScopedAdminMixin

from . import models


@admin.register(models.Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "fund")


class JournalLineInline(ReadOnlyInline, admin.TabularInline):
    model = models.JournalLine
    readonly_fields = ("account", "amount")


@admin.register(models.JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("number", "date", "kind", "fund", "counterpart", "source_document", "entered_by", "approved_by")
    list_filter = ("kind", "fund")
    search_fields = ("number", "source_document", "description")
    list_select_related = ("counterpart", "entered_by", "approved_by")
    inlines = [JournalLineInline]
    show_full_result_count = False


@admin.register(models.Period)
class PeriodAdmin(ReadOnlyAdmin):
    list_display = ("year", "month", "closed_at", "closed_by")


@admin.register(models.SubsidyYear)
class SubsidyYearAdmin(ReferenceAdmin):
    editable_because = "年度设置（自行缴费报送截止日）：政策性数据，不属于任何业务流程"
    list_display = ("year", "self_paid_deadline")


@admin.register(models.YoufuBudget)
class YoufuBudgetAdmin(ReferenceAdmin):
    editable_because = "优抚资金年度预算：政策性数据，只用于预算执行报表，不动用资金"
    list_display = ("year", "amount")


@admin.register(models.SubsidyRun)
class SubsidyRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "year", "status", "progress_done", "progress_total", "count_eligible", "total_amount", "started_by")
    inlines = [HistoryInline.of(models.SubsidyRunStatusChange)]


# enrolment changes through its import and the subsidy page's edit form (which records who)
@admin.register(models.Enrolment)
class EnrolmentAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("person", "year", "kind", "self_paid", "source")
    list_filter = ("year", "kind", "self_paid")
    search_fields = ("person__name", "=person__id_number")
    list_select_related = ("person",)


@admin.register(models.SubsidyRoute)
class SubsidyRouteAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("person", "year", "route", "report", "settlement", "created_at")
    list_filter = ("year", "route")
    search_fields = ("person__name", "=person__id_number")
    list_select_related = ("person",)


@admin.register(models.SubsidyResult)
class SubsidyResultAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("person", "year", "enrolment", "category", "group_zh", "amount", "provisional")
    list_filter = ("year", "enrolment", "category")
    search_fields = ("person__name", "=person__id_number")
    list_select_related = ("person",)
    show_full_result_count = False
    exclude = ("reasons", "group")  # codes: shown in words below
    readonly_fields = ("reasons_zh", "group_zh")

    @admin.display(description="原因")
    def reasons_zh(self, obj):
        from yfbz.core.display import reasons

        return reasons(obj.reasons)

    @admin.display(description="资助档次")
    def group_zh(self, obj):
        from yfbz.core.display import label

        return label(obj.group, "group")


@admin.register(models.SubsidyChange)
class SubsidyChangeAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("run", "person", "old_category", "old_amount", "new_category", "new_amount")
    list_select_related = ("person", "run")


@admin.register(models.LateReportPermission)
class LateReportPermissionAdmin(ScopedAdminMixin, ReferenceAdmin):
    edit_roles = frozenset({Role.DISTRICT_CLERK})
    editable_because = "区医保经办准许某镇街逾期报送自行缴费名单：只放宽报送期限，报送的名单仍须审核确认"
    list_display = ("town", "year", "until", "reason", "granted_by", "granted_at")
    readonly_fields = ("granted_by",)

    def save_model(self, request, obj, form, change):
        obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(models.SelfPaidReport)
class SelfPaidReportAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("person", "year", "town", "enrolment", "amount", "status", "reported_by", "decided_by")
    list_filter = ("year", "status", "town")
    list_select_related = ("person", "town", "reported_by", "decided_by")
    inlines = [HistoryInline.of(models.SelfPaidReportStatusChange)]


@admin.register(models.FundRequest)
class FundRequestAdmin(ReadOnlyAdmin):
    list_display = ("number", "year", "month", "status", "total_assistance", "total_youfu", "line_count", "created_by", "approved_by")


@admin.register(models.PayableLine)
class PayableLineAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("source_key", "payee_name", "fund", "spending", "scheme", "town", "amount", "status")
    list_filter = ("fund", "spending", "status")
    search_fields = ("source_key", "payee_name")
    list_select_related = ("town",)
    show_full_result_count = False
    inlines = [HistoryInline.of(models.PayableLineStatusChange)]


@admin.register(models.PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ("number", "fund", "status", "total", "created_by", "confirmed_by", "paid_on")
    inlines = [HistoryInline.of(models.PaymentBatchStatusChange)]


@admin.register(models.Payment)
class PaymentAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("pk", "batch", "line", "amount", "status", "failure_reason")
    list_select_related = ("batch", "line")
    show_full_result_count = False
    inlines = [HistoryInline.of(models.PaymentStatusChange)]


@admin.register(models.WithdrawnFunds)
class WithdrawnFundsAdmin(ReadOnlyAdmin):
    list_display = ("line", "request", "amount", "status", "applied_to", "entry", "created_at")
    list_filter = ("status",)
    inlines = [HistoryInline.of(models.WithdrawnFundsStatusChange)]


@admin.register(models.Receivable)
class ReceivableAdmin(ReadOnlyAdmin):
    list_display = ("source_key", "debtor_name", "fund", "amount", "recovered", "status", "opened_by")
    list_filter = ("fund", "status")
    inlines = [HistoryInline.of(models.ReceivableStatusChange)]


@admin.register(models.EntryProposal)
class EntryProposalAdmin(ReadOnlyAdmin):
    list_display = ("kind", "account", "counterpart", "amount", "on", "status", "proposed_by", "decided_by")
    list_filter = ("status", "kind")
    inlines = [HistoryInline.of(models.EntryProposalStatusChange)]


@admin.register(models.TaxListSettlement)
class TaxListSettlementAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("year", "town", "people", "amount", "payee_name", "confirmed_by", "confirmed_on", "paid")
    list_filter = ("year", "paid")


@admin.register(models.TaxCategoryWording)
class TaxCategoryWordingAdmin(ReferenceAdmin):
    editable_because = "参考数据：税务代缴明细中“代缴类别”的写法对应本系统的身份类别（类别名称和名单的类别写法无需添加）"
    list_display = ("wording", "category", "note")
    search_fields = ("wording",)
    autocomplete_fields = ()


@admin.register(models.TaxReconciliation)
class TaxReconciliationAdmin(ReadOnlyAdmin):
    list_display = ("id", "year", "file_name", "status", "rows", "agreed_total", "uploaded_by", "uploaded_at")
    inlines = [HistoryInline.of(models.TaxReconciliationStatusChange)]
