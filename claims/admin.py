"""Thin admin: institutions are edited and imported here (their bank account only through a
confirmed change, maker ≠ checker); bills, decisions, caps and settlement lines are shown read-only
(their changes go through the claims pages and services)."""

from django.contrib import admin, messages
from import_export.admin import ImportExportModelAdmin

from yfbz.core.adminlock import HistoryInline, ReadOnlyAdmin, ReferenceAdmin
from yfbz.core.roles import Role
from yfbz.core.scoping import ScopedAdminMixin

from .models import (
    Adjustment,
    Bill,
    BillStatusChange,
    CapUsage,
    Decision,
    Institution,
    InstitutionBankChange,
    Notice,
    NoticePrint,
    SettlementFile,
    SettlementFileStatusChange,
    SettlementLine,
    SettlementMonth,
)
from .resources import InstitutionResource


@admin.register(Institution)
class InstitutionAdmin(ReferenceAdmin, ImportExportModelAdmin):
    editable_because = "参考数据：机构名称、等级和联网情况；银行账号只能通过“机构银行账号变更”经另一人确认后生效"
    resource_classes = [InstitutionResource]
    list_display = ("code", "name", "level", "in_city", "networked", "designated", "designated_from", "designated_to", "active")
    list_filter = ("level", "in_city", "networked", "designated", "active")
    search_fields = ("code", "name")
    readonly_fields = ("bank_name", "bank_account")
    change_list_template = "admin/claims/institution/change_list.html"

    def has_import_permission(self, request):
        return False  # one door for files: 从文件导入 (the one reader: title rows, header wordings, row numbers)

    def get_changeform_initial_data(self, request):
        # 一站式结算 links here for an institution its file named but we do not know (name, code)
        initial = super().get_changeform_initial_data(request)
        return {k: v for k, v in initial.items() if k in ("name", "code")}

    def get_urls(self):
        from django.urls import path

        return [
            path("import-file/", self.admin_site.admin_view(self.import_file_view), name="claims_institution_import_file"),
            *super().get_urls(),
        ]

    def import_file_view(self, request):
        from django import forms
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import redirect
        from django.template.response import TemplateResponse

        from yfbz.core.uploads import DataFileField
        from yfbz.files.reader import describe

        from .institutions import institutions_import
        from .services import ClaimsError

        if not self.may_edit(request):
            raise PermissionDenied

        class ImportFileForm(forms.Form):
            file = DataFileField(label="机构文件", kind="reference")

        form = ImportFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = institutions_import(data=form.cleaned_data["file"].read(), user=request.user)
            except ClaimsError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已导入定点医药机构：新增{done.added}个，更新{done.updated}个。{describe(done.reading)}")
                return redirect("admin:claims_institution_changelist")
        from yfbz.files.formats import INSTITUTIONS

        return TemplateResponse(request, "admin/claims/institution/import_file.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "title": "从文件导入定点医药机构",
            "columns": INSTITUTIONS.columns,
        })


@admin.register(InstitutionBankChange)
class InstitutionBankChangeAdmin(ReferenceAdmin):
    """A proposed bank account of an institution: money follows it, so it takes effect only when a
    reviewer or finance officer other than the proposer confirms it (claims.services)."""

    editable_because = "变更申请本身（不是账号）：提出后须由另一名审核或财务人员确认才生效"
    list_display = ("institution", "bank_name", "bank_account", "status", "proposed_by", "proposed_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("institution", "proposed_by", "decided_by")
    fields = ("institution", "bank_name", "bank_account", "reason", "document_ref", "status", "proposed_by",
              "decided_by", "decided_at", "decision_note")
    readonly_fields = ("status", "proposed_by", "decided_by", "decided_at", "decision_note")
    actions = ["confirm", "reject"]

    def has_change_permission(self, request, obj=None):
        return False  # a proposal is never edited: propose another

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from .services import institution_bank_propose

        institution_bank_propose(institution=obj.institution, bank_name=obj.bank_name, bank_account=obj.bank_account,
                                 reason=obj.reason, document_ref=obj.document_ref, user=request.user, instance=obj)

    def _decide(self, request, queryset, confirm: bool):
        from .services import ClaimsError, institution_bank_decide

        for change in queryset:
            try:
                institution_bank_decide(change_id=change.pk, user=request.user, confirm=confirm)
                self.message_user(request, f"{change.institution}：已{'确认' if confirm else '退回'}。")
            except ClaimsError as exc:
                self.message_user(request, f"{change.institution}：{exc}", level=messages.ERROR)

    def _may_decide(self, request):
        u = request.user
        return u.is_active and (u.is_superuser or u.has_role(Role.DISTRICT_REVIEWER, Role.FINANCE))

    @admin.action(description="确认所选银行账号变更（不能确认自己提出的）", permissions=["decide"])
    def confirm(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description="退回所选银行账号变更", permissions=["decide"])
    def reject(self, request, queryset):
        self._decide(request, queryset, False)

    def has_decide_permission(self, request):
        return self._may_decide(request)

    def has_view_permission(self, request, obj=None):
        return self._may_decide(request) or self.may_edit(request) or super().has_view_permission(request, obj)


@admin.register(Bill)
class BillAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("pk", "person", "institution", "kind", "settled_on", "in_policy_cost", "status")
    list_filter = ("status", "kind", "institution")
    list_select_related = ("person", "institution")
    search_fields = ("person__name", "=person__id_number")
    inlines = [HistoryInline.of(BillStatusChange)]
    exclude = ()


@admin.register(Decision)
class DecisionAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("pk", "bill", "person", "scheme", "category_zh", "assistance", "youfu_subsidy", "is_current", "provisional")
    list_filter = ("scheme", "is_current", "provisional", "year")
    list_select_related = ("bill", "bill__person", "person")  # str(bill) names its person
    search_fields = ("person__name", "=person__id_number")
    exclude = ("reasons", "group", "category", "youfu_category")  # codes: shown in words below
    readonly_fields = ("reasons_zh", "group_zh", "category_zh", "youfu_category_zh")

    @admin.display(description="适用身份")
    def category_zh(self, obj):
        return category_name(obj.category)

    @admin.display(description="优抚补助身份")
    def youfu_category_zh(self, obj):
        return category_name(obj.youfu_category)

    @admin.display(description="原因")
    def reasons_zh(self, obj):
        from yfbz.core.display import reasons

        return reasons(obj.reasons)

    @admin.display(description="待遇组")
    def group_zh(self, obj):
        from yfbz.core.display import label

        return label(obj.group, "group")


@admin.register(CapUsage)
class CapUsageAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
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
    inlines = [HistoryInline.of(SettlementFileStatusChange)]


def category_name(code: str) -> str:
    from beneficiaries.models import Category

    return Category.name_of(code)


def resolution_label(line) -> str:
    """处理结果 as a reviewer reads it: an agreed line needs none ("—"); a disputed one waits (有异议，待处理) until
    it is resolved. The stored empty resolution is labelled 待处理 by its choices, which on an agreed line
    read as if the line still waited."""
    if line.outcome == SettlementLine.Outcome.AGREED:
        return "—"
    return line.get_resolution_display() if line.resolution else "有异议，待处理"


class ResolutionFilter(admin.SimpleListFilter):
    """处理结果: the disputes still waiting (the partial index settlement_line_dispute_open holds them), or one
    resolution (settlement_line_resolved) — never the agreed lines under 待处理."""

    title = "处理结果"
    parameter_name = "resolution"
    WAITING = "WAITING"

    def lookups(self, request, model_admin):
        R = SettlementLine.Resolution
        return [(self.WAITING, "有异议，待处理")] + [(r.value, r.label) for r in (R.ENGINE, R.ADVANCED, R.NONE)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.WAITING:
            return queryset.filter(outcome=SettlementLine.Outcome.DISPUTED, resolution="")
        if value in {c for c, _ in self.lookup_choices}:
            return queryset.filter(resolution=value)
        return queryset


@admin.register(SettlementLine)
class SettlementLineAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    sortable_by = ()  # a big table: its default order is an index's (yfbz.core.adminlock.YearListFilter)
    list_display = ("settlement_no", "name", "settled_on", "advanced", "decided", "outcome", "dispute", "resolution_zh")
    list_filter = ("outcome", "dispute", ResolutionFilter)
    list_select_related = ("institution",)
    search_fields = ("settlement_no", "=id_number")
    # full numbers only on purpose; reason codes in words below; the resolution as the reviewer reads it
    exclude = ("id_number", "reasons", "resolution", "category")
    readonly_fields = ("masked_id", "reasons_zh", "resolution_zh", "category_zh")

    @admin.display(description="适用身份")
    def category_zh(self, obj):
        return category_name(obj.category)

    @admin.display(description="处理结果")
    def resolution_zh(self, obj):
        return resolution_label(obj)

    @admin.display(description="原因")
    def reasons_zh(self, obj):
        from yfbz.core.display import reasons

        return reasons(obj.reasons)

    @admin.display(description="公民身份号码")
    def masked_id(self, obj):
        from yfbz.core.pii import mask

        return mask(obj.id_number)
