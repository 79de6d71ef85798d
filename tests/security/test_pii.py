"""ID and phone numbers masked everywhere by default; a full number only on purpose, with a reason,
each such view or export an access entry naming who, which record or file, and why; a full-number
export says so in its file name (issue 9, finding 7)."""

import io
from urllib.parse import unquote

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def _cells(resp):
    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    return [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]


def _accesses():
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS)


@pytest.fixture
def person(make_person):
    return make_person("号码人", town="SLH", phone="13812345678")


def test_the_person_page_masks_id_and_phone_and_full_needs_a_reason(person, staff, login):
    client = login(staff["district_clerk"])
    url = reverse("beneficiaries:person-detail", args=[person.pk])
    page = client.get(url).content.decode()
    assert person.id_number not in page and "13812345678" not in page
    assert person.id_number[:6] in page and person.id_number[-4:] in page
    # asking without a reason shows nothing more and records nothing
    page = client.get(url, {"full": "1"}).content.decode()
    assert person.id_number not in page and "须选择原因" in page
    assert not _accesses().exists()
    page = client.get(url, {"full": "1", "reason": "verify"}).content.decode()
    assert person.id_number in page and "13812345678" in page
    entry = _accesses().get()
    assert entry.actor == staff["district_clerk"] and entry.object_pk == str(person.pk)
    assert entry.changes_dict["原因"][1].startswith("核对身份")


@pytest.mark.parametrize("export, kwargs", [
    ("beneficiaries:person-export", {}),
    ("claims:bill-export", {}),
])
def test_exports_mask_by_default_and_a_full_export_is_recorded_and_named(export, kwargs, person, staff, login, enter_bill):
    if export == "claims:bill-export":
        enter_bill(person)
    client = login(staff["district_clerk"])
    resp = client.get(reverse(export, kwargs=kwargs))
    cells = _cells(resp)
    assert person.id_number not in cells and person.id_number[:6] + "********" + person.id_number[-4:] in cells
    assert "含完整号码" not in unquote(resp["Content-Disposition"])
    assert not _accesses().exists()

    resp = client.get(reverse(export, kwargs=kwargs), {"full": "1", "reason": "department"})
    assert person.id_number in _cells(resp)
    assert "含完整号码" in unquote(resp["Content-Disposition"])
    entry = _accesses().get()
    assert entry.actor == staff["district_clerk"] and "含完整号码" in entry.object_repr + str(entry.changes)


def test_the_roster_page_and_its_error_file_mask_numbers(upload_file, staff, login):
    from tests.beneficiaries.conftest import ids, roster_xlsx

    idn = ids(1)[0]
    up = upload_file(roster_xlsx([(idn, "某某", "未知类别", "双龙湖", "", "13900001111")])).upload
    client = login(staff["civil_officer"])
    page = client.get(reverse("beneficiaries:roster-detail", args=[up.pk])).content.decode()
    assert idn not in page
    cells = [str(c) for c in _cells(client.get(reverse("beneficiaries:roster-issues", args=[up.pk])))]
    assert idn not in cells and "13900001111" not in cells
    cells = [str(c) for c in _cells(client.get(reverse("beneficiaries:roster-issues", args=[up.pk]),
                                               {"full": "1", "reason": "department"}))]
    assert idn in cells
    assert _accesses().filter(actor=staff["civil_officer"]).count() == 1


def test_admin_change_pages_show_no_full_number(person, staff, login):
    page = login(staff["district_clerk"]).get(reverse("admin:beneficiaries_person_change", args=[person.pk])).content.decode()
    assert person.id_number not in page and "13812345678" not in page


def test_the_application_form_from_a_person_carries_the_number_masked_not_in_full(people, staff):
    """Found by tests/security/test_no_full_numbers.py: /monitoring/applications/new/?person=… wrote the
    person's full number into the form. It is carried by the form and shown masked; the application is
    still registered for that person."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from claims.models import Institution
    from monitoring.models import Application
    from tests.monitoring.test_applications import PDF, client_of, form

    person = people["slh"]
    inst = Institution.objects.create(code="YB01", name="渝北区人民医院", level=2)
    c = client_of(staff["slh_clerk"])
    page = c.get(f"/monitoring/applications/new/?person={person.pk}").content.decode()
    assert person.id_number not in page and person.id_number[:6] + "********" + person.id_number[-4:] in page
    data = form(person, institution=inst.pk, id_number="")
    data["papers"] = [SimpleUploadedFile("申请书.pdf", PDF, "application/pdf")]
    resp = c.post(f"/monitoring/applications/new/?person={person.pk}", data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert Application.objects.get().person == person
