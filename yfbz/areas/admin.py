"""The area tree and the bureau's rows are reference data, kept by the system administrator.

A town's district spans are shown here; moving towns and importing arriving towns are done on the
areas page (/areas/), which keeps the spans without overlaps (``yfbz.areas.services``). A bureau
row already in effect is not changed: a rename is a new row with its date, so notices printed
earlier keep the name they were printed with."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from yfbz.core.adminlock import ReferenceAdmin

from .models import Area, Bureau, GroupTown, TownDistrict

REFERENCE = "参考数据：区域、镇街所属区和本局信息是带日期的数据，不属于任何业务流程，由系统管理员维护"


class TownDistrictInline(admin.TabularInline):
    model = TownDistrict
    fk_name = "district"
    extra = 0
    fields = ("town", "valid_from", "valid_to", "source")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class GroupTownInline(admin.TabularInline):
    """A set's towns with their dates (镇街组合, docs/areas.md): a town leaves a set by its end date."""

    model = GroupTown
    fk_name = "area"
    extra = 0
    fields = ("town", "valid_from", "valid_to", "source")


@admin.register(Area)
class AreaAdmin(ReferenceAdmin):
    editable_because = REFERENCE
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    inlines = [TownDistrictInline, GroupTownInline]


@admin.register(TownDistrict)
class TownDistrictAdmin(ReferenceAdmin):
    editable_because = REFERENCE
    list_display = ("town", "district", "valid_from", "valid_to", "source")
    list_filter = ("district",)
    list_select_related = ("town", "district")
    search_fields = ("town__name", "town__code")
    date_hierarchy = "valid_from"


class BureauForm(forms.ModelForm):
    class Meta:
        model = Bureau
        fields = ("valid_from", "name", "site_title", "doc_prefix", "reconsideration_body", "district", "default_policy_area", "source")

    def clean(self):
        data = super().clean()
        inst = self.instance
        if inst.pk:
            old = Bureau.objects.get(pk=inst.pk)
            if old.valid_from <= timezone.localdate():
                changed = [f for f in self.changed_data if f != "source"]
                if changed:
                    raise ValidationError(
                        f"该记录已于{old.valid_from}生效，不能修改（已印发的文书使用当时的名称）。更名请新增一条起始日期更晚的记录。"
                    )
        return data


@admin.register(Bureau)
class BureauAdmin(ReferenceAdmin):
    editable_because = REFERENCE
    form = BureauForm
    list_display = ("valid_from", "name", "site_title", "doc_prefix", "district")
    save_as = True
