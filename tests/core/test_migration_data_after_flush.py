"""A transactional test (browser, real worker, races) ends with a flush that empties every table; the next test
must still find what the data migrations ship (tests/conftest.py restore_migration_data). The suite's crawl of
every door once failed because the monitoring deadlines were gone: the demo could not import its high-cost file."""

import pytest


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_runs_and_its_flush_empties_the_tables():
    from monitoring.models import DeadlineRule

    assert DeadlineRule.objects.exists()


@pytest.mark.django_db(transaction=True)  # (pytest-django runs transactional tests after the others)
def test_the_next_test_finds_every_shipped_row_again():
    from funding.models import Account
    from monitoring.models import BurdenThreshold, DeadlineRule
    from reporting.models import WarningRule
    from yfbz.policy.models import BenefitGroup

    for model in (Account, BenefitGroup, WarningRule, BurdenThreshold, DeadlineRule):
        assert model.objects.exists(), model._meta.verbose_name
