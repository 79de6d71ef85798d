"""Deterministic, re-runnable demo data: staff for every role and about 5,000 people.

    python manage.py demo_data [--people 5000] [--password ...]

Running it again adds nothing twice (people are keyed by ID number, staff by username).
Other apps extend the demo through `demo_steps()` in their `demo.py` module: each step is a
callable(stdout, rng) run after the people exist, in the order of DEMO_APPS; `demo_steps_last()`
steps run after every app's `demo_steps` (scenarios that need every app's data).
"""

import random
from datetime import date, timedelta
from importlib import import_module

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from beneficiaries.models import Category, Identity, Person, Town
from yfbz.core.models import User
from yfbz.core.roles import Role
from yfbz.rules.idcard import check_character

DEMO_PASSWORD = "yfbz-demo-2025"
DEMO_APPS = ("yfbz.policy", "beneficiaries", "claims", "funding", "reporting", "monitoring")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢傅钟"
GIVEN = "建国秀英志强丽华明军红梅小平德福桂兰玉珍春燕海涛俊杰文静家豪思远婷婷子涵雨欣浩然国强淑芬永福秋菊新民"
VILLAGES = ["新村社区", "石坪村", "双河村", "桂花社区", "龙井村", "花园社区", "大石村", "金竹村", "观音桥村", "幸福社区"]

# (category, share of people) — roughly the shape of a district's caseload
CATEGORY_MIX = [
    ("DIBAO", 0.34), ("TEKUN", 0.08), ("DIBAO_BIANYUAN", 0.10), ("YINBING_ZHIPIN", 0.04), ("ZHONGDU_CANJI", 0.12),
    ("FANPIN_ZHIPIN", 0.03), ("TUOPIN_BUWENDING", 0.04), ("BIANYUAN_YIZHIPIN", 0.03), ("TUFA_KUNNAN", 0.01),
    ("BINGGU_YISHU", 0.02), ("ZAIXIANG_FUYUAN", 0.02), ("CANZHAN", 0.02), ("NONGCUN_60", 0.03), ("CANJI_7_10", 0.02),
    ("LIESHI_YISHU", 0.01), ("SANJU_GUER", 0.01), ("WUREN_FUYANG", 0.01), ("JINGJIAN_60", 0.01),
    ("KUNNAN_DAXUESHENG", 0.04), ("CANJI_1_6", 0.01), ("LIESHI_97", 0.005), ("BUDUI_8023_ZINV", 0.005),
]

STAFF = [
    # username, full name, role, town code, department code
    ("admin", "系统管理员", Role.SYSADMIN, None, None),
    ("civil_officer", "民政局数据员", Role.DEPT_OFFICER, None, "CIVIL"),
    ("veterans_officer", "退役军人局数据员", Role.DEPT_OFFICER, None, "VETERANS"),
    ("district_clerk", "区医保经办", Role.DISTRICT_CLERK, None, None),
    ("reviewer", "区医保审核", Role.DISTRICT_REVIEWER, None, None),
    ("finance", "财务人员", Role.FINANCE, None, None),
    ("auditor", "审计人员", Role.AUDITOR, None, None),
    ("security_admin", "安全管理员", Role.SECURITY_ADMIN, None, None),
    ("leader", "局领导", Role.LEADERSHIP, None, None),
]


TOWN_CLERK_PATTERN = "{code}_clerk"  # one clerk per town, e.g. slh_clerk (双龙湖街道), hx_clerk (回兴街道)


def town_clerks() -> list[tuple]:
    """A clerk for every town (STAFF's shape), named by the pattern: slh_clerk, hx_clerk, …"""
    return [(TOWN_CLERK_PATTERN.format(code=t.code.lower()), f"{t.name}经办员", Role.TOWN_CLERK, t.code, None)
            for t in Town.objects.order_by("pk")]


def demo_people(n: int, seed: int = 20250101):
    """Yield (id_number, name, birth, sex, town_index, village, phone, [(category, valid_from)]) deterministically."""
    rng = random.Random(seed)
    codes = [c for c, _ in CATEGORY_MIX]
    weights = [w for _, w in CATEGORY_MIX]
    seen = set()
    while len(seen) < n:
        cat = rng.choices(codes, weights)[0]
        if cat == "KUNNAN_DAXUESHENG":
            age = rng.randint(18, 23)
        elif cat in ("SANJU_GUER", "WUREN_FUYANG", "HIV_CHILD", "BUDUI_8023_ZINV"):
            age = rng.randint(3, 17)
        elif cat in ("NONGCUN_60", "JINGJIAN_60", "ZAIXIANG_FUYUAN", "BINGGU_YISHU"):
            age = rng.randint(61, 92)
        else:
            age = rng.randint(20, 90)
        birth = date(2025 - age, 1, 1) + timedelta(days=rng.randint(0, 364))
        sex = rng.choice("MF")
        seq = rng.randint(0, 99) * 10 + rng.choice([1, 3, 5, 7, 9] if sex == "M" else [0, 2, 4, 6, 8])
        first17 = f"500112{birth:%Y%m%d}{seq:03d}"
        idn = first17 + check_character(first17)
        if idn in seen:
            continue
        seen.add(idn)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        identities = [(cat, date(rng.choice([2019, 2021, 2023, 2024]), rng.randint(1, 12), 1))]
        if cat == "DIBAO" and rng.random() < 0.08:
            identities.append(("ZHONGDU_CANJI", date(2022, 6, 1)))
        yield (
            idn, name, birth, sex, rng.randrange(10_000), rng.choice(VILLAGES),
            f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}", identities,
        )


class Command(BaseCommand):
    help = "载入演示数据（可重复运行）：各角色演示账号和约5000名救助对象。"

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=5000)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args, people, password, **opts):
        with transaction.atomic():
            self._staff(password)
            created = self._people(people)
        self.stdout.write(f"演示人员：新增 {created} 人，共 {Person.objects.count()} 人")
        rng = random.Random(7)
        modules = []
        for app in DEMO_APPS:
            try:
                modules.append(import_module(f"{app}.demo"))
            except ModuleNotFoundError:
                continue
        # demo_steps of every app, then demo_steps_last (scenarios that need every app's data)
        for hook in ("demo_steps", "demo_steps_last"):
            for module in modules:
                for step in getattr(module, hook, list)():
                    step(self.stdout, rng)
        self.stdout.write(self.style.SUCCESS(
            f"演示账号（密码均为 {password}）：" + "、".join(u for u, *_ in STAFF)
            + f"；镇街经办员每镇街一个，账号为“镇街代码小写_clerk”，如 slh_clerk（双龙湖街道）、hx_clerk（回兴街道），"
            f"共 {Town.objects.count()} 个（镇街代码见 yfbz/reference/towns.csv）"
        ))

    def _staff(self, password):
        towns = {t.code: t for t in Town.objects.all()}
        from beneficiaries.models import Department

        depts = {d.code: d for d in Department.objects.all()}
        for username, full_name, role, town, dept in STAFF + town_clerks():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"full_name": full_name, "town": towns.get(town), "department": depts.get(dept)},
            )
            if created:
                from django.utils import timezone

                user.set_password(password)
                user.password_changed_at = timezone.now()  # demo accounts: no first-login change
                user.is_staff = role in (Role.SYSADMIN, Role.DISTRICT_CLERK, Role.DISTRICT_REVIEWER, Role.FINANCE, Role.AUDITOR,
                                         Role.SECURITY_ADMIN)
                user.is_superuser = username == "admin"
                user.save()
            user.groups.add(Group.objects.get(name=role.value))

    def _people(self, n):
        towns = list(Town.objects.order_by("code"))
        cats = {c.code: c for c in Category.objects.all()}
        existing = set(Person.objects.values_list("id_number", flat=True))
        new_people, pending = [], []
        for idn, name, birth, sex, town_i, village, phone, identities in demo_people(n):
            if idn in existing:
                continue
            new_people.append(
                Person(id_number=idn, name=name, birth_date=birth, sex=sex, town=towns[town_i % len(towns)], village=village, phone=phone)
            )
            pending.append(identities)
        Person.objects.bulk_create(new_people, batch_size=2000)
        ids = dict(Person.objects.filter(id_number__in=[p.id_number for p in new_people]).values_list("id_number", "id"))
        Identity.objects.bulk_create(
            [
                Identity(person_id=ids[p.id_number], category=cats[c], valid_from=f)
                for p, idents in zip(new_people, pending, strict=True)
                for c, f in idents
            ],
            batch_size=2000,
        )
        return len(new_people)
