"""Demo data of the funding app (python manage.py demo_data), on today's calendar: enrolment and the
subsidy run for the previous and the current year (the current year's contribution standard is entered
as an example when the policy has none), money received into the three accounts, the veterans' fund
budget (an example figure), a few self-paid reports approved, and last month's fund request funded and
paid with one payment failed at the bank. Re-runnable: each step does nothing when its data is there."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

KINDS = ["RESIDENT_T1"] * 14 + ["RESIDENT_T2"] * 3 + ["EMPLOYEE_INDIVIDUAL", "EMPLOYEE_EMPLOYER", "NOT_ENROLLED"]
EXAMPLE_SOURCE = "演示示例：{year}年度城乡居民医保个人缴费标准（示例数字，请按正式文件录入）"


def demo_years(today: date | None = None) -> list[int]:
    """The years the demo covers: the previous and the current one."""
    today = today or timezone.localdate()
    return [today.year - 1, today.year]


def last_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _users():
    from yfbz.core.models import User

    return {u.username: u for u in User.objects.filter(username__in=["district_clerk", "reviewer", "finance", "slh_clerk"])}


def standards(stdout, rng):
    """A contribution standard for each demo year: the shipped one where it exists, else an example row."""
    from yfbz.policy.models import ContributionStandard, Status

    made = []
    for year in demo_years():
        if ContributionStandard.objects.filter(year=year, category="").exists():
            continue
        base = ContributionStandard.objects.filter(year__lt=year, category="").order_by("-year", "-effective_from").first()
        ContributionStandard.objects.create(
            year=year, category="", t1=base.t1 if base else Decimal("400.00"), t2=base.t2 if base else Decimal("775.00"),
            effective_from=date(year, 1, 1), source=EXAMPLE_SOURCE.format(year=year), status=Status.PROVISIONAL,
            note="演示数据：沿用上一年度数字作示例",
        )
        made.append(str(year))
    if made:
        stdout.write(f"政策：已为{'、'.join(made)}年录入示例缴费标准（暂行，待按正式文件确认）")


def enrolment(stdout, rng):
    from beneficiaries.models import Person
    from funding.models import Enrolment

    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    for year in demo_years():
        if Enrolment.objects.filter(year=year).exists():
            continue
        rows = [Enrolment(person_id=pk, year=year, kind=KINDS[(pk * 7 + year) % len(KINDS)], source="演示数据")
                for pk in ids if pk % 23]
        Enrolment.objects.bulk_create(rows, batch_size=5000)
        stdout.write(f"资助参保：{len(rows)} 条{year}年参保登记（每23人中有1人未登记，用于漏保名单）")


def subsidy_run(stdout, rng):
    from funding.models import SubsidyRun
    from funding.services import subsidy_run_execute
    from yfbz.core import jobs

    users = _users()
    for year in demo_years():
        if SubsidyRun.objects.filter(year=year, status="done").exists():
            continue
        run = SubsidyRun.objects.create(year=year, started_by=users["district_clerk"])
        jobs.queue(run, by=users["district_clerk"], reason="发起计算")
        run = subsidy_run_execute(run_id=run.pk)
        stdout.write(f"资助参保计算（{year}年）：{run.count_eligible} 人可资助，合计 {run.total_amount:,.2f} 元")


def tax_detail(stdout, rng):
    """The year's 代缴明细 of the tax system (two title rows), reconciled with the run: most people
    agree; a few amounts and categories differ, one stranger, one duplicate row, one person also
    self-paid (route b), and some of ours left out (漏保)."""
    from funding.models import Enrolment, SubsidyResult, TaxReconciliation
    from funding.selectors import ROUTE_A
    from funding.services import tax_reconciliation_import
    from yfbz.files.samples import tax_row, tax_xlsx

    year = demo_years()[-1]
    if TaxReconciliation.objects.filter(year=year).exists():
        return
    names = {"DIBAO": "低保对象", "TEKUN": "特困人员", "DIBAO_BIANYUAN": "低保边缘家庭成员"}
    results = (SubsidyResult.objects.filter(year=year, amount__gt=0, enrolment__in=ROUTE_A)
               .select_related("person", "person__town").order_by("person_id"))
    self_paid = set(Enrolment.objects.filter(year=year, self_paid=True).values_list("person_id", flat=True))
    rows = []
    for k, res in enumerate(results):
        if k % 40 == 7:
            continue  # 漏保: not in the tax system's list
        person = res.person
        category = names.get(res.category, res.category) if k % 50 != 11 else "特困人员"
        amount = res.amount + (10 if k % 50 == 13 else 0)
        rows.append(tax_row(len(rows) + 1, person.id_number, person.name, person.town.name if person.town else "",
                            category, float(amount)))
        if k == 3:
            rows.append(tax_row(len(rows) + 1, person.id_number, person.name, person.town.name if person.town else "",
                                category, float(amount)))  # sent twice
    from yfbz.rules.idcard import check_character

    stranger = "50011219800203901"
    rows.append(tax_row(len(rows) + 1, stranger + check_character(stranger), "查无此人", "双龙湖街道", "低保对象", 342.0))
    if self_paid:
        from beneficiaries.models import Person

        p = Person.objects.filter(pk__in=self_paid).first()
        rows.append(tax_row(len(rows) + 1, p.id_number, p.name, p.town.name if p.town else "", "低保对象", 342.0))
    rec = tax_reconciliation_import(year=year, file_name=f"税务代缴明细{year}.xlsx", data=tax_xlsx(rows, year),
                                    user=_users()["district_clerk"])
    stdout.write(f"税务代缴明细核对：{rec.rows} 行，{rec.counts}，一致合计 {rec.agreed_total} 元")


def ledger(stdout, rng):
    from funding.models import JournalEntry, YoufuBudget
    from funding.services import money_in

    if JournalEntry.objects.exists():
        return
    u = _users()
    year = timezone.localdate().year
    on = min(date(year, 1, 15), timezone.localdate())
    for account, kind, amount, cp, doc in [
        ("SPECIAL", "INCOME_CENTRAL", "3000000.00", "CENTRAL", f"财社〔{year}〕演示1号"),
        ("SPECIAL", "INCOME_CITY", "1500000.00", "CITY", f"渝财社〔{year}〕演示2号"),
        ("SPECIAL", "INCOME_DISTRICT", "800000.00", "DISTRICT", f"渝北财社〔{year}〕演示3号"),
        ("YOUFU", "INCOME_DISTRICT", "300000.00", "DISTRICT", f"渝北财社〔{year}〕演示4号"),
        ("YOUFU", "INCOME_CITY", "100000.00", "CITY", f"渝财社〔{year}〕演示5号"),
    ]:
        money_in(account=account, kind=kind, amount=Decimal(amount), on=on, counterpart=cp, source_document=doc,
                 description="演示数据", entered_by=u["finance"], approved_by=u["reviewer"])
    for y in demo_years():
        YoufuBudget.objects.get_or_create(year=y, defaults={"amount": Decimal("400000.00")})
    stdout.write("资金账户：已登记演示拨款（财政专户、优抚资金），优抚资金年度预算为示例数字")


def last_month_cycle(stdout, rng):
    """Last month: five self-paid reports of 双龙湖 approved, the fund request funded, one payment failed."""
    from beneficiaries.models import Person
    from funding import services
    from funding.models import FundRequest, SelfPaidReport

    month = last_month()
    year = month.year
    if FundRequest.objects.filter(year=year, month=month.month).exists():
        return
    u = _users()
    clerk = u["slh_clerk"]
    people = list(Person.objects.filter(town=clerk.town, subsidies__year=year, subsidies__amount__gt=0).order_by("pk")[:5])
    reported = min(date(year, 3, 2), month)
    for i, p in enumerate(people):
        if SelfPaidReport.objects.filter(person=p, year=year).exists():
            continue
        rep = services.selfpaid_report(person=p, year=year, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"),
                                       bank_name="重庆农村商业银行", bank_account=f"62284800{p.pk:08d}", account_holder=p.name,
                                       user=clerk, today=reported)
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=u["district_clerk"], on=month + timedelta(days=2 + i))
    try:
        req = services.fund_request_create(year=year, month=month.month, user=u["district_clerk"])
    except services.FundingError as exc:
        stdout.write(f"资金申请：{year}年{month.month}月未编制（{exc}）")
        return
    services.fund_request_submit(request_id=req.pk, user=u["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=month + timedelta(days=20),
                                          source_document=f"渝北财社〔{year}〕演示9号", entered_by=u["finance"], approved_by=u["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=u["finance"])
    first = batch.payments.order_by("pk").first()
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=month + timedelta(days=22), failures={first.pk: "演示：账号有误"},
                                   user=u["reviewer"])
    stdout.write(f"资金申请：{req.number} 已划拨并支付（1笔演示支付失败，待更正账号后重新支付）")


def demo_steps():
    return [standards, enrolment, subsidy_run, tax_detail, ledger, last_month_cycle]
