"""Queries over people and identities. Everything a user reaches starts from visible_to(user)."""

from .models import Identity, Person


def people_for(user):
    return Person.objects.visible_to(user).select_related("town")


def person_for(user, pk):
    return Person.objects.select_related("town").get_visible_or_404(user, pk=pk)


def identities_of(person):
    return Identity.objects.filter(person=person).select_related("category", "category__department").order_by("valid_from", "id")
