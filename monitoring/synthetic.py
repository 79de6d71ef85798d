"""Synthetic monthly exports for the benchmark (bench/monitoring.py), its test-sized version
(tests/monitoring/test_volume.py) and the demo: recipients made in bulk, and a CSV of settlements in
the city platform's wording where some recipients got no assistance (应救未救), some carry a heavy
burden (负担仍重) and some residents with no identity too (疑似因病致贫返贫)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal

from yfbz.rules.idcard import check_character

HEADER = ["结算流水号", "公民身份号码", "姓名", "镇街", "结算日期", "定点机构编码", "就诊医疗机构名称", "医疗机构等级", "医疗类别",
          "疾病名称", "费用总额", "政策内费用", "统筹支付", "大病报销金额", "医疗救助支付", "倾斜救助", "优抚补助支付", "清算期"]
RECIPIENT_CATEGORIES = ["DIBAO"] * 5 + ["TEKUN", "DIBAO_BIANYUAN", "DIBAO_BIANYUAN", "FANPIN_ZHIPIN", "ZHONGDU_CANJI"]


def id_number(i: int, region: str = "500112") -> str:
    birth = date(1935, 1, 1) + timedelta(days=i % 25_000)
    first17 = f"{region}{birth:%Y%m%d}{(i // 25_000) % 1000:03d}"
    return first17 + check_character(first17)


def make_recipients(n: int, *, offset: int = 0, valid_from: date = date(2024, 1, 1)) -> list[str]:
    """``n`` people with a recipient identity (bulk_create), spread over the towns; their ID numbers."""
    from beneficiaries.models import Category, Identity, Person, Town

    towns = list(Town.objects.filter(active=True).order_by("code").values_list("pk", flat=True))
    cats = dict(Category.objects.values_list("code", "pk"))
    numbers = [id_number(offset + i) for i in range(n)]
    people = [Person(id_number=idn, name=f"救助{offset + i}", birth_date=date(1935, 1, 1) + timedelta(days=(offset + i) % 25_000),
                     sex="M" if i % 2 else "F", town_id=towns[(offset + i) % len(towns)]) for i, idn in enumerate(numbers)]
    Person.objects.bulk_create(people, batch_size=5000)
    ids = dict(Person.objects.filter(id_number__in=numbers).values_list("id_number", "pk")) if n <= 50_000 else \
        dict(Person.objects.values_list("id_number", "pk"))
    Identity.objects.bulk_create([
        Identity(person_id=ids[idn], category_id=cats[RECIPIENT_CATEGORIES[i % len(RECIPIENT_CATEGORIES)]], valid_from=valid_from)
        for i, idn in enumerate(numbers)], batch_size=5000)
    return numbers


def export_csv(*, lines: int, people: int, recipients: list[str], month: date, seed: int = 12,
               institutions: list[tuple[str, str, int]] | None = None) -> bytes:
    """A month's export: ``lines`` settlements of ``people`` residents (the first ``len(recipients)``
    of them the recipients given). About 1 in 4 recipients' settlements carry no assistance."""
    from beneficiaries.models import Town

    rng = random.Random(seed)
    towns = list(Town.objects.filter(active=True).order_by("code").values_list("name", flat=True))
    insts = institutions or [("YB01", "渝北区人民医院", 2), ("CQ01", "重庆医科大学附属第一医院", 3), ("SQ01", "社区卫生服务中心", 0)]
    residents = list(recipients) + [id_number(i, region="500113") for i in range(people - len(recipients))]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    days = [month + timedelta(days=d) for d in range(28)]
    period = f"{month:%Y%m}"
    n_rec = len(recipients)
    for i in range(lines):
        p = i % people
        idn = residents[p]
        code, name, level = insts[rng.randrange(len(insts))]
        inpatient = rng.random() < 0.6
        total = Decimal(rng.randrange(300_000, 6_000_000)) / 100 if inpatient else Decimal(rng.randrange(50_000, 800_000)) / 100
        in_policy = (total * Decimal("0.85")).quantize(Decimal("0.01"))
        basic = (in_policy * Decimal("0.55")).quantize(Decimal("0.01"))
        critical = (in_policy * Decimal("0.10")).quantize(Decimal("0.01")) if inpatient else Decimal("0.00")
        assistance = Decimal("0.00")
        if p < n_rec and rng.random() < 0.75:
            assistance = ((in_policy - basic - critical) * Decimal("0.6")).quantize(Decimal("0.01"))
        w.writerow([f"{period}-{i:08d}", idn, f"人员{p}", towns[p % len(towns)], days[rng.randrange(28)].isoformat(), code, name,
                    level, "住院" if inpatient else "门诊慢特病", "", total, in_policy, basic, critical, assistance, "", "", period])
    return buf.getvalue().encode("utf-8")
