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


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_shipped_policy_rows_belong_to_the_same_area_as_after_migrate():
    """After migrate every shipped policy row belongs to 原渝北区镇街 (policy 0005); restored after a flush
    they had no area, and the areas demo then copied no rules for its arriving town (decided without a
    ratio) whenever a transactional test ran before it."""
    from yfbz.policy.models import RECORD_MODELS

    for model in RECORD_MODELS:
        if model.objects.exists():
            assert not model.objects.filter(area__isnull=True).exists(), model._meta.verbose_name
            assert set(model.objects.values_list("area__code", flat=True)) == {"YB_TOWNS"}, model._meta.verbose_name

