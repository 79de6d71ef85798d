"""The monthly cycle: fund request → transfer → payment batch → bank confirmation (one failure paid
again) → recovery → month closed; every balance equals the sum of its entries."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from funding import services
from funding.models import Account, FundRequest, JournalLine, PayableLine, Payment, SelfPaidReport
from funding.payables import PROVIDERS, Payable, Provider, register_provider
from funding.services import FundingError

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved_selfpaid(make_person, staff):
    """Three route-(b) subsidies approved in March 2025 (two in 双龙湖, one in 回兴)."""
    out = []
    for name, town in (("自缴甲", "SLH"), ("自缴乙", "SLH"), ("自缴丙", "HX")):
        p = make_person(name, town=town, categories=("DIBAO",))
        clerk = staff["slh_clerk"] if town == "SLH" else staff["hx_clerk"]
        rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"),
                                       bank_name="重庆农商行", bank_account=f"62140000{p.pk:08d}", account_holder=name,
                                       user=clerk, today=date(2025, 3, 1))
        out.append(services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 20)))
    return out


@pytest.fixture
def youfu_provider():
    """A second provider of the registry (the shape claims.selectors.payables returns): one veterans'
    subsidy paid from the veterans' fund. Removed after the test."""
    paid = []
    register_provider(Provider(
        "test_youfu",
        lambda *, year, month: [Payable("youfu-1", "PERSON", "遗属乙", "农行", "6228000000001", "YOUFU", "BENEFIT_PERSON",
                                        "优抚对象医疗补助", None, Decimal("321.50"))],
        lambda *, source_keys, paid_on, user: paid.extend(source_keys),
    ))
    yield paid
    PROVIDERS.pop("test_youfu")


def balance(code):
    return services.account_balance(Account.objects.get(code=code))


def assert_balances_match_entries():
    for acc in Account.objects.all():
        assert balance(acc.code) == (JournalLine.objects.filter(account=acc).aggregate(s=Sum("amount"))["s"] or 0)
    assert JournalLine.objects.aggregate(s=Sum("amount"))["s"] in (None, Decimal("0"))


def test_a_whole_month_end_to_end(approved_selfpaid, youfu_provider, fund, staff):
    fin, rev, clerk = staff["finance"], staff["reviewer"], staff["district_clerk"]
    fund("SPECIAL", "10000.00")
    fund("YOUFU", "2000.00", kind="INCOME_DISTRICT", counterpart="DISTRICT")
    subsidy_total = sum(r.amount for r in approved_selfpaid)

    req = services.fund_request_create(year=2025, month=3, user=clerk)
    assert (req.total_assistance, req.total_youfu, req.line_count) == (subsidy_total, Decimal("321.50"), 4)
    with pytest.raises(FundingError, match="没有尚未申请"):
        services.fund_request_create(year=2025, month=3, user=clerk)  # nothing is requested twice
    with pytest.raises(FundingError, match="财政划拨到账后"):
        services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    with pytest.raises(FundingError, match="不能审核自己"):
        services.fund_request_submit(request_id=req.pk, user=clerk)
    services.fund_request_submit(request_id=req.pk, user=rev)
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 25), source_document="渝北财社〔2025〕9号",
                                          entered_by=fin, approved_by=rev)
    assert balance("EXPENDITURE") == subsidy_total
    with pytest.raises(FundingError, match="不能登记财政划拨"):
        services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 25), source_document="重复",
                                              entered_by=fin, approved_by=rev)

    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    assert batch.payments.count() == 3
    failed = batch.payments.get(line__payee_name="自缴乙")
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 28), failures={failed.pk: "账号有误"}, user=rev)
    with pytest.raises(FundingError, match="已确认过"):
        services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 28), failures={}, user=rev)
    assert balance("EXPENDITURE") == failed.amount
    assert SelfPaidReport.objects.filter(status="paid").count() == 2

    # the failed one comes back, gets the right account, and is paid once in a second batch
    line = failed.line
    line.refresh_from_db()
    assert line.status == "pending"
    services.payable_correct_bank(line_id=line.pk, bank_name="重庆银行", bank_account="6214999900001111", user=fin)
    second = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    assert [p.line_id for p in second.payments.all()] == [line.pk]
    assert second.payments.get().bank_account == "6214999900001111"
    services.payment_batch_confirm(batch_id=second.pk, paid_on=date(2025, 3, 29), failures={}, user=rev)
    assert Payment.objects.filter(line=line, status="paid").count() == 1
    assert balance("EXPENDITURE") == Decimal("0.00")
    with pytest.raises(FundingError, match="没有待支付"):
        services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)

    # the veterans' subsidy is paid from its own fund
    yb = services.payment_batch_create(request_id=req.pk, fund="YOUFU", user=fin)
    services.payment_batch_confirm(batch_id=yb.pk, paid_on=date(2025, 3, 29), failures={}, user=rev)
    assert youfu_provider == ["youfu-1"]
    assert balance("YOUFU") == Decimal("1678.50")
    from funding.models import YoufuBudget
    from funding.selectors import month_report

    YoufuBudget.objects.create(year=2025, amount=Decimal("5000.00"))
    assert month_report(2025, 3)["youfu"] == {"budget": Decimal("5000.00"), "spent": Decimal("321.50"), "left": Decimal("4678.50")}

    # an overpayment is recovered into the expenditure account
    rec = services.receivable_open(source_key="subsidy-b:x", debtor_name="自缴甲", fund="ASSISTANCE",
                                   amount=Decimal("36.00"), reason="资助金额核减", user=rev)
    services.receivable_recover(receivable_id=rec.pk, amount=Decimal("36.00"), on=date(2025, 3, 30),
                                source_document="缴款书0001", entered_by=fin, approved_by=rev)
    assert balance("EXPENDITURE") == Decimal("36.00")

    services.period_close(year=2025, month=3, user=fin)
    with pytest.raises(FundingError, match="已结账"):
        fund("SPECIAL", "1.00", on=date(2025, 3, 31))
    assert balance("SPECIAL") == Decimal("10000.00") - subsidy_total
    assert PayableLine.objects.filter(status="paid").count() == 4
    assert_balances_match_entries()


def test_a_batch_that_would_overdraw_the_expenditure_account_is_refused_whole(approved_selfpaid, fund, staff):
    fin, rev = staff["finance"], staff["reviewer"]
    fund("SPECIAL", "10000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=rev)
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 25), source_document="x", entered_by=fin, approved_by=rev)
    services.money_transfer(from_account="EXPENDITURE", to_account="SPECIAL", amount=Decimal("1.00"), on=date(2025, 3, 26),
                            source_document="退回", description="退回专户", entered_by=fin, approved_by=rev)
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    with pytest.raises(FundingError, match="余额不足"):
        services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 28), failures={}, user=rev)
    batch.refresh_from_db()
    assert batch.status == "exported"
    assert not Payment.objects.filter(status="paid").exists()
    assert not SelfPaidReport.objects.filter(status="paid").exists()


def test_a_cancelled_draft_frees_its_payables_for_the_next_request(approved_selfpaid, staff):
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_cancel(request_id=req.pk, user=staff["district_clerk"], reason="金额有误")
    again = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    assert again.line_count == 3 and again.number.endswith("-02")
    assert list(FundRequest.objects.get(pk=req.pk).status_changes.values_list("to_status", flat=True)) == ["draft", "cancelled"]


def test_a_bad_payable_is_refused_naming_it_and_nothing_is_written(staff):
    register_provider(Provider("bad", lambda *, year, month: [
        Payable("ok-1", "PERSON", "甲", "b", "1", "ASSISTANCE", "BENEFIT_PERSON", "INPATIENT", None, Decimal("5.00")),
        Payable("bad-2", "PERSON", "乙", "b", "2", "ASSISTANCE", "BENEFIT_PERSON", "INPATIENT", None, Decimal("-5.00")),
    ], lambda **kw: None))
    try:
        with pytest.raises(FundingError, match=r"第2笔（bad-2）金额应大于零"):
            services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    finally:
        PROVIDERS.pop("bad")
    assert not FundRequest.objects.exists() and not PayableLine.objects.exists()


def test_a_confirmed_tax_list_is_requested_paid_and_a_rerun_settles_only_the_difference(make_person, staff, fund, towns,
                                                                                      django_capture_on_commit_callbacks):
    from funding.models import Enrolment, SubsidyResult, TaxListSettlement

    a = make_person("代缴甲", categories=("DIBAO",))
    Enrolment.objects.create(person=a, year=2025, kind="RESIDENT_T1")
    with django_capture_on_commit_callbacks(execute=True):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    first = SubsidyResult.objects.get(person=a).amount
    s = services.tax_list_confirm(year=2025, town_id=towns["SLH"].pk, payee_name="国家税务总局重庆市渝北区税务局", bank_name="国库",
                                  bank_account="270000001", user=staff["district_clerk"], on=date(2025, 3, 5))
    assert (s.people, s.amount) == (1, first)
    with pytest.raises(FundingError, match="没有尚未结算"):
        services.tax_list_confirm(year=2025, town_id=towns["SLH"].pk, payee_name="x", bank_name="x", bank_account="x",
                                  user=staff["district_clerk"])
    fund("SPECIAL", "10000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    line = req.lines.get()
    assert (line.spending, line.payee_kind, line.amount) == ("SUBSIDY", "INSTITUTION", first)
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="x", entered_by=staff["finance"],
                                          approved_by=staff["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 25), failures={}, user=staff["reviewer"])
    assert TaxListSettlement.objects.get(pk=s.pk).paid
    # a second person joins the list after a re-run: only their subsidy is settled next time
    b = make_person("代缴乙", categories=("TEKUN",))
    Enrolment.objects.create(person=b, year=2025, kind="RESIDENT_T1")
    with django_capture_on_commit_callbacks(execute=True):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    s2 = services.tax_list_confirm(year=2025, town_id=towns["SLH"].pk, payee_name="国家税务总局重庆市渝北区税务局", bank_name="国库",
                                   bank_account="270000001", user=staff["district_clerk"], on=date(2025, 4, 5))
    assert s2.amount == SubsidyResult.objects.get(person=b).amount
