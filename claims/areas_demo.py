"""Demo data of areas (python manage.py demo_data, docs/areas.md): the five northern towns (统景、大湾、
兴隆、茨竹、大盛) moving to 北碚区 on 2026-01-25, an arriving town of former 江北 (观音桥街道) with its
own example policy (provisional), a person living there with a bill decided under it, and the staff
on both sides of the border: a city-level user, a 北碚区 district clerk and the 统景 clerk.

Runs after every other app's demo (``demo_steps_last``): records made before the move keep their
district. Re-runnable: nothing is added twice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

MOVE = date(2026, 1, 25)
NORTH = ("TJ", "DW", "XL", "CZ", "DS")
SOURCE = "渝府〔2025〕两江新区设立：镇街划转（演示）"
JB_SOURCE = "原江北区医疗救助实施办法（演示示例，暂行待确认）"
JB_RATIO = Decimal("0.6000")


def area_steps():
    """Run by claims.demo's demo_steps_last, after the bills of the year exist."""
    return [move_step, arriving_step, staff_step]


def move_step(stdout, rng):
    from beneficiaries.models import Town
    from yfbz.areas.services import move_towns
    from yfbz.areas.tree import area_tree

    towns = list(Town.objects.filter(code__in=NORTH))
    tree = area_tree()
    bb = tree.by_code("BB")
    if towns and all(tree.district_of(t.pk, MOVE) == bb.id for t in towns):
        stdout.write("镇街划转演示数据已存在，跳过")
        return
    move_towns(towns, "BB", MOVE, source=SOURCE)
    stdout.write(f"镇街划转：{'、'.join(t.name for t in towns)}自{MOVE:%Y-%m-%d}起隶属北碚区")


def arriving_step(stdout, rng):
    """观音桥街道 arrives from former 江北 with the set 原江北区镇街 and its example rules (provisional)."""
    from beneficiaries.models import Category, Identity, Person, Town
    from yfbz.areas.models import Area
    from yfbz.areas.services import add_town
    from yfbz.policy.models import GroupMembership, SchemeRule

    if Town.objects.filter(code="GYQ").exists():
        stdout.write("划入镇街演示数据已存在，跳过")
        return
    group, _ = Area.objects.get_or_create(code="JB_TOWNS", defaults={"name": "原江北区镇街", "kind": Area.Kind.GROUP})
    town = add_town("GYQ", "观音桥街道", "街道", "YB", MOVE, previous_district="JB", groups=[group], source=SOURCE)
    # former 江北's rules as data: 2号's groups and schemes with 江北's (example) ratio, provisional
    for model in (GroupMembership, SchemeRule):
        latest = {}
        for row in model.objects.filter(area__code="YB_TOWNS", effective_from__lte=MOVE).order_by("effective_from", "pk"):
            latest[tuple(getattr(row, f) for f in model.KEY_FIELDS)] = row
        for row in latest.values():
            row.pk = None
            row.area = group
            row.effective_from = MOVE
            row.status = "provisional"
            row.source = JB_SOURCE
            if model is SchemeRule:
                row.ratio_level1 = row.ratio_level2 = row.ratio_level3 = JB_RATIO
            row.save()
    # one person of 观音桥 with a bill after the arrival, decided under 江北's rules
    dibao = Category.objects.get(code="DIBAO")
    person = Person.objects.create(
        id_number=_id_number("50010519800315003"), name="江观音", sex="M", birth_date=date(1980, 3, 15), town=town,
        village="观音桥社区",
    )
    Identity.objects.create(person=person, category=dibao, valid_from=date(2024, 1, 1))
    _bill(person, MOVE + timedelta(days=20), stdout)
    stdout.write("划入镇街：观音桥街道（原江北区）自2026-01-25起划入，原江北区镇街示例政策（暂行）")


def _id_number(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def _bill(person, settled: date, stdout):
    from claims.models import Institution
    from claims.services import ClaimsError, bill_decide, bill_enter
    from yfbz.core.models import User

    clerk = User.objects.get(username="district_clerk")
    inst = Institution.objects.filter(code="CQ001").first() or Institution.objects.first()
    try:
        bill = bill_enter(
            user=clerk, person=person, institution=inst, kind="INPATIENT", disease="", admitted_on=settled - timedelta(days=6),
            settled_on=settled, total_cost=Decimal("8960.00"), in_policy_cost=Decimal("8000.00"),
            basic_paid=Decimal("4800.00"), critical_paid=Decimal("0.00"), account_holder=person.name,
            bank_name="重庆农村商业银行", bank_account="6228480000000001", note="演示数据：划入镇街",
        )
        bill_decide(bill_id=bill.pk, user=clerk)
    except ClaimsError as exc:
        stdout.write(f"划入镇街演示票据跳过：{exc}")


def staff_step(stdout, rng):
    """A city-level user, a 北碚区 district clerk, the 统景 clerk and the arriving town's clerk (password: the demo's)."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from beneficiaries.models import Town
    from yfbz.areas.models import Area
    from yfbz.core.models import User
    from yfbz.core.roles import Role

    helper = User.objects.filter(username="district_clerk").first()
    made = 0
    for username, full_name, role, town, district in (
        ("city", "市医保局（市级统筹）", Role.CITY, None, None),
        ("bb_clerk", "北碚区医保经办", Role.DISTRICT_CLERK, None, "BB"),
        ("tj_clerk", "统景镇经办员", Role.TOWN_CLERK, "TJ", None),
        ("gyq_clerk", "观音桥街道经办员", Role.TOWN_CLERK, "GYQ", None),  # a clerk for every town
    ):
        user, created = User.objects.get_or_create(username=username, defaults={
            "full_name": full_name, "town": Town.objects.filter(code=town).first() if town else None,
            "district": Area.objects.filter(code=district).first() if district else None,
            "is_staff": role != Role.TOWN_CLERK, "password_changed_at": timezone.now(),
        })
        if created:
            user.password = helper.password if helper else ""
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role.value))
            made += 1
    stdout.write(f"跨区演示账号：新增 {made} 个（city 市级、bb_clerk 北碚区、tj_clerk 统景镇）")
