"""A town clerk must not see, by any door, a person of another town (docs/roles.md).

Each test below tries one door: the list, search, filters, the detail page, the full-ID view,
the xlsx export, the admin's list, change page, related-object choices and export, and the
data layer itself; and a structural test makes sure every model and admin that holds people's
data goes through yfbz.core.scoping, so later models cannot forget it.
"""

import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from openpyxl import load_workbook

from beneficiaries.models import Identity, Person, Town
from yfbz.core.scoping import ScopedAdminMixin, is_scoped

pytestmark = pytest.mark.django_db


def names_in_list(client, **params):
    resp = client.get(reverse("beneficiaries:person-list"), params)
    assert resp.status_code == 200
    return {p.name for p in resp.context["page"]}


def test_town_clerk_lists_only_people_of_their_town(staff, people, login):
    assert names_in_list(login(staff["slh_clerk"])) == {"张双龙"}


def test_town_clerk_cannot_find_another_towns_person_by_name_or_id_number(staff, people, login):
    client = login(staff["slh_clerk"])
    assert names_in_list(client, q="李回兴") == set()
    assert names_in_list(client, q=people["hx"].id_number) == set()


def test_town_clerk_filtering_by_another_town_gets_nothing(staff, people, towns, login):
    client = login(staff["slh_clerk"])
    assert names_in_list(client, town=towns["HX"].pk) == set()


def test_town_clerk_gets_404_for_another_towns_person_page(staff, people, login):
    client = login(staff["slh_clerk"])
    assert client.get(reverse("beneficiaries:person-detail", args=[people["hx"].pk])).status_code == 404
    assert client.get(reverse("beneficiaries:person-detail", args=[people["slh"].pk])).status_code == 200


def test_town_clerk_cannot_reveal_another_towns_id_number_and_nothing_is_logged_as_seen(staff, people, login):
    from auditlog.models import LogEntry

    client = login(staff["slh_clerk"])
    resp = client.get(reverse("beneficiaries:person-detail", args=[people["hx"].pk]), {"full": "1", "reason": "verify"})  # a reason is required (issue 9)
    assert resp.status_code == 404
    assert people["hx"].id_number.encode() not in resp.content
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(people["hx"].pk)).exists()


def test_town_clerk_export_holds_only_their_town(staff, people, login):
    client = login(staff["slh_clerk"])
    resp = client.get(reverse("beneficiaries:person-export"))
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["张双龙"]
    assert people["hx"].id_number not in {r[0] for r in rows}


def test_people_without_a_town_are_invisible_to_town_clerks(staff, people):
    for clerk in ("slh_clerk", "hx_clerk"):
        assert not Person.objects.visible_to(staff[clerk]).filter(pk=people["none"].pk).exists()


def test_a_town_clerk_without_a_town_sees_nobody(staff, people):
    assert Person.objects.visible_to(staff["townless_clerk"]).count() == 0


def test_a_user_without_a_role_sees_nobody_and_gets_403(staff, people, login):
    assert Person.objects.visible_to(staff["nobody"]).count() == 0
    assert login(staff["nobody"]).get(reverse("beneficiaries:person-list")).status_code == 403


def test_department_officer_sees_only_people_their_department_certified(staff, people):
    assert set(Person.objects.visible_to(staff["civil_officer"]).values_list("name", flat=True)) == {"张双龙", "王无镇"}
    assert set(Person.objects.visible_to(staff["veterans_officer"]).values_list("name", flat=True)) == {"李回兴"}
    assert set(Identity.objects.visible_to(staff["veterans_officer"]).values_list("category__code", flat=True)) == {
        "BINGGU_YISHU"
    }


@pytest.mark.parametrize("role", ["district_clerk", "reviewer", "finance", "auditor", "sysadmin"])
def test_district_wide_roles_see_every_town(staff, people, role):
    assert Person.objects.visible_to(staff[role]).count() == 3


def test_identities_follow_their_persons_town(staff, people):
    visible = Identity.objects.visible_to(staff["hx_clerk"])
    assert set(visible.values_list("person__name", flat=True)) == {"李回兴"}


# --- the admin door: a town clerk who was (wrongly) given admin access still sees only their town
@pytest.fixture
def staff_town_clerk(staff):
    clerk = staff["slh_clerk"]
    clerk.is_staff = True
    clerk.save()
    return clerk


def test_admin_person_list_is_scoped(staff_town_clerk, people, login):
    resp = login(staff_town_clerk).get(reverse("admin:beneficiaries_person_changelist"))
    assert resp.status_code == 200
    shown = {p.name for p in resp.context["cl"].result_list}
    assert shown == {"张双龙"}


def test_admin_person_search_by_id_number_is_scoped(staff_town_clerk, people, login):
    resp = login(staff_town_clerk).get(reverse("admin:beneficiaries_person_changelist"), {"q": people["hx"].id_number})
    assert list(resp.context["cl"].result_list) == []


def test_admin_change_page_of_another_towns_person_is_refused(staff_town_clerk, people, login):
    resp = login(staff_town_clerk).get(reverse("admin:beneficiaries_person_change", args=[people["hx"].pk]))
    assert resp.status_code in (302, 404)
    assert "李回兴" not in resp.content.decode()


def test_admin_identity_list_is_scoped(staff_town_clerk, people, login):
    resp = login(staff_town_clerk).get(reverse("admin:beneficiaries_identity_changelist"))
    assert {i.person.name for i in resp.context["cl"].result_list} == {"张双龙"}


def test_the_admin_offers_no_export_of_people(staff_town_clerk, people, login):
    # the people page's export is the one door (scoped, masked unless asked for on purpose): issue 9
    from import_export.admin import ExportMixin

    from beneficiaries.admin import PersonAdmin

    assert not issubclass(PersonAdmin, ExportMixin)
    resp = login(staff_town_clerk).get(reverse("admin:beneficiaries_person_changelist") + "export/")
    assert resp.status_code in (302, 404)


def test_admin_related_choices_offer_only_visible_people(staff_town_clerk, people):
    from django.test import RequestFactory

    from beneficiaries.admin import IdentityAdmin

    request = RequestFactory().get("/")
    request.user = staff_town_clerk
    field = IdentityAdmin(Identity, admin.site).formfield_for_foreignkey(Identity._meta.get_field("person"), request)
    assert set(field.queryset.values_list("name", flat=True)) == {"张双龙"}


# --- structural guard: nothing that holds people's data escapes the mechanism
DOMAIN_APPS = ("beneficiaries", "claims", "funding")
REFERENCE_MODELS = {"Town", "Department", "Category", "CategoryAlias"}


def _reaches_people(model, depth=0):
    if model in (Person, Town) and depth:
        return True
    if depth > 3:
        return False
    for f in model._meta.get_fields():
        if f.many_to_one and f.concrete and f.related_model is not None:
            if f.related_model in (Person,) or (is_scoped(f.related_model) and f.related_model is not model):
                return True
    return False


def test_every_model_holding_peoples_data_declares_scoping():
    missing = [
        m.__name__
        for app in DOMAIN_APPS
        for m in apps.get_app_config(app).get_models()
        if m.__name__ not in REFERENCE_MODELS and (_reaches_people(m) or m is Person) and not is_scoped(m)
    ]
    assert missing == [], f"models reachable by users without Scoping/ScopedManager: {missing}"


def test_every_admin_of_a_scoped_model_uses_the_scoped_mixin():
    offenders = [
        m.__name__
        for m, model_admin in admin.site._registry.items()
        if is_scoped(m) and not isinstance(model_admin, ScopedAdminMixin)
    ]
    assert offenders == []
