from django import forms
from django.contrib import admin

from yfbz.core.adminlock import ReferenceAdmin

from .formats import FORMATS
from .models import HeaderAlias


def _column_choices():
    return [(f"{fmt.name}", [(c.key, f"{c.label}（{c.key}）") for c in fmt.columns]) for fmt in FORMATS.values()]


class HeaderAliasForm(forms.ModelForm):
    column = forms.ChoiceField(label="对应的列", choices=_column_choices, help_text="须是所选文件的列")

    class Meta:
        model = HeaderAlias
        fields = ("kind", "column", "wording", "note")


@admin.register(HeaderAlias)
class HeaderAliasAdmin(ReferenceAdmin):
    editable_because = "参考数据：各单位文件中表头的不同写法，不属于任何业务流程，由系统管理员维护（同身份类别写法）"
    form = HeaderAliasForm
    list_display = ("wording", "kind", "column_label", "note", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("wording", "column", "note")
    readonly_fields = ("created_by", "created_at")

    @admin.display(description="对应的列")
    def column_label(self, obj):
        return obj.column_label

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
