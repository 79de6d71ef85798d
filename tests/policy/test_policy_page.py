from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from yfbz.policy.models import SchemeRule

pytestmark = pytest.mark.django_db


def test_staff_see_the_rules_in_force_with_their_sources_and_provisional_ones_flagged(staff, login):
    page = login(staff["slh_clerk"]).get(reverse("policy:in-force"), {"on": "2025-06-01"}).content.decode()
    assert "渝北府办发〔2025〕2号 二(四)" in page
    assert "低保对象 → OUT_700" in page and "年满80周岁" in page
    assert "暂行，待确认" in page  # MAJ_37 and the 2025 standards are shipped as provisional


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
