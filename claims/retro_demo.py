"""Demo of the retroactive chain (issue 16, docs/claims.md "Retroactive identity changes"), run by
``manage.py demo_data`` after every app's own demo (``demo_steps_last``), on today's calendar:

- four people of 双龙湖街道 with bills settled in the last two months, approved and paid through this
  month's fund request (one payment fails at the bank), and a one-stop line of 渝北区人民医院
  confirmed and paid;
- then 民政's late delta roster for the month before last: three of them left 低保 at the end of
  the month before that, one became 低保 a month earlier than known;
- one change is walked through: re-decided by the district clerk, approved by the reviewer, the
  notice printed (it replaces the first one and asks for the money back); the other three wait on
  追溯变化 for a walker: a top-up, a one-stop line to dispute again, a withdrawn unpaid line.

Deterministic and re-runnable: nothing is added when the demo roster is already there.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

NOTE = "演示追溯"
FILE_NAME = "民政{month:%Y年%m月}补报增减名单（演示追溯）.xlsx"
PEOPLE = [
    # key, name, birth, category, village
    ("ended_paid", "周晓梅", date(1962, 3, 14), "DIBAO", "桂花社区"),
    ("started_early", "吴国庆", date(1958, 9, 2), "YINBING_ZHIPIN", "双河村"),
    ("one_stop", "郑秀兰", date(1970, 6, 21), "DIBAO", "新村社区"),
    ("unpaid", "冯建军", date(1966, 12, 8), "DIBAO", "石坪村"),
]


def _first_of(d: date, months_back: int) -> date:
    for _ in range(months_back):
        d = (d.replace(day=1) - timedelta(days=1)).replace(day=1)
    return d.replace(day=1)


def _people():
    from beneficiaries.models import Category, Identity, Person, Town
    from yfbz.rules.idcard import check_character

    town = Town.objects.get(code="SLH")
    out = {}
    for i, (key, name, birth, cat, village) in enumerate(PEOPLE):
        first17 = f"500112{birth:%Y%m%d}{870 + i:03d}"
        person, created = Person.objects.get_or_create(
            id_number=first17 + check_character(first17),
            defaults={"name": name, "birth_date": birth, "sex": "F" if i % 2 == 0 else "M", "town": town, "village": village,
                      "phone": f"1398300{i:04d}"},
        )
        if created:
            Identity.objects.create(person=person, category=Category.objects.get(code=cat), valid_from=date(2023, 1, 1))
        out[key] = person
    return out


def _roster_xlsx(rows) -> bytes:
    from yfbz.core.spreadsheets import write_xlsx

    return write_xlsx("名单", ["身份证号码", "姓名", "救助类别", "所属镇街", "认定日期", "联系电话", "退出日期"], rows)


def _compile(users, year: int, month: int, stdout):
    from funding import services

    try:
        return services.fund_request_create(year=year, month=month, user=users["district_clerk"])
    except services.FundingError as exc:  # nothing left to request: the demo's own cycle took it up
        stdout.write(f"追溯变化演示：{year}年{month}月资金申请未编制（{exc}）")
        return None


def _fund_and_pay(req, users, today, fail_key: str = "") -> None:
    """Submit, transfer (topping up 财政专户 for the demo when short) and pay a request; ``fail_key``'s
    payment fails at the bank."""
    from funding import services
    from funding.models import Account

    need = services.transfer_due(req)
    have = services.account_balance(Account.objects.get(code="SPECIAL"))
    if need > have:
        services.money_in(account="SPECIAL", kind="INCOME_DISTRICT", amount=need - have, on=today, counterpart="DISTRICT",
                          source_document="渝北财社演示追溯拨款", description="演示数据",
                          entered_by=users["finance"], approved_by=users["reviewer"])
    services.fund_request_submit(request_id=req.pk, user=users["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=today, source_document="渝北财社演示追溯划拨",
                                          entered_by=users["finance"], approved_by=users["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=users["finance"])
    failures = {p.pk: "演示：收款账户已销户" for p in batch.payments.select_related("line") if p.line.source_key == fail_key}
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=today, failures=failures, user=users["reviewer"])


def retroactive_demo(stdout, rng):
    from beneficiaries.models import Department, RetroactiveChange, RosterUpload
    from beneficiaries.services import roster_import
    from yfbz.core.models import User

    from .models import Bill, Institution
    from .notices import notice_print
    from .services import bill_decide, bill_enter, decision_approve, retroactive_change_redecide
    from .settlement import settlement_file_import, settlement_file_upload, settlement_month_confirm

    users = {u.username: u for u in User.objects.filter(username__in=["admin", "district_clerk", "reviewer", "finance"])}
    if len(users) < 4 or not Institution.objects.filter(code="YB001").exists():
        return
    today = timezone.localdate()
    last, before = _first_of(today, 1), _first_of(today, 2)  # the roster is for the month before last
    civil = Department.objects.get(code="CIVIL")
    name = FILE_NAME.format(month=before)
    if RosterUpload.objects.filter(department=civil, file_name=name).exists():
        stdout.write("追溯变化演示：已存在，跳过")
        return
    if RosterUpload.objects.filter(department=civil, month=before, status__in=["uploaded", "validated", "town_review"]).exists():
        stdout.write("追溯变化演示：民政该月名单尚在审核中，跳过（避免替代）")
        return
    people = _people()
    clerk, reviewer = users["district_clerk"], users["reviewer"]
    yb = Institution.objects.get(code="YB001")
    cq = Institution.objects.filter(code="CQ001").first() or yb

    def bill(person, settled, in_policy, basic):
        b = bill_enter(user=clerk, person=person, institution=cq if person is people["started_early"] else yb, kind="INPATIENT",
                       disease="", admitted_on=settled - timedelta(days=6), settled_on=settled, total_cost=in_policy + Decimal("820.00"),
                       in_policy_cost=in_policy, basic_paid=basic, critical_paid=Decimal("0.00"), account_holder=person.name,
                       bank_name="重庆农村商业银行渝北支行", bank_account=f"622848001{person.pk:07d}", note=NOTE)
        bill_decide(bill_id=b.pk, user=clerk)
        return decision_approve(bill_id=b.pk, user=reviewer, note="演示审批")

    d_ended = bill(people["ended_paid"], before + timedelta(days=11), Decimal("18600.00"), Decimal("11160.00"))
    bill(people["started_early"], last + timedelta(days=4), Decimal("12400.00"), Decimal("7440.00"))
    d_unpaid = bill(people["unpaid"], last + timedelta(days=9), Decimal("9800.00"), Decimal("5880.00"))
    # a one-stop settlement of last month at 渝北区中医院, agreed and confirmed (the other demo months stay as they are)
    from .models import SettlementMonth

    zy = Institution.objects.filter(code="YB002").first() or yb
    sm = SettlementMonth.objects.filter(institution=zy, month=last).first()
    if sm is None or sm.status == SettlementMonth.Status.OPEN:
        p = people["one_stop"]
        day = last + timedelta(days=7)
        csv = ("结算编号,公民身份号码,姓名,类型,疾病,入院日期,结算日期,医疗总费用,政策范围内费用,基本医保支付,大病保险支付,医疗救助垫付\n"
               f"{zy.code}-{last:%Y%m}-T001,{p.id_number},{p.name},住院,,{day - timedelta(days=5)},{day},16200.00,15000.00,"
               "9000.00,0.00,4800.00\n").encode()
        f = settlement_file_upload(institution=zy, month=last, file_name=f"{zy.code}-{last:%Y-%m}-演示追溯.csv", data=csv,
                                   user=clerk)
        settlement_file_import(file_id=f.pk, user=clerk, inline=True)
        sm = SettlementMonth.objects.get(pk=f.settlement_month_id)
        if not sm.lines.filter(outcome="DISPUTED", resolution="").exists():
            settlement_month_confirm(month_id=sm.pk, user=reviewer)
    # this month's request holds everything approved or confirmed by its end, the settlement month too
    req = _compile(users, today.year, today.month, stdout)
    if req is not None:
        _fund_and_pay(req, users, today, fail_key=f"decision:{d_unpaid.pk}:ASSISTANCE")
    notice_print(decision=d_ended, user=clerk)

    # the late roster: three left 低保 at the end of the month before it, one was 低保 a month earlier
    end = before - timedelta(days=1)
    rows = [
        (people["ended_paid"].id_number, people["ended_paid"].name, "低保", "双龙湖街道", "", "", end.isoformat()),
        (people["one_stop"].id_number, people["one_stop"].name, "低保", "双龙湖街道", "", "", end.isoformat()),
        (people["unpaid"].id_number, people["unpaid"].name, "低保", "双龙湖街道", "", "", end.isoformat()),
        (people["started_early"].id_number, people["started_early"].name, "低保", "双龙湖街道", end.replace(day=1).isoformat(), "", ""),
    ]
    roster_import(user=users["admin"], department=civil, month=before, mode="delta", file_name=name, data=_roster_xlsx(rows),
                  apply=True, confirm_endings=True)
    # one change walked through: re-decided, approved, the new notice printed
    change = RetroactiveChange.objects.get(person=people["ended_paid"], roster_upload__file_name=name)
    retroactive_change_redecide(change_id=change.pk, user=clerk)
    bill_obj = Bill.objects.get(pk=d_ended.bill_id)
    d2 = decision_approve(bill_id=bill_obj.pk, user=reviewer, note="演示：身份追溯终止，多付部分追回")
    notice_print(decision=d2, user=clerk)
    waiting = RetroactiveChange.objects.filter(roster_upload__file_name=name, status="OPEN").count()
    stdout.write(
        f"追溯变化演示：{before:%Y年%m月}民政补报名单，{PEOPLE[0][1]}的变化已重新核定、审批并出具新文书（追回多付）；"
        f"另有{waiting}条待处理（补发、一站式结算重新审核、撤回未付款项）"
        + (f"；资金申请 {req.number} 已支付" if req else "")
    )
