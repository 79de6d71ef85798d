"""Least privilege in the admin (issue 9, findings 2 and 3): the admin edits reference data and policy
only, a workflow's records never; staff accounts are kept by the security administrator; no one grants
themselves a role or superuser; every role change is recorded."""

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from beneficiaries.models import Identity, Person, Town
from claims.models import Institution, InstitutionBankChange
from yfbz.core.roles import Role

pytestmark = pytest.mark.django_db

# records a workflow owns: nobody edits them in the admin, not even a superuser (issue 9, "What to build")
WORKFLOW_OWNED = {
    "beneficiaries.person", "beneficiaries.identity", "beneficiaries.rosterupload", "beneficiaries.rosterrow",
    "beneficiaries.retroactivechange", "beneficiaries.identitycorrection", "claims.bill", "claims.decision", "claims.capusage", "claims.notice",
    "claims.noticeprint", "claims.adjustment", "claims.settlementline", "claims.settlementmonth", "claims.settlementfile",
    "funding.subsidyresult", "funding.subsidyrun", "funding.journalentry", "funding.fundrequest", "funding.payableline",
    "funding.paymentbatch", "funding.payment", "funding.receivable", "funding.entryproposal", "funding.selfpaidreport",
    "funding.enrolment", "funding.period", "funding.account", "auditlog.logentry",
}


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _editable(model_admin, request):
    return [what for what, ok in (
        ("add", model_admin.has_add_permission(request) if model_admin.has_add_permission.__code__.co_argcount == 2
         else model_admin.has_add_permission(request, None)),
        ("change", model_admin.has_change_permission(request)),
        ("delete", model_admin.has_delete_permission(request)),
    ) if ok]


def test_no_model_is_editable_in_the_admin_by_a_role_without_a_reason_written_next_to_it(make_user):
    users = {role: make_user(f"u_{role.name.lower()}", role, is_staff=True) for role in Role}
    superuser = make_user("root", None, is_staff=True, is_superuser=True)
    unexplained, workflow_editable = [], []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        for who, user in [*users.items(), ("superuser", superuser)]:
            can = _editable(model_admin, _request(user))
            if not can:
                continue
            if label in WORKFLOW_OWNED:
                workflow_editable.append((label, str(who), can))
            elif who != "superuser" and not getattr(model_admin, "editable_because", "").strip():
                unexplained.append((label, str(who), can))
    assert workflow_editable == [], f"records a workflow owns are editable in the admin: {workflow_editable}"
    assert unexplained == [], f"editable in the admin with no editable_because next to it: {unexplained}"


def test_the_district_clerk_cannot_forge_a_person_or_an_identity_in_the_admin(staff, people, login):
    client = login(staff["district_clerk"])
    before = (Person.objects.count(), Identity.objects.count())
    resp = client.post(reverse("admin:beneficiaries_person_add"), {
        "id_number": "500112198001010011", "name": "假人", "birth_date": "1980-01-01", "sex": "M",
        "identities-TOTAL_FORMS": "1", "identities-INITIAL_FORMS": "0", "identities-0-category": "1",
        "identities-0-valid_from": "2025-01-01",
    })
    assert resp.status_code == 403
    resp = client.post(reverse("admin:beneficiaries_identity_add"), {
        "person": people["none"].pk, "category": 1, "valid_from": "2025-01-01",
    })
    assert resp.status_code == 403
    resp = client.post(reverse("admin:beneficiaries_person_change", args=[people["slh"].pk]), {"name": "改名"})
    assert resp.status_code == 403
    assert (Person.objects.count(), Identity.objects.count()) == before
    assert Person.objects.get(pk=people["slh"].pk).name == "张双龙"


def test_the_district_clerk_cannot_edit_towns_or_categories_in_the_admin(staff, login):
    client = login(staff["district_clerk"])
    town = Town.objects.get(code="SLH")
    resp = client.post(reverse("admin:beneficiaries_town_change", args=[town.pk]),
                       {"code": "SLH", "name": "改过的街道", "kind": "街道", "active": "on"})
    assert resp.status_code == 403
    assert Town.objects.get(pk=town.pk).name == town.name
    assert client.get(reverse("admin:beneficiaries_category_add")).status_code == 403


def test_the_system_administrator_edits_reference_data(staff, login):
    client = login(staff["sysadmin"])
    town = Town.objects.get(code="SLH")
    resp = client.post(reverse("admin:beneficiaries_town_change", args=[town.pk]),
                       {"code": "SLH", "name": "双龙湖街道", "kind": "街道", "active": "on"})
    assert resp.status_code == 302


def test_a_system_administrator_cannot_make_themself_superuser(staff, login):
    sysadmin = staff["sysadmin"]
    client = login(sysadmin)
    resp = client.post(reverse("admin:core_user_change", args=[sysadmin.pk]), {
        "username": sysadmin.username, "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "groups": [g.pk for g in Group.objects.all()],
    })
    assert resp.status_code == 403
    sysadmin.refresh_from_db()
    assert not sysadmin.is_superuser
    assert {g.name for g in sysadmin.groups.all()} == {Role.SYSADMIN.value}
    # nor edit any staff account (that is the security administrator's)
    assert client.get(reverse("admin:core_user_change", args=[sysadmin.pk])).status_code in (200, 403)
    assert b'name="is_superuser"' not in client.get(reverse("admin:core_user_change", args=[sysadmin.pk])).content


@pytest.fixture
def secadmin(make_user):
    return make_user("secadmin", Role.SECURITY_ADMIN, is_staff=True)


def test_a_security_administrator_cannot_grant_themself_a_role_or_superuser(secadmin, login):
    client = login(secadmin)
    finance = Group.objects.get(name=Role.FINANCE.value)
    resp = client.post(reverse("admin:core_user_change", args=[secadmin.pk]), {
        "username": secadmin.username, "full_name": "安全员", "is_active": "on", "is_staff": "on",
        "is_superuser": "on", "groups": [finance.pk], "user_permissions": [1, 2, 3],
    })
    assert resp.status_code == 302, resp.content.decode()[:3000]
    secadmin.refresh_from_db()
    assert not secadmin.is_superuser
    assert {g.name for g in secadmin.groups.all()} == {Role.SECURITY_ADMIN.value}
    assert not secadmin.user_permissions.exists()


def test_a_security_administrator_changes_anothers_role_and_it_is_recorded(secadmin, staff, login):
    clerk = staff["district_clerk"]
    reviewer = Group.objects.get(name=Role.DISTRICT_REVIEWER.value)
    client = login(secadmin)
    resp = client.post(reverse("admin:core_user_change", args=[clerk.pk]), {
        "username": clerk.username, "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "groups": [reviewer.pk],
    })
    assert resp.status_code == 302, resp.content.decode()[:3000]
    clerk.refresh_from_db()
    assert {g.name for g in clerk.groups.all()} == {Role.DISTRICT_REVIEWER.value}
    assert not clerk.is_superuser  # superuser only from the command line
    entry = LogEntry.objects.get_for_object(clerk).filter(changes__icontains="groups").latest("timestamp")
    assert entry.actor == secadmin


def test_one_person_never_holds_two_of_the_separated_duties(secadmin, staff, login):
    sysadmin = staff["sysadmin"]
    groups = Group.objects.filter(name__in=[Role.SYSADMIN.value, Role.AUDITOR.value])
    resp = login(secadmin).post(reverse("admin:core_user_change", args=[sysadmin.pk]), {
        "username": sysadmin.username, "is_active": "on", "is_staff": "on", "groups": [g.pk for g in groups],
    })
    assert resp.status_code == 200
    assert "三权分立" in resp.content.decode()
    assert {g.name for g in sysadmin.groups.all()} == {Role.SYSADMIN.value}
    # any other door refuses it too
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        sysadmin.groups.add(Group.objects.get(name=Role.SECURITY_ADMIN.value))


def test_a_security_administrator_cannot_take_over_a_superusers_account(secadmin, make_user, login):
    root = make_user("root", None, is_staff=True, is_superuser=True)
    client = login(secadmin)
    page = client.get(reverse("admin:core_user_change", args=[root.pk]))
    assert b'name="_save"' not in page.content  # shown, not editable
    resp = client.post(f"/admin/core/user/{root.pk}/password/",
                       {"password1": "Taken-over-2025", "password2": "Taken-over-2025"})
    assert resp.status_code == 403
    root.refresh_from_db()
    assert not root.check_password("Taken-over-2025")


def test_roles_reach_only_what_they_keep(staff, secadmin, login):
    assert login(staff["sysadmin"]).get(reverse("admin:core_user_changelist")).status_code == 403
    assert login(secadmin).get(reverse("admin:core_user_changelist")).status_code == 200
    assert login(secadmin).get(reverse("beneficiaries:person-list")).status_code == 403
    assert login(staff["sysadmin"]).get(reverse("audit-log")).status_code == 403
    assert login(staff["auditor"]).get(reverse("audit-log")).status_code == 200


# --- an institution's bank account: maker ≠ checker ----------------------------------------------
def test_a_hospitals_bank_account_changes_only_when_another_person_confirms(staff, login):
    inst = Institution.objects.create(code="YB9", name="某医院", level=2, bank_name="甲银行", bank_account="111")
    sysadmin = login(staff["sysadmin"])
    # the account cannot be typed into the institution itself
    resp = sysadmin.post(reverse("admin:claims_institution_change", args=[inst.pk]), {
        "code": "YB9", "name": "某医院", "level": 2, "in_city": "on", "networked": "on", "active": "on",
        "bank_name": "乙银行", "bank_account": "999",
    })
    assert resp.status_code == 302
    inst.refresh_from_db()
    assert inst.bank_account == "111"
    # a proposal
    resp = sysadmin.post(reverse("admin:claims_institutionbankchange_add"), {
        "institution": inst.pk, "bank_name": "乙银行", "bank_account": "999", "reason": "机构更换开户行",
        "document_ref": "渝北医函〔2026〕3号",
    })
    assert resp.status_code == 302, resp.content.decode()[:3000]
    change = InstitutionBankChange.objects.get()
    assert change.status == "PROPOSED" and change.proposed_by == staff["sysadmin"]
    inst.refresh_from_db()
    assert inst.bank_account == "111"
    # the proposer cannot confirm; a reviewer can
    from claims.services import ClaimsError, institution_bank_decide

    with pytest.raises(ClaimsError):
        institution_bank_decide(change_id=change.pk, user=staff["sysadmin"], confirm=True)
    with pytest.raises(ClaimsError):
        institution_bank_decide(change_id=change.pk, user=staff["district_clerk"], confirm=True)
    resp = login(staff["reviewer"]).post(reverse("admin:claims_institutionbankchange_changelist"),
                                         {"action": "confirm", "_selected_action": [change.pk]})
    assert resp.status_code == 302
    inst.refresh_from_db()
    assert (inst.bank_name, inst.bank_account) == ("乙银行", "999")
    change.refresh_from_db()
    assert change.status == "CONFIRMED" and change.decided_by == staff["reviewer"]


def test_an_institution_import_never_writes_a_bank_account():
    import tablib

    from claims.resources import InstitutionResource

    Institution.objects.create(code="H9", name="某医院", bank_account="111")
    data = tablib.Dataset(["H9", "某医院", 2, 1, 1, "农行", "62", 1],
                          headers=["code", "name", "level", "in_city", "networked", "bank_name", "bank_account", "active"])
    InstitutionResource().import_data(data, dry_run=False)
    assert Institution.objects.get(code="H9").bank_account == "111"
