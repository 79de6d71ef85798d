"""The policy admin (issue 10 item 7): rows in force are never deleted, group codes must be known
ones (``IN_8O_75`` refused in Chinese), rates are percentages, and a back-dated row shows which
decisions it would have changed, and by how much, before it is saved — never rewriting them."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from yfbz.policy.models import BenefitGroup, PolicyRowInForce, SchemeRule

pytestmark = pytest.mark.django_db

ADD = "/admin/policy/schemerule/add/"


def rule_post(**kw):
    data = {
        "scheme": "INPATIENT", "group": "IN_80_75", "category": "", "ratio_level1": "90", "ratio_level2": "90",
        "ratio_level3": "85", "annual_cap": "10000", "effective_from": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "source": "渝北府办发〔2026〕1号 二(四)", "status": "confirmed", "active": "on",
    }
    data.update(kw)
    return data


def test_a_mistyped_group_code_is_refused_naming_the_known_one(admin_client):
    resp = admin_client.post(ADD, rule_post(group="IN_8O_75"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "待遇组编码“IN_8O_75”在现有政策中不存在" in html and "IN_80_75" in html
    assert not SchemeRule.objects.filter(group="IN_8O_75").exists()


def test_a_new_group_is_accepted_only_when_ticked_and_named(admin_client):
    html = admin_client.post(ADD, rule_post(group="IN_90", new_group="on")).content.decode()
    assert "新设待遇组“IN_90”须同时填写“新待遇组名称”" in html
    assert not SchemeRule.objects.filter(group="IN_90").exists()
    resp = admin_client.post(ADD, rule_post(group="IN_90", new_group="on", new_group_name="住院90%比例组"))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert SchemeRule.objects.filter(group="IN_90").exists()
    assert BenefitGroup.objects.get(code="IN_90").name == "住院90%比例组"
    assert "住院90%比例组" in admin_client.get("/admin/policy/schemerule/").content.decode()


def test_rates_are_entered_as_percentages(admin_client):
    resp = admin_client.post(ADD, rule_post())
    assert resp.status_code == 302
    row = SchemeRule.objects.get(group="IN_80_75", effective_from__gt=timezone.localdate())
    assert (row.ratio_level1, row.ratio_level3) == (Decimal("0.9000"), Decimal("0.8500"))
    page = admin_client.get(f"/admin/policy/schemerule/{row.pk}/change/").content.decode()
    assert 'value="90"' in page and 'value="85"' in page
    assert "90%" in admin_client.get("/admin/policy/schemerule/").content.decode()


@pytest.mark.parametrize(
    "typed,message",
    [("0.9", "请按百分数填写：0.9将被当作0.9%"), ("900", "比例应为0到100之间的百分数"), ("九十", "请填写百分数"),
     ("-5", "比例应为0到100之间的百分数"), ("90.125", "百分数最多两位小数")],
)
def test_nonsense_rates_get_a_clear_message(admin_client, typed, message):
    html = admin_client.post(ADD, rule_post(ratio_level2=typed)).content.decode()
    assert message in html
    assert not SchemeRule.objects.filter(effective_from__gt=timezone.localdate()).exists()


def test_a_row_in_force_cannot_be_deleted_a_future_one_can(admin_client):
    in_force = SchemeRule.objects.get(group="IN_75", category="")
    assert admin_client.get(f"/admin/policy/schemerule/{in_force.pk}/delete/").status_code == 403
    with pytest.raises(PolicyRowInForce):
        in_force.delete()
    resp = admin_client.post(
        "/admin/policy/schemerule/", {"action": "delete_not_in_force", "_selected_action": [in_force.pk]},
        follow=True,
    )
    assert SchemeRule.objects.filter(pk=in_force.pk).exists()
    assert "已生效，不能删除" in resp.content.decode()
    future = SchemeRule.objects.create(
        scheme="INPATIENT", group="IN_75", ratio_level1=Decimal("0.8"), ratio_level2=Decimal("0.8"),
        ratio_level3=Decimal("0.8"), annual_cap=Decimal("10000"), source="x",
        effective_from=timezone.localdate() + timedelta(days=10),
    )
    assert admin_client.post(f"/admin/policy/schemerule/{future.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not SchemeRule.objects.filter(pk=future.pk).exists()


def test_a_back_dated_row_shows_the_decisions_it_would_change_and_never_rewrites_them(admin_client, staff, make_person):
    from claims.models import Institution
    from claims.services import bill_decide, bill_enter, decision_approve

    p = make_person("吴特困", categories=("TEKUN",))
    inst = Institution.objects.create(code="H950", name="测试二级医院", level=2)
    bill = bill_enter(
        user=staff["district_clerk"], person=p, institution=inst, kind="INPATIENT", settled_on=date(2025, 4, 9),
        total_cost=Decimal("14000.00"), in_policy_cost=Decimal("14000.00"), basic_paid=Decimal("9000.00"),
    )
    d = bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    assert d.assistance == Decimal("4000.00")  # 5,000 x 80 %

    post = rule_post(effective_from="2025-03-01", source="渝北府办发〔2025〕2号 二(四)（更正）")
    resp = admin_client.post(ADD, post)
    html = resp.content.decode()
    assert resp.status_code == 200, "a back-dated row is not saved before its impact is shown"
    assert 'data-testid="backdated-impact"' in html
    assert f"手工报销票据{bill.pk}" in html and "4,000.00" in html and "4,500.00" in html and "500.00" in html
    assert "不会改写任何决定" in html
    assert not SchemeRule.objects.filter(effective_from=date(2025, 3, 1), group="IN_80_75", ratio_level1=Decimal("0.9")).exists()

    resp = admin_client.post(ADD, {**post, "confirm_backdated": "on"})
    assert resp.status_code == 302
    assert SchemeRule.objects.filter(effective_from=date(2025, 3, 1), group="IN_80_75", ratio_level1=Decimal("0.9")).exists()
    d.refresh_from_db()
    assert (d.assistance, d.is_current) == (Decimal("4000.00"), True)  # the decision keeps its figures


def test_policy_lists_name_each_category_and_read_the_names_once(admin_client, monkeypatch):
    """The category columns say the category's name (its code small beside it) and what an empty one means;
    the names are read once for the page, not built again with the field's choices for every row drawn
    (issue 14: 100 rows of /admin/policy/groupmembership/ spent most of their time there)."""
    from yfbz.policy import models as policy_models
    from yfbz.policy.models import GroupMembership

    real, calls = policy_models.category_records, []

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(policy_models, "category_records", counted)
    rows = GroupMembership.objects.count()
    assert rows >= 20
    html = admin_client.get("/admin/policy/groupmembership/").content.decode()
    assert len(calls) <= 2, f"the categories were read {len(calls)} times for {rows} rows"
    code = GroupMembership.objects.order_by("-pk").values_list("category", flat=True).first()  # on the first page
    name = policy_models.category_name(code)
    assert name != code and f'{name} <small style="color:#666">{code}</small>' in html
    assert "（该组所有类别）" in admin_client.get("/admin/policy/schemerule/").content.decode()


def test_the_group_filter_names_each_group(admin_client):
    """The 待遇组 filter of the policy lists offers each group by its name (Django's own listed bare codes)."""
    from yfbz.policy.models import GroupMembership, group_name

    html = admin_client.get("/admin/policy/groupmembership/").content.decode()
    assert f'<a href="?group=SUB_T1">{group_name("SUB_T1")}（SUB_T1）</a>' in html
    page = admin_client.get("/admin/policy/groupmembership/?group=SUB_T1").content.decode()
    cells = re.findall(r'<td class="field-group_column">(.*?)</td>', page)
    assert len(cells) == GroupMembership.objects.filter(group="SUB_T1").count() > 0
    assert all("SUB_T1" in c for c in cells)
