"""Demo data of claims (python manage.py demo_data), on today's calendar: institutions, the last
eleven months of hand-settled bills decided and mostly approved (a few this month still waiting for
the district clerk's decision), and the three months before this one of one-stop settlement files
with some disputed lines.

Deterministic (seeded) and re-runnable: nothing is added twice (institutions by code, bills by
their demo note, settlement files by their bytes' sha256).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

INSTITUTIONS = [
    # code, name, level, in city, networked
    ("YB001", "重庆市渝北区人民医院", 2, True, True),
    ("YB002", "重庆市渝北区中医院", 2, True, True),
    ("CQ001", "重庆医科大学附属第一医院", 3, True, True),
    ("SLH01", "双龙湖街道社区卫生服务中心", 1, True, True),
    ("HX001", "回兴街道社区卫生服务中心", 0, True, True),
    ("CD001", "四川大学华西医院", 3, False, False),
    ("BJ001", "北京协和医院", 3, False, False),
]
DEMO_NOTE = "演示数据"


def demo_steps():
    return [institutions_step, bills_step, settlements_step, platform_step]


def demo_steps_last():
    """Run after every app's demo_steps (money must be in the ledger): the retroactive chain walked."""
    from .areas_demo import area_steps
    from .retro_demo import retroactive_demo
    from .waiting_demo import waiting_work

    return [retroactive_demo, *area_steps(), waiting_work]


def institutions_step(stdout, rng):
    from .models import Institution

    made = 0
    for code, name, level, in_city, networked in INSTITUTIONS:
        _, created = Institution.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "in_city": in_city, "networked": networked,
                                 "bank_name": "重庆农村商业银行渝北支行", "bank_account": f"9100{code}"}
        )
        made += created
    stdout.write(f"定点医药机构：新增 {made} 家")


def _staff():
    from yfbz.core.models import User

    return User.objects.get(username="district_clerk"), User.objects.get(username="reviewer")


def _identity_on(person, day) -> str:
    """The name of a category the person holds on ``day`` (the platform's 救助身份 of the demo file)."""
    from django.db.models import Q

    ident = (person.identities.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
             .select_related("category").order_by("pk").first())
    return ident.category.name if ident else ""


def _eligible_people(codes, n, seed):
    from beneficiaries.models import Person

    ids = list(Person.objects.filter(identities__category__code__in=codes, town__isnull=False)
               .order_by("id").values_list("id", flat=True).distinct())
    r = random.Random(seed)
    return Person.objects.filter(pk__in=r.sample(ids, min(n, len(ids)))).order_by("id")


def bills_step(stdout, rng):
    """About 150 bills settled over the last eleven months (outside the city, not networked, or employee
    outpatient), decided; four in five approved by the reviewer (provisional rules ticked); the last
    three, settled this month, are entered but not decided yet."""
    from .models import Bill, Institution
    from .services import ClaimsError, bill_decide, bill_enter, decision_approve

    if Bill.objects.filter(note__startswith=DEMO_NOTE).exists():
        stdout.write("手工报销演示数据已存在，跳过")
        return
    clerk, reviewer = _staff()
    r = random.Random(2025)
    today = timezone.localdate()
    first_day = max(date(2025, 1, 5), today - timedelta(days=330))  # the shipped rules start 2025-01-01
    insts = {i.code: i for i in Institution.objects.all()}
    people = list(_eligible_people(["DIBAO", "TEKUN", "ZHONGDU_CANJI", "BINGGU_YISHU", "ZAIXIANG_FUYUAN",
                                    "DIBAO_BIANYUAN", "YINBING_ZHIPIN", "CANZHAN"], 150, 11))
    made = approved = 0
    for i, person in enumerate(people):
        undecided = i >= len(people) - 3
        settled = today - timedelta(days=r.randrange(today.day)) if undecided else \
            first_day + timedelta(days=r.randrange(max(1, (today - first_day).days)))
        inpatient = r.random() < 0.7
        inst = insts[r.choice(["CD001", "BJ001", "CQ001", "YB001"] if inpatient else ["CD001", "SLH01", "HX001"])]
        if inpatient:
            inpol = Decimal(r.randrange(300_000, 5_000_000)) / 100
            basic = (inpol * Decimal("0.6")).quantize(Decimal("0.01"))
            crit = (inpol * Decimal("0.05")).quantize(Decimal("0.01")) if inpol > 30_000 else Decimal("0.00")
        else:
            inpol = Decimal(r.randrange(8_000, 150_000)) / 100
            basic = (inpol * Decimal("0.5")).quantize(Decimal("0.01"))
            crit = Decimal("0.00")
        disease = r.choice(["", "", "", "", "肺癌", "脑梗死", "终末期肾病（尿毒症）"]) if inpatient else ""
        try:
            bill = bill_enter(
                user=clerk, person=person, institution=inst, kind="INPATIENT" if inpatient else "OUTPATIENT",
                disease=disease, admitted_on=settled - timedelta(days=r.randrange(3, 20)) if inpatient else None,
                settled_on=settled, total_cost=(inpol * Decimal("1.12")).quantize(Decimal("0.01")), in_policy_cost=inpol,
                basic_paid=basic, critical_paid=crit, account_holder=person.name, bank_name="重庆农村商业银行",
                bank_account=f"62284800{person.pk:08d}", note=f"{DEMO_NOTE}{i + 1}",
            )
            made += 1
            if undecided:
                continue
            d = bill_decide(bill_id=bill.pk, user=clerk)
            if r.random() < 0.8:
                decision_approve(bill_id=bill.pk, user=reviewer, confirm_provisional=d.provisional, note="演示审批")
                approved += 1
        except ClaimsError as exc:
            stdout.write(f"演示票据跳过：{exc}")
    stdout.write(f"手工报销票据：新增 {made} 张，其中已审批 {approved} 张，本月 3 张待经办核定")


def _settlement_csv(person_rows, month: date, inst_code: str, r: random.Random) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["结算编号", "公民身份号码", "姓名", "类型", "疾病", "入院日期", "结算日期", "医疗总费用", "政策范围内费用",
                "基本医保支付", "大病保险支付", "医疗救助垫付"])
    for n, (idn, name, ratio) in enumerate(person_rows, start=1):
        day = month + timedelta(days=r.randrange(27))
        inpol = Decimal(r.randrange(200_000, 1_500_000)) / 100
        basic = (inpol * Decimal("0.6")).quantize(Decimal("0.01"))
        advanced = ((inpol - basic) * ratio).quantize(Decimal("0.01"))
        w.writerow([f"{inst_code}-{month:%Y%m}-{n:04d}", idn, name, "住院", "", (day - timedelta(days=5)).isoformat(),
                    day.isoformat(), str(inpol), str(inpol), str(basic), "0.00", str(advanced)])
    dup = person_rows[0]
    w.writerow([f"{inst_code}-{month:%Y%m}-0001", dup[0], dup[1], "住院", "", "", (month + timedelta(days=3)).isoformat(),
                "5000.00", "5000.00", "3000.00", "0.00", "1600.00"])  # the same settlement sent twice
    w.writerow([f"{inst_code}-{month:%Y%m}-9999", "500112199001011234", "查无此人", "住院", "", "",
                (month + timedelta(days=4)).isoformat(), "3000.00", "3000.00", "1800.00", "0.00", "960.00"])
    return buf.getvalue().encode("utf-8")


def settlements_step(stdout, rng):
    """Three months of one networked level-2 hospital: most lines agree (80% for 低保/特困), some are
    disputed (a wrong ratio, a person not eligible, a duplicate, an unknown ID number)."""
    from .models import Institution
    from .services import ClaimsError
    from .settlement import settlement_file_import, settlement_file_upload

    clerk, _ = _staff()
    inst = Institution.objects.get(code="YB001")
    r = random.Random(303)
    good = [(p.id_number, p.name, Decimal("0.80")) for p in _eligible_people(["DIBAO", "TEKUN"], 60, 21)]
    other = [(p.id_number, p.name, Decimal("0.80")) for p in _eligible_people(["DIBAO_BIANYUAN", "KUNNAN_DAXUESHENG"], 6, 22)]
    done = 0
    months, m = [], timezone.localdate().replace(day=1)
    for _ in range(3):
        m = (m - timedelta(days=1)).replace(day=1)
        months.insert(0, m)
    for k, month in enumerate(months):
        rows = good[k * 20 : k * 20 + 18] + other[k * 2 : k * 2 + 2]
        rows[3] = (rows[3][0], rows[3][1], Decimal("0.90"))  # an institution's wrong ratio
        data = _settlement_csv(rows, month, inst.code, r)
        try:
            f = settlement_file_upload(institution=inst, month=month, file_name=f"{inst.code}-{month:%Y-%m}.csv",
                                       data=data, user=clerk)
        except ClaimsError:
            continue  # imported on an earlier run
        f = settlement_file_import(file_id=f.pk, user=clerk, inline=True)
        done += 1
        stdout.write(f"一站式结算 {f.settlement_month}：{f.lines_total} 行，无异议 {f.lines_agreed}，有异议 {f.lines_disputed}")
    if not done:
        stdout.write("一站式结算演示文件已导入，跳过")


def platform_step(stdout, rng):
    """Last month's settlement detail of the city platform (title rows, the platform's headers), all
    institutions in one file: split by institution and audited; one line with employees' large-amount
    insurance, one with 倾斜救助, one wrong ratio, and a clinic we do not know (listed for the
    administrator; its lines wait)."""
    from yfbz.files.samples import platform_row, platform_xlsx

    from .models import Institution, PlatformSettlementFile
    from .platform import platform_file_upload
    from .services import ClaimsError
    from .settlement import settlement_file_import

    if PlatformSettlementFile.objects.exists():
        stdout.write("平台结算明细演示文件已导入，跳过")
        return
    clerk, _ = _staff()
    # last month, as the platform exports a month after it ends (渝北区中医院's last month is the retroactive
    # demo's, confirmed there: this file names 渝北区人民医院 and 重医附一院)
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    insts = {i.code: i for i in Institution.objects.filter(code__in=["YB001", "CQ001"])}
    r = random.Random(618)
    rows = []
    for n, p in enumerate(_eligible_people(["DIBAO", "TEKUN"], 24, 23)):
        inst = insts["YB001" if n % 2 else "CQ001"]
        day = month + timedelta(days=r.randrange(27))
        inpol = Decimal(r.randrange(200_000, 1_200_000)) / 100
        basic = (inpol * Decimal("0.6")).quantize(Decimal("0.01"))
        large = Decimal("1000.00") if n == 1 else Decimal("0.00")
        ratio = Decimal("0.90") if n == 4 else Decimal("0.80")  # the institution's wrong ratio
        advanced = ((inpol - basic - large) * ratio).quantize(Decimal("0.01"))
        rows.append(platform_row(f"JS{month:%Y%m}{n:05d}", p.id_number, p.name, inst.name, str(advanced),
                                 in_policy=str(inpol), basic=str(basic), large=str(large), settled=day,
                                 tilted="300.00" if n == 2 else "0.00", insured="职工" if n == 1 else "城乡居民",
                                 town=p.town.name if p.town_id else "",
                                 # the platform's 救助身份: ours on the day, but two it still has as 特困 / an old wording
                                 identity=("特困人员" if n == 3 else "低保户（原）" if n == 6 else _identity_on(p, day))))
    p = _eligible_people(["DIBAO"], 1, 24).first()
    rows.append(platform_row(f"JS{month:%Y%m}99999", p.id_number, p.name, "重庆渝北仙桃诊所", "800.00", in_policy="2000.00",
                             basic="1000.00", settled=month + timedelta(days=9), kind="普通门诊"))
    try:
        pf, files = platform_file_upload(month=month, file_name=f"结算明细{month:%Y%m}.xlsx", data=platform_xlsx(rows, month),
                                         user=clerk)
    except ClaimsError as exc:
        stdout.write(f"平台结算明细演示文件未导入：{exc}")
        return
    for f in files:
        f = settlement_file_import(file_id=f.pk, user=clerk, inline=True)
        stdout.write(f"平台结算明细拆分 {f.settlement_month}：{f.lines_total} 行，无异议 {f.lines_agreed}，有异议 {f.lines_disputed}")
    stdout.write(f"平台结算明细：待添加机构 {len(pf.unknown)} 家（{'、'.join(u['name'] for u in pf.unknown)}）")
