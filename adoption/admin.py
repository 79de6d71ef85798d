"""Read-only: what each history file brought in. Loading is done on the command line only
(``manage.py load_history``, docs/adoption.md)."""

from django.contrib import admin

from yfbz.core.scoping import ScopedAdminMixin

from .models import HistoryLoad, HistoryLoadBill


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HistoryLoad)
class HistoryLoadAdmin(_ReadOnly):
    list_display = ("file_name", "historic", "loaded_at", "entered_by", "approved_by", "persons_created",
                    "identities_added", "institutions_created", "bills")
    list_filter = ("historic",)


@admin.register(HistoryLoadBill)
class HistoryLoadBillAdmin(ScopedAdminMixin, _ReadOnly):
    list_display = ("load", "position", "ref", "bill")
    list_select_related = ("load", "bill")
