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

from .models import (
    CatalogueDisease,
    CategoryCondition,
    ContributionStandard,
    EmployeePoolingRule,
    GroupMembership,
    PolicyParameter,
    SchemeRule,
    SubsidyRule,
    YoufuRule,
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


@admin.display(description="在用", boolean=True)
def in_force_today(obj):
    return obj.effective_from <= timezone.localdate() and obj.active


class PolicyRecordAdmin(ReferenceAdmin):
    editable_because = "政策记录：带生效日期的数据，已生效的记录不能修改（更正为新增一条更晚生效的记录），不属于任何业务流程"
    list_filter = ("status", "active", "effective_from")
    date_hierarchy = "effective_from"
    search_fields = ("source", "note")
    readonly_fields = ("created_at", "updated_at")
    save_as = True  # "另存为新记录": the usual way to enter a correction with a new effective date

    def get_list_display(self, request):
        return (*self.key_display, status_badge, "effective_from", in_force_today, "source")

    key_display: tuple = ("__str__",)

    def changelist_view(self, request, extra_context=None):
        provisional = self.model.objects.filter(status="provisional", active=True).count()
        if provisional:
            messages.warning(
                request,
                f"本表有{provisional}条暂行规则（⚠），其数额待确认；按暂行规则作出的决定在审批前须由复核人确认已核对。"
                "确认或更正请新增一条生效日期更晚的记录。",
            )
        return super().changelist_view(request, extra_context)


@admin.register(PolicyParameter)
class PolicyParameterAdmin(PolicyRecordAdmin):
    key_display = ("key", "value")


@admin.register(CategoryCondition)
class CategoryConditionAdmin(PolicyRecordAdmin):
    key_display = ("category", "condition_zh_display")
    list_filter = ("category", "status", "active")

    @admin.display(description="年龄条件")
    def condition_zh_display(self, obj):
        return obj.condition_zh()


@admin.register(GroupMembership)
class GroupMembershipAdmin(PolicyRecordAdmin):
    key_display = ("category", "group", "condition_zh_display")
    list_filter = ("group", "category", "status", "active")
    search_fields = ("category", "group", "source")

    @admin.display(description="条件")
    def condition_zh_display(self, obj):
        return obj.condition_zh()


@admin.register(SchemeRule)
class SchemeRuleAdmin(PolicyRecordAdmin):
    key_display = (
        "scheme",
        "group",
        "category",
        "ratio_level1",
        "ratio_level2",
        "ratio_level3",
        "annual_cap",
    )
    list_filter = ("scheme", "group", "status", "active")
    search_fields = ("group", "category", "source")


@admin.register(CatalogueDisease)
class CatalogueDiseaseAdmin(PolicyRecordAdmin):
    key_display = ("name", "active")
    search_fields = ("name", "source")


@admin.register(ContributionStandard)
class ContributionStandardAdmin(PolicyRecordAdmin):
    key_display = ("year", "category", "t1", "t2")
    list_filter = ("year", "status")


@admin.register(SubsidyRule)
class SubsidyRuleAdmin(PolicyRecordAdmin):
    key_display = ("group", "enrolment", "standard", "share")
    list_filter = ("group", "enrolment", "status")


@admin.register(YoufuRule)
class YoufuRuleAdmin(PolicyRecordAdmin):
    key_display = ("category", "ratio", "threshold", "cap_display", "inpatient_only", "annual_threshold")

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
    key_display = ("employment", "deductible", "ratio_level1", "ratio_level3", "limit_tier2", "limit_tier1")
