"""List filters (django-filter). They narrow a queryset already scoped by visible_to(user)."""

from datetime import date

import django_filters
from django import forms
from django.db.models import Q

from beneficiaries.models import Category, Town

from .models import Bill, Decision, Institution, Scheme, SettlementLine


def _month(queryset, field: str, value: str):
    try:
        y, m = (int(x) for x in value.strip().split("-"))
        start = date(y, m, 1)
    except ValueError:
        return queryset.none()
    end = date(y + (m == 12), m % 12 + 1, 1)
    return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})


class BillFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="姓名或身份证号", method="search")
    town = django_filters.ModelChoiceFilter(label="镇街", field_name="person__town", queryset=Town.objects.all())
    status = django_filters.ChoiceFilter(label="状态", choices=Bill.Status.choices)
    scheme = django_filters.ChoiceFilter(label="救助方案", choices=Scheme.choices, method="by_scheme")
    month = django_filters.CharFilter(label="结算月份", method="by_month",
                                      widget=forms.TextInput(attrs={"placeholder": "2025-03", "size": 8}))
    institution = django_filters.ModelChoiceFilter(label="医疗机构", queryset=Institution.objects.all())
    category = django_filters.ModelChoiceFilter(label="适用身份", queryset=Category.objects.all(), method="by_category")
    kind = django_filters.ChoiceFilter(label="类型", choices=Bill.Kind.choices)

    class Meta:
        model = Bill
        fields = ["q", "town", "status", "scheme", "month", "institution", "category", "kind"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(person__name__contains=value) | Q(person__id_number=value.upper()))

    # a subquery, not a join: the list needs no DISTINCT (which sorted every joined column of 1M
    # bills on disk, issue 14) and the current decisions are found by a partial index
    def by_scheme(self, queryset, name, value):
        return queryset.filter(pk__in=Decision.objects.filter(is_current=True, scheme=value).values("bill_id"))

    def by_category(self, queryset, name, value):
        return queryset.filter(pk__in=Decision.objects.filter(is_current=True, category=value.code).values("bill_id"))

    def by_month(self, queryset, name, value):
        return _month(queryset, "settled_on", value) if value.strip() else queryset


class SettlementLineFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(label="审核结果", choices=SettlementLine.Outcome.choices)
    dispute = django_filters.ChoiceFilter(label="异议原因", choices=SettlementLine.Dispute.choices)
    pending = django_filters.BooleanFilter(label="待处理", method="by_pending",
                                           widget=forms.Select(choices=[("", "全部"), ("true", "是"), ("false", "否")]))
    town = django_filters.ModelChoiceFilter(label="镇街", field_name="person__town", queryset=Town.objects.all())
    scheme = django_filters.ChoiceFilter(label="救助方案", choices=Scheme.choices)
    category = django_filters.ModelChoiceFilter(label="适用身份", queryset=Category.objects.all(), method="by_category")
    institution = django_filters.ModelChoiceFilter(label="医疗机构", queryset=Institution.objects.all())
    month = django_filters.CharFilter(label="结算月份", method="by_month",
                                      widget=forms.TextInput(attrs={"placeholder": "2025-03", "size": 8}))

    class Meta:
        model = SettlementLine
        fields = ["outcome", "dispute", "pending", "town", "scheme", "category", "institution", "month"]

    def by_pending(self, queryset, name, value):
        if value is None:
            return queryset
        q = Q(outcome=SettlementLine.Outcome.DISPUTED, resolution="")
        return queryset.filter(q) if value else queryset.exclude(q)

    def by_category(self, queryset, name, value):
        return queryset.filter(category=value.code)

    def by_month(self, queryset, name, value):
        return _month(queryset, "settled_on", value) if value.strip() else queryset
