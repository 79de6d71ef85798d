import django_filters
from django.db.models import Q

from .models import Category, Department, Identity, Person, RetroactiveChange, RosterUpload, Town


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="姓名或身份证号", method="search",
                                  help_text="姓名从姓起输入（如“张”“张三”），身份证号输入完整18位")
    town = django_filters.ModelChoiceFilter(label="镇街", queryset=Town.objects.all())
    category = django_filters.ModelChoiceFilter(label="身份类别", queryset=Category.objects.all(), method="by_category")

    class Meta:
        model = Person
        fields = ["q", "town", "category"]

    def search(self, queryset, name, value):
        # a name from its first character (the name_prefix index) or a whole ID number (unique
        # index): a search reads index ranges, never the million people (issue 14)
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__startswith=value) | Q(id_number=value.upper()))

    def by_category(self, queryset, name, value):
        # a subquery, not a join: no DISTINCT over the people list
        return queryset.filter(pk__in=Identity.objects.filter(category=value).values("person_id"))


class RetroactiveChangeFilter(django_filters.FilterSet):
    """The retroactive changes list: by default only those waiting for staff (state=waiting)."""

    WAITING = "waiting"
    STATES = [(WAITING, "待处理（含待审批）"), *RetroactiveChange.Status.choices, ("all", "全部")]

    state = django_filters.ChoiceFilter(label="状态", choices=STATES, method="by_state", empty_label=None)
    roster = django_filters.ModelChoiceFilter(label="名单", field_name="roster_upload", queryset=RosterUpload.objects.none(),
                                              empty_label="全部")
    department = django_filters.ModelChoiceFilter(label="认定部门", field_name="category__department",
                                                  queryset=Department.objects.all(), empty_label="全部")
    town = django_filters.ModelChoiceFilter(label="镇街", field_name="person__town", queryset=Town.objects.all(), empty_label="全部")
    kind = django_filters.ChoiceFilter(label="变化类型", choices=RetroactiveChange.Kind.choices, empty_label="全部")
    q = django_filters.CharFilter(label="姓名或身份证号", method="search")

    class Meta:
        model = RetroactiveChange
        fields = ["state", "roster", "department", "town", "kind", "q"]

    def __init__(self, data=None, *args, rosters=None, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("state", self.WAITING)
        if not data.get("state"):
            data["state"] = self.WAITING
        super().__init__(data, *args, **kwargs)
        if rosters is not None:
            self.filters["roster"].queryset = rosters

    def by_state(self, queryset, name, value):
        if value == self.WAITING:
            return queryset.filter(status__in=RetroactiveChange.WAITING)
        if value == "all":
            return queryset
        return queryset.filter(status=value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(person__name__contains=value) | Q(person__id_number=value.upper()))
