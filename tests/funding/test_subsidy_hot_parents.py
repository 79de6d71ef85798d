"""The subsidy run's rows (SubsidyResult, SubsidyChange) name their run and town without PostgreSQL's
foreign-key check (issue 14: checking a million rows against the one run row and ~30 town rows, from two
workers at once, was about half of the run's database time). Deleting a run or a town they name is still
refused (on_delete=PROTECT, by Django); a run's changes still go with the run."""

from decimal import Decimal

import pytest
from django.db.models import ProtectedError

from funding.models import SubsidyChange, SubsidyResult, SubsidyRun

pytestmark = pytest.mark.django_db


def test_a_run_or_a_town_named_by_subsidy_rows_cannot_be_deleted(make_person, staff, towns):
    run = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"])
    p = make_person("受保护")
    SubsidyResult.objects.create(person=p, year=2025, run=run, category="DIBAO", amount=Decimal("400.00"), town=towns["SLH"])
    SubsidyChange.objects.create(run=run, person=p, new_category="DIBAO", new_amount=Decimal("400.00"), town=towns["HX"])
    with pytest.raises(ProtectedError):
        towns["SLH"].delete()
    with pytest.raises(ProtectedError):
        towns["HX"].delete()
    with pytest.raises(ProtectedError):
        run.delete()
    SubsidyResult.objects.filter(run=run).delete()
    with pytest.raises(ProtectedError):  # the change still names HX
        towns["HX"].delete()
    run.delete()  # its changes with it (CASCADE)
    assert not SubsidyChange.objects.exists()
