"""The policy rows of the database build the engine's Policy (``policy_in_force``)."""

from datetime import date
from decimal import Decimal

import pytest

from yfbz.policy.models import RECORD_MODELS, CatalogueDisease, PolicyRevision, SchemeRule, YoufuRule
from yfbz.policy.selectors import policy_book, policy_in_force
from yfbz.policy.services import load_default_policy
from yfbz.rules import default_policy, default_records

pytestmark = pytest.mark.django_db


def test_migration_loads_every_shipped_default_row():
    recs = default_records()
    for model in RECORD_MODELS:
        assert model.objects.count() == len(recs[model.SECTION]), model.__name__


def test_policy_from_the_database_is_the_shipped_default_policy_with_the_same_version():
    pol = policy_in_force(date(2025, 6, 30))
    assert pol.version == default_policy(date(2025, 6, 30)).version
    assert len(pol.catalogue) == 26 and len(pol.scheme_rules) == 25
    assert any(r.ref.provisional and r.group == "MAJ_37" for r in pol.scheme_rules)


def test_loading_the_defaults_again_creates_nothing():
    assert load_default_policy() == 0


def test_a_new_rate_takes_effect_from_its_date_and_never_rewrites_the_past():
    before = policy_in_force(date(2025, 6, 30))
    SchemeRule.objects.create(
        scheme="INPATIENT",
        group="IN_75",
        ratio_level1=Decimal("0.85"),
        ratio_level2=Decimal("0.85"),
        ratio_level3=Decimal("0.85"),
        annual_cap=Decimal("12000.00"),
        effective_from=date(2025, 7, 1),
        source="测试文件 一",
        status="confirmed",
    )
    assert policy_in_force(date(2025, 6, 30)).version == before.version
    after = policy_in_force(date(2025, 7, 1))
    assert after.version != before.version
    assert after.rule_for("IN_75", "CANZHAN").ratios[0] == Decimal("0.85")
    assert policy_in_force(date(2025, 6, 30)).rule_for("IN_75", "CANZHAN").ratios[0] == Decimal("0.75")


def test_an_inactive_row_removes_a_catalogue_disease_from_its_date():
    CatalogueDisease.objects.create(
        name="焦虑症", effective_from=date(2025, 9, 1), source="市级目录调整", active=False
    )
    assert "焦虑症" in policy_in_force(date(2025, 8, 31)).catalogue
    assert "焦虑症" not in policy_in_force(date(2025, 9, 1)).catalogue


def test_every_change_bumps_the_revision_so_other_processes_reload():
    rev = PolicyRevision.objects.get(pk=1).counter
    YoufuRule.objects.create(
        ratio=Decimal("0.5"),
        threshold=Decimal("0"),
        annual_cap=Decimal("3000"),
        effective_from=date(2025, 1, 1),
        category="CANZHAN",
        source="区退役军人事务局通知",
    )
    assert PolicyRevision.objects.get(pk=1).counter != rev
    pol = policy_in_force(date(2025, 3, 1))
    assert any(r.category == "CANZHAN" and r.annual_cap == Decimal("3000") for r in pol.youfu_rules)


def test_the_loader_is_cheap_for_bulk_use(django_assert_num_queries):
    policy_in_force(date(2025, 6, 30))
    with django_assert_num_queries(1):  # only the revision check
        policy_in_force(date(2025, 3, 1))
    book = policy_book()
    with django_assert_num_queries(0):
        for month in range(1, 13):
            book.in_force(date(2025, month, 1))
    assert book.in_force(date(2025, 1, 1)) is book.in_force(date(2025, 12, 31))  # one build per interval
