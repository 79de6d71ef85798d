"""A confirmed roster writes its identities with bulk operations (no per-row signals), so the
audit trail carries one entry per operation naming who did it and how many rows it touched."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from .conftest import ids, roster_xlsx

pytestmark = pytest.mark.django_db


def test_applying_a_roster_leaves_an_audit_entry_naming_the_confirmer_and_the_counts(
    upload_file, confirm_roster, staff, login
):
    a, b = ids(2)
    upload = confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "双龙湖", "", ""), (b, "乙", "低保", "双龙湖", "", "")])).upload)
    entries = LogEntry.objects.get_for_object(upload).filter(actor=staff["district_clerk"])
    assert entries.exists()
    bulk = [e for e in entries if "操作" in e.changes_dict]
    assert bulk, [e.changes_dict for e in entries]
    assert any("2" in str(v) for e in bulk for v in e.changes_dict.values())
    page = login(staff["auditor"]).get(reverse("audit-log")).content.decode()
    assert bulk[0].changes_dict["操作"][1] in page
