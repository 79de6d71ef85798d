"""Demo data of the funding app (python manage.py demo_data): enrolment for 2025, the subsidy run,
money received into the three accounts, the veterans' fund budget (an example figure), a few
self-paid reports approved, and March's fund request funded and paid. Re-runnable: each step
does nothing when its data is already there."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

YEAR = 2025
KINDS = ["RESIDENT_T1"] * 14 + ["RESIDENT_T2"] * 3 + ["EMPLOYEE_INDIVIDUAL", "EMPLOYEE_EMPLOYER", "NOT_ENROLLED"]


def _users():
    from yfbz.core.models import User

    return {u.username: u for u in User.objects.filter(username__in=["district_clerk", "reviewer", "finance", "slh_clerk"])}


def enrolment(stdout, rng):
    from beneficiaries.models import Person
    from funding.models import Enrolment

    if Enrolment.objects.filter(year=YEAR).exists():
        return
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    rows = [Enrolment(person_id=pk, year=YEAR, kind=KINDS[(pk * 7) % len(KINDS)], source="演示数据") for pk in ids if pk % 23]
    Enrolment.objects.bulk_create(rows, batch_size=5000)
    stdout.write(f"资助参保：{len(rows)} 条{YEAR}年参保登记（每23人中有1人未登记，用于漏保名单）")


def subsidy_run(stdout, rng):
    from funding.models import SubsidyRun
    from funding.services import subsidy_run_execute

    if SubsidyRun.objects.filter(year=YEAR, status="done").exists():
        return
    users = _users()
    run = SubsidyRun.objects.create(year=YEAR, started_by=users["district_clerk"])
    run = subsidy_run_execute(run_id=run.pk)
    stdout.write(f"资助参保计算：{run.count_eligible} 人可资助，合计 {run.total_amount} 元")


def ledger(stdout, rng):
    from funding.models import JournalEntry, YoufuBudget
    from funding.services import money_in

    if JournalEntry.objects.exists():
        return
    u = _users()
    for account, kind, amount, cp, doc in [
        ("SPECIAL", "INCOME_CENTRAL", "3000000.00", "CENTRAL", "财社〔2025〕演示1号"),
        ("SPECIAL", "INCOME_CITY", "1500000.00", "CITY", "渝财社〔2025〕演示2号"),
        ("SPECIAL", "INCOME_DISTRICT", "800000.00", "DISTRICT", "渝北财社〔2025〕演示3号"),
        ("YOUFU", "INCOME_DISTRICT", "300000.00", "DISTRICT", "渝北财社〔2025〕演示4号"),
        ("YOUFU", "INCOME_CITY", "100000.00", "CITY", "渝财社〔2025〕演示5号"),
    ]:
        money_in(account=account, kind=kind, amount=Decimal(amount), on=date(YEAR, 1, 15), counterpart=cp, source_document=doc,
                 description="演示数据", entered_by=u["finance"], approved_by=u["reviewer"])
    YoufuBudget.objects.get_or_create(year=YEAR, defaults={"amount": Decimal("400000.00")})
    stdout.write("资金账户：已登记演示拨款（财政专户、优抚资金），优抚资金年度预算为示例数字")


def march_cycle(stdout, rng):
    from beneficiaries.models import Person
    from funding import services
    from funding.models import FundRequest, SelfPaidReport

    if FundRequest.objects.exists():
        return
    u = _users()
    clerk = u["slh_clerk"]
    people = list(Person.objects.filter(town=clerk.town, subsidies__year=YEAR, subsidies__amount__gt=0).order_by("pk")[:5])
    for i, p in enumerate(people):
        if SelfPaidReport.objects.filter(person=p, year=YEAR).exists():
            continue
        rep = services.selfpaid_report(person=p, year=YEAR, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"), bank_name="重庆农村商业银行",
                                       bank_account=f"62284800{p.pk:08d}", account_holder=p.name, user=clerk, today=date(YEAR, 3, 2))
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=u["district_clerk"], on=date(YEAR, 3, 10 + i))
    req = services.fund_request_create(year=YEAR, month=3, user=u["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=u["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(YEAR, 3, 25), source_document="渝北财社〔2025〕演示9号",
                                          entered_by=u["finance"], approved_by=u["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=u["finance"])
    first = batch.payments.order_by("pk").first()
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(YEAR, 3, 28), failures={first.pk: "演示：账号有误"}, user=u["reviewer"])
    stdout.write(f"资金申请：{req.number} 已划拨并支付（1笔演示支付失败，待更正账号后重新支付）")


def demo_steps():
    return [enrolment, subsidy_run, ledger, march_cycle]
