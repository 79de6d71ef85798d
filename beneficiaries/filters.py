import django_filters
from django.db.models import Q

from .models import Category, Person, Town


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="姓名或身份证号", method="search")
    town = django_filters.ModelChoiceFilter(label="镇街", queryset=Town.objects.all())
    category = django_filters.ModelChoiceFilter(
        label="身份类别", queryset=Category.objects.all(), field_name="identities__category", distinct=True
    )

    class Meta:
        model = Person
        fields = ["q", "town", "category"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(id_number=value.upper()))
