"""The admin edits reference data and policy only (docs/security.md, "least privilege").

Every ModelAdmin of the project derives from one of two bases:

- ``ReadOnlyAdmin``: a record that a workflow owns (people, identities, roster rows, bills,
  decisions, cap usage, notices, settlement lines, subsidy results, ledger entries, fund requests,
  payments …). Shown for checking; never added, changed or deleted here, not even by a superuser:
  its changes go through the pages and services that know the allowed moves.
- ``ReferenceAdmin``: reference data or policy that no workflow owns. Editable only by the roles in
  ``edit_roles`` (and superusers, who are made on the command line), and only with a reason
  written next to it in ``editable_because``.

``tests/core/test_admin_lockdown.py`` fails when a registered admin lets any role add, change or
delete without such a reason, and when a workflow-owned model is editable at all.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from .paging import EstimatedPaginator
from .roles import Role


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never edited: the record belongs to a workflow with its own door.

    Workflow records are the big tables (a million bills, decisions, identities): a filtered list counts
    up to ``EXACT_UP_TO`` rows and beyond that shows the planner's estimate, said so (``EstimatedPaginator``,
    templates/admin/pagination.html), and the filters' facet counts (Django's “显示计数”, a COUNT per filter
    option over the whole table: 3 s per click at a million decisions) are not offered."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedPaginator
    list_per_page = 50  # rendering the admin's rows is most of such a page's time (100 rows: ~0.3 s of Python)

    def get_list_filter(self, request):
        # a plain "year" filter lists its choices by SELECT DISTINCT over the whole table (0.5 s at a million rows)
        return [YearListFilter if f == "year" else f for f in super().get_list_filter(request)]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_import_permission(self, request):  # django-import-export
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class YearListFilter(admin.SimpleListFilter):
    """年度: the years from ``YEARS_BACK`` years ago to next year, without reading the table for them (an
    earlier year is still asked for by ``?year=2019`` in the address). Big tables' admins also set
    ``sortable_by = ()``: sorting a million rows by a column no index serves took 1–1.3 s per click, and
    their default order is an index's."""

    title = "年度"
    parameter_name = "year"
    YEARS_BACK = 6

    def lookups(self, request, model_admin):
        this = timezone.localdate().year
        return [(str(y), f"{y}年") for y in range(this + 1, this - self.YEARS_BACK - 1, -1)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(year=int(value))
        return queryset


class ReadOnlyInline:
    """Mix into an inline of a read-only admin."""

    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReferenceAdmin(admin.ModelAdmin):
    """Reference data or policy, editable by ``edit_roles`` for the reason in ``editable_because``."""

    edit_roles: frozenset[Role] = frozenset({Role.SYSADMIN})
    editable_because: str = ""

    def may_edit(self, request) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or user.has_role(*self.edit_roles)))

    def has_add_permission(self, request, *args):
        return self.may_edit(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.may_edit(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.may_edit(request) and super().has_delete_permission(request, obj)

    def has_import_permission(self, request):  # django-import-export
        return self.has_add_permission(request) and self.has_change_permission(request)

    def add_data_read_fail_error_to_form(self, form, e):  # django-import-export: the reason, in Chinese
        from .spreadsheets import SpreadsheetRefused
        from .uploads import UploadRefused

        if isinstance(e, UploadRefused | SpreadsheetRefused):
            form.add_error("import_file", str(e))
        else:
            form.add_error("import_file", "无法读取该文件：请确认文件是xlsx或CSV（UTF-8），并与所选的格式一致。")



class HistoryInline(ReadOnlyInline, admin.TabularInline):
    """A record's status history (yfbz.core.workflow) on its admin page, read-only, statuses in
    Chinese: ``inlines = [HistoryInline.of(BillStatusChange)]``."""

    fields = ("at", "by", "from_label", "to_label", "reason")
    readonly_fields = fields
    verbose_name = "状态记录"
    verbose_name_plural = "状态记录"

    @classmethod
    def of(cls, history_model):
        return type(f"{history_model.__name__}Inline", (cls,), {"model": history_model})

    @admin.display(description="原状态")
    def from_label(self, obj):
        return obj.from_label

    @admin.display(description="新状态")
    def to_label(self, obj):
        return obj.to_label
