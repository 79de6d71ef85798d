"""Demo data of monitoring (python manage.py demo_data), on today's calendar: last month's high-cost
export with a warning of each kind (应救未救, 负担仍重, 疑似因病致贫返贫), some followed up (contacted; one
referred to 民政 and waiting for its officer), and applications for assistance waiting for each role
(the town's review, the district clerk's opinion, the reviewer's decision).

Run after every app's demo_steps (the people, institutions and staff exist). Re-runnable: the export
is imported once (by its file name), the applications once (by their demo reason)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

DEMO_FILE = "演示-高额医疗费用明细.csv"
DEMO_REASON = "（演示）"
HEADER = ["结算流水号", "公民身份号码", "姓名", "镇街", "结算日期", "定点机构编码", "医疗类别", "费用总额", "政策内费用",
          "统筹支付", "大病报销金额", "医疗救助支付", "优抚补助支付"]


def _scan(title: str) -> bytes:
    """A real (one-page) PDF standing for a scanned paper, laid out like the notices."""
    from weasyprint import HTML

    from claims.notices import _weasy

    css, fonts = _weasy()
    html = f"<h1>{title}</h1><p>（演示数据：申请人提交的纸质材料扫描件示例）</p>"
    return HTML(string=html).write_pdf(stylesheets=[css], font_config=fonts)


def demo_steps_last():
    return [high_cost_step, applications_step]


def _last_month() -> date:
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def _recipients(town_code: str, n: int, skip: int = 0) -> list:
    """People of a town holding a 低保 identity today, with no hand-settled bill (their caps untouched)."""
    from django.db.models import Q

    from beneficiaries.models import Person

    today = timezone.localdate()
    return list(Person.objects.filter(town__code=town_code, identities__category__code="DIBAO", identities__valid_from__lte=today)
                .filter(Q(identities__valid_to__isnull=True) | Q(identities__valid_to__gte=today))
                .exclude(bills__isnull=False).distinct().order_by("id_number")[skip:skip + n])


def _stranger() -> tuple[str, str]:
    """A resident the bureau does not know (no identity): an ID number no person has."""
    from beneficiaries.models import Person
    from yfbz.rules.idcard import check_character

    for seq in range(901, 999):
        first17 = f"500112{date(1958, 3, 3):%Y%m%d}{seq:03d}"
        idn = first17 + check_character(first17)
        if not Person.objects.filter(id_number=idn).exists():
            return idn, "何居民"
    raise RuntimeError("no free demo ID number")


def high_cost_step(stdout, rng):
    from django.contrib.auth import get_user_model

    from beneficiaries.models import Department

    from .followup import alert_act
    from .importing import import_high_cost
    from .models import Alert, AlertKind, HighCostImport

    if HighCostImport.objects.filter(file_name=DEMO_FILE).exists():
        stdout.write("高额医疗费用明细（演示）：已导入")
        return
    month = _last_month()
    slh, hx = _recipients("SLH", 3), _recipients("HX", 2)
    if len(slh) < 3 or len(hx) < 2:
        stdout.write("高额医疗费用明细（演示）：双龙湖或回兴的低保对象不足，跳过")
        return
    stranger_id, stranger_name = _stranger()
    d = lambda day: month.replace(day=day).isoformat()  # noqa: E731
    rows = [
        # 应救未救: recipients settled with no assistance
        ["91000000001", slh[0].id_number, slh[0].name, "双龙湖街道", d(5), "YB001", "住院", "32000.00", "26000.00", "15000.00", "2500.00", "0", ""],
        ["91000000002", hx[0].id_number, hx[0].name, "回兴街道", d(12), "CQ001", "住院", "28000.00", "23000.00", "13000.00", "2000.00", "0", ""],
        # 负担仍重: assistance paid, the burden still above the threshold
        ["91000000003", slh[1].id_number, slh[1].name, "双龙湖街道", d(8), "CQ001", "住院", "95000.00", "70000.00", "35000.00", "12000.00", "9000.00", ""],
        # 疑似因病致贫返贫: a resident with no identity, a heavy burden
        ["91000000004", stranger_id, stranger_name, "双龙湖街道", d(15), "CQ001", "住院", "68000.00", "50000.00", "26000.00", "6000.00", "0", ""],
        # paid as it should: no warning
        ["91000000005", slh[2].id_number, slh[2].name, "双龙湖街道", d(20), "YB002", "门诊", "3000.00", "2800.00", "1500.00", "0", "650.00", ""],
        ["91000000006", hx[1].id_number, hx[1].name, "回兴街道", d(22), "YB001", "住院", "12000.00", "10000.00", "6000.00", "0", "2000.00", ""],
    ]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([f"渝北区高额医疗费用明细（{month:%Y年%m月}）"])
    w.writerow(HEADER)
    w.writerows(rows)
    User = get_user_model()
    clerk = User.objects.filter(username="district_clerk").first()
    summary, imp = import_high_cost(data=buf.getvalue().encode("utf-8-sig"), file_name=DEMO_FILE, month=month, user=clerk,
                                    apply=True)
    stdout.write(f"高额医疗费用明细（演示）：{summary.rows}行，预警 " + "，".join(
        f"{AlertKind(k).label}{v}" for k, v in summary.alerts.items()))
    # some followed up: one contacted, the 负担仍重 one referred to 民政 (waiting for its officer)
    today = timezone.localdate()
    slh_clerk = User.objects.filter(username="slh_clerk").first()
    if slh_clerk is None:
        return
    first = Alert.objects.filter(raised_by_import=imp, kind=AlertKind.YJWJ, town__code="SLH").first()
    if first:
        alert_act(alert_id=first.pk, user=slh_clerk, action="CONTACTED", done_on=today, note="（演示）电话联系本人，告知可申请救助")
    heavy = Alert.objects.filter(raised_by_import=imp, kind=AlertKind.FDZZ, town__code="SLH").first()
    if heavy:
        alert_act(alert_id=heavy.pk, user=slh_clerk, action="REFERRED", done_on=today, note="（演示）家庭收入骤减，疑似符合特困条件",
                  department=Department.objects.get(code="CIVIL"))


def applications_step(stdout, rng):
    from django.contrib.auth import get_user_model

    from claims.models import Institution

    from .applications import application_propose, application_register, application_review
    from .models import Application

    if Application.objects.filter(reason__endswith=DEMO_REASON).exists():
        stdout.write("依申请救助（演示）：已有")
        return
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=("slh_clerk", "district_clerk"))}
    inst = Institution.objects.filter(code="YB001").first()
    people = _recipients("SLH", 3, skip=3)
    if len(users) < 2 or inst is None or len(people) < 3:
        stdout.write("依申请救助（演示）：缺少演示账号、机构或人员，跳过")
        return
    settled = _last_month().replace(day=18)
    papers = [("申请书.pdf", _scan("医疗救助申请书")), ("住院费用清单.pdf", _scan("住院费用清单"))]
    made = []
    for i, (person, behalf) in enumerate(zip(people, (True, False, False), strict=True)):
        made.append(application_register(
            user=users["slh_clerk"], person=person, papers=papers,
            reason="住院自付费用较高，家庭生活困难，申请医疗救助" + DEMO_REASON, on_behalf=behalf,
            agent_name="（演示）代办人" if behalf else "", agent_relation="子女" if behalf else "",
            institution=inst, kind="INPATIENT", admitted_on=settled - timedelta(days=6 + i), settled_on=settled,
            total_cost=Decimal("26000.00") + 1000 * i, in_policy_cost=Decimal("21000.00"), basic_paid=Decimal("12000.00"),
            critical_paid=Decimal("1500.00"), account_holder=person.name, bank_name="重庆农村商业银行渝北支行",
            bank_account=f"62210000{person.pk:08d}",
        ))
    # one waits for the town's review, one for the district clerk's opinion, one for the reviewer
    application_review(application_id=made[1].pk, user=users["slh_clerk"], complete=True)
    application_review(application_id=made[2].pk, user=users["slh_clerk"], complete=True)
    application_propose(application_id=made[2].pk, user=users["district_clerk"], opinion="GRANT", note="（演示）资料齐全")
    stdout.write("依申请救助（演示）：" + "，".join(Application.objects.get(pk=a.pk).get_status_display() for a in made))
