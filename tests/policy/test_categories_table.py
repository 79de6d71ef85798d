"""The identity categories the policy knows are the editable table of beneficiaries.Category."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from beneficiaries.models import Category, Department
from yfbz.policy.models import GroupMembership
from yfbz.policy.selectors import policy_in_force

pytestmark = pytest.mark.django_db


def membership(category):
    return GroupMembership(category=category, group="IN_70", effective_from=date(2030, 1, 1), source="测试文件")


def test_a_category_added_by_an_administrator_can_be_given_benefit_groups():
    Category.objects.create(code="SHANXI_NEW", name="试点新类别", department=Department.objects.get(code="CIVIL"))
    membership("SHANXI_NEW").full_clean()


def test_an_unknown_category_code_is_refused_in_chinese():
    with pytest.raises(ValidationError) as err:
        membership("NO_SUCH").full_clean()
    assert "身份类别" in str(err.value) or "NO_SUCH" in str(err.value)


def test_a_renamed_category_is_named_so_in_decisions():
    policy_in_force(date(2025, 6, 1))  # a process has the policy cached
    dibao = Category.objects.get(code="DIBAO")
    dibao.name = "城乡低保对象"
    dibao.save()  # as the admin saves it: the policy revision moves, caches are rebuilt
    assert policy_in_force(date(2025, 6, 1)).category_name("DIBAO") == "城乡低保对象"
