"""Policy screens: clerks and administrators edit the policy rows here.

Every screen shows the effective date, the source document and the status; provisional rows are
flagged in red with their source. Rows already in effect cannot be changed (model ``clean``): a
correction or confirmation is a new row with a later effective date.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from yfbz.core.adminlock import ReferenceAdmin
from yfbz.core.display import pct

from .forms import form_for
from .models import (
    BenefitGroup,
    CatalogueDisease,
    CategoryCondition,
    ContributionStandard,
    EmployeePoolingRule,
    GroupMembership,
    PolicyParameter,
    SchemeRule,
    SubsidyRule,
    YoufuRule,
    category_name,
    group_name,
)
from .selectors import policy_in_force


@admin.display(description="状态", ordering="status")
def status_badge(obj):
    if obj.is_provisional:
        return format_html(
            '<strong style="color:#b00" title="{}">⚠ 暂行（待确认）</strong>',
            f"数额待确认，依据：{obj.source}",
        )
    return "已确认"


def percent_column(field: str, description: str):
    """A list column showing a stored fraction as the percentage staff enter (0.7500 → 75%)."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        return pct(getattr(obj, field))

    column.__name__ = f"{field}_pct"
    return column


@admin.display(description="在用", boolean=True)
def in_force_today(obj):
    return obj.effective_from <= timezone.localdate() and obj.active


@admin.display(description="待遇组", ordering="group")
def group_column(obj):
    """The group by its name, the code small beside it for the administrator who types it."""
    return format_html("{} <small style=\"color:#666\">{}</small>", group_name(obj.group), obj.group)


def category_column(description: str = "身份类别", blank: str = "—"):
    """The category by its name, the code small beside it (``blank`` says what an empty one means). Not the
    field's choices: Django builds and normalises them again for every row drawn (a list of 100 policy rows
    spent most of its time there)."""

    @admin.display(description=description, ordering="category")
    def column(obj):
        if not obj.category:
            return blank
        return format_html("{} <small style=\"color:#666\">{}</small>", category_name(obj.category), obj.category)

    column.__name__ = "category_name"
    return column


class GroupFilter(admin.SimpleListFilter):
    """待遇组 by name (the code small in the address): Django's own filter would list the bare codes."""

    title = "待遇组"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        codes = model_admin.get_queryset(request).order_by("group").values_list("group", flat=True).distinct()
        return [(code, f"{group_name(code)}（{code}）") for code in codes]

    def queryset(self, request, queryset):
        return queryset.filter(group=self.value()) if self.value() else queryset


def _has_area(model) -> bool:
    return any(f.name == "area" for f in model._meta.concrete_fields)


class PolicyRecordAdmin(ReferenceAdmin):
    """Rates are entered and shown as percentages; group and category codes must be known ones; a row
    already in force is neither changed nor deleted; a back-dated row is saved only after its effect
    on existing decisions has been shown (yfbz.policy.forms, yfbz.policy.impact)."""

    editable_because = "政策记录：带生效日期的数据，已生效的记录不能修改（更正为新增一条更晚生效的记录），不属于任何业务流程"
    list_filter = ("status", "active", "effective_from")
    date_hierarchy = "effective_from"
    search_fields = ("source", "note")
    readonly_fields = ("created_at", "updated_at")
    save_as = True  # "另存为新记录": the usual way to enter a correction with a new effective date
    change_form_template = "admin/policy/change_form.html"

    def __init__(self, model, admin_site):
        self.form = form_for(model)
        super().__init__(model, admin_site)

    def get_list_display(self, request):
        area = ("area",) if _has_area(self.model) else ()
        return (*self.key_display, *area, status_badge, "effective_from", in_force_today, "source")

    def get_list_filter(self, request):
        return (("area",) if _has_area(self.model) else ()) + tuple(super().get_list_filter(request))

    def get_list_select_related(self, request):
        # the area column names each row's area: read with the rows, not one query per row (issue 14)
        return ("area",) if _has_area(self.model) else False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.in_force:
            return False  # decisions were made under it: end it with a new row instead
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced: rows in force are refused with a message, not a 403
        return actions

    @admin.action(description="删除所选记录（仅限尚未生效的）", permissions=["delete"])
    def delete_not_in_force(self, request, queryset):
        in_force = queryset.filter(effective_from__lte=timezone.localdate())
        if in_force.exists():
            messages.error(
                request,
                f"所选记录中有{in_force.count()}条已生效，不能删除（已作出的决定以它们为依据）；"
                "如需停用或更正，请新增一条生效日期更晚的记录。未删除任何记录。",
            )
            return
        n = queryset.count()
        for obj in queryset:
            obj.delete()
        messages.success(request, f"已删除{n}条尚未生效的记录。")

    actions = ["delete_not_in_force"]

    def delete_model(self, request, obj):
        obj.delete()  # PolicyRowInForce for a row in force (has_delete_permission already refuses it)

@admin.register(PolicyParameter)
class PolicyParameterAdmin(PolicyRecordAdmin):
    key_display = ("key", "value")


@admin.register(CategoryCondition)
class CategoryConditionAdmin(PolicyRecordAdmin):
    key_display = (category_column(), "condition_zh_display")
    list_filter = ("category", "status", "active")

    @admin.display(description="年龄条件")
    def condition_zh_display(self, obj):
        return obj.condition_zh()


@admin.register(GroupMembership)
class GroupMembershipAdmin(PolicyRecordAdmin):
    key_display = (category_column(), group_column, "condition_zh_display")
    list_filter = (GroupFilter, "category", "status", "active")
    search_fields = ("category", "group", "source")

    @admin.display(description="条件")
    def condition_zh_display(self, obj):
        return obj.condition_zh()


@admin.register(SchemeRule)
class SchemeRuleAdmin(PolicyRecordAdmin):
    key_display = (
        "scheme",
        group_column,
        category_column("限于身份类别", "（该组所有类别）"),
        percent_column("ratio_level1", "一级（含未定级）比例"),
        percent_column("ratio_level2", "二级比例"),
        percent_column("ratio_level3", "三级比例"),
        "annual_cap",
    )
    list_filter = ("scheme", GroupFilter, "status", "active")
    search_fields = ("group", "category", "source")


@admin.register(CatalogueDisease)
class CatalogueDiseaseAdmin(PolicyRecordAdmin):
    key_display = ("name", "active")
    search_fields = ("name", "source")


@admin.register(ContributionStandard)
class ContributionStandardAdmin(PolicyRecordAdmin):
    key_display = ("year", category_column("限于身份类别", "（通用标准）"), "t1", "t2")
    list_filter = ("year", "status")


@admin.register(SubsidyRule)
class SubsidyRuleAdmin(PolicyRecordAdmin):
    key_display = (group_column, "enrolment", "standard", percent_column("share", "资助比例"))
    list_filter = (GroupFilter, "enrolment", "status")


@admin.register(YoufuRule)
class YoufuRuleAdmin(PolicyRecordAdmin):
    key_display = (
        category_column("限于身份类别", "（所有优抚对象）"), percent_column("ratio", "补助比例"), "threshold", "cap_display", "inpatient_only", "annual_threshold",
    )

    @admin.display(description="年度补助限额")
    def cap_display(self, obj):
        if obj.annual_cap is None:
            return format_html('<strong style="color:#b00">{}</strong>', "未设定：补助不启用")
        return obj.annual_cap

    def changelist_view(self, request, extra_context=None):
        try:
            pol = policy_in_force(timezone.localdate())
            if not any(r.annual_cap is not None for r in pol.youfu_rules):
                messages.warning(
                    request,
                    "优抚对象医疗补助目前不启用：尚未设定年度补助限额（区级数据，无默认值）。"
                    "新增一条填写了年度限额的记录后，自其生效日期起启用。",
                )
        except Exception:  # never break the screen over a notice
            pass
        return super().changelist_view(request, extra_context)


@admin.register(EmployeePoolingRule)
class EmployeePoolingRuleAdmin(PolicyRecordAdmin):
    key_display = (
        "employment", "deductible", percent_column("ratio_level1", "一级比例"), percent_column("ratio_level3", "三级比例"),
        "limit_tier2", "limit_tier1",
    )


@admin.register(BenefitGroup)
class BenefitGroupAdmin(ReferenceAdmin):
    editable_because = "待遇组的中文名称：页面、文书和报表只显示名称，编码仅作政策记录之间的键；不属于任何业务流程"
    list_display = ("name", "code", "note")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()  # the code is the key policy rows name: rename, never recode
