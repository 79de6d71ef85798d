from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from yfbz.policy.models import SchemeRule

pytestmark = pytest.mark.django_db


def test_staff_see_the_rules_in_force_with_their_sources_and_provisional_ones_flagged(staff, login):
    page = login(staff["slh_clerk"]).get(reverse("policy:in-force"), {"on": "2025-06-01"}).content.decode()
    assert "渝北府办发〔2025〕2号 二(四)" in page
    assert "低保对象 → 门诊700元限额组" in page and "年满80周岁" in page
    assert "暂行，待确认" in page  # MAJ_37 and the 2025 standards are shipped as provisional


def test_benefit_groups_reach_staff_by_their_chinese_names_never_their_codes(staff, login):
    """Issue 11: OUT_700, MAJ_37 … were shown on /policy/; every group has a name (data) shown instead."""
    page = login(staff["slh_clerk"]).get(reverse("policy:in-force"), {"on": "2025-06-01"}).content.decode()
    assert "重特大疾病37号文件组（特困人员）" in page and "资助参保一档90%组" in page
    for code in ("OUT_700", "OUT_400", "IN_80_75", "MAJ_37", "LRG_37", "SUB_T1", "SUB_90", "YOUFU"):
        assert code not in page, code


def test_a_renamed_group_is_shown_by_its_new_name(staff, login):
    from yfbz.policy.models import BenefitGroup

    group = BenefitGroup.objects.get(code="OUT_700")
    group.name = "门诊甲类组"
    group.save()  # as the admin saves it: the policy revision moves, the names are read again
    page = login(staff["slh_clerk"]).get(reverse("policy:in-force"), {"on": "2025-06-01"}).content.decode()
    assert "低保对象 → 门诊甲类组" in page


def test_a_rule_shows_from_its_effective_date_and_not_before(staff, login):
    rule = SchemeRule.objects.filter(scheme="INPATIENT", group="IN_70").order_by("-effective_from").first()
    SchemeRule.objects.create(
        scheme=rule.scheme, group=rule.group, category=rule.category, ratio_level1=Decimal("0.72"),
        ratio_level2=Decimal("0.72"), ratio_level3=Decimal("0.72"), annual_cap=rule.annual_cap,
        effective_from=date(2031, 1, 1), source="测试：新文件",
    )
    client = login(staff["district_clerk"])
    assert "测试：新文件" not in client.get(reverse("policy:in-force"), {"on": "2030-12-31"}).content.decode()
    assert "测试：新文件" in client.get(reverse("policy:in-force"), {"on": "2031-01-01"}).content.decode()
