"""Institutions are importable (django-import-export, keyed by code): a re-import updates, a bad level
is reported by row and nothing is half-imported."""

import pytest
import tablib

from claims.models import Institution
from claims.resources import InstitutionResource

pytestmark = pytest.mark.django_db
HEAD = ["code", "name", "level", "in_city", "networked", "bank_name", "bank_account", "active"]


def dataset(*rows):
    return tablib.Dataset(*rows, headers=HEAD)


def test_import_creates_then_updates_by_code():
    r = InstitutionResource().import_data(dataset(["H9", "某医院", 2, 1, 1, "", "", 1]), dry_run=False)
    assert not r.has_errors() and not r.has_validation_errors()
    r = InstitutionResource().import_data(dataset(["H9", "某医院（更名）", 3, 1, 0, "农行", "62", 1]), dry_run=False)
    inst = Institution.objects.get(code="H9")
    assert (inst.name, inst.level, inst.networked) == ("某医院（更名）", 3, False)


def test_a_bad_level_is_reported_and_nothing_is_imported():
    r = InstitutionResource().import_data(
        dataset(["H1", "甲医院", 2, 1, 1, "", "", 1], ["H2", "乙医院", 7, 1, 1, "", "", 1]), dry_run=False, use_transactions=True,
        rollback_on_validation_errors=True,
    )
    assert r.has_validation_errors()
    assert r.invalid_rows[0].number == 2 and "level" in r.invalid_rows[0].field_specific_errors
    assert not Institution.objects.exists()
