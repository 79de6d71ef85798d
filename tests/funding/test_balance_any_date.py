"""An account's balance is never negative at ANY date (issue 10, finding 4): the overdraft check looks at
the entry's date and every later date, under the account lock; nothing is dated inside a closed month
or before it; a month is closed only after it ended. The story: a transfer dated 2026-12-31 and a
payment dated 2025-04-15 left the 2025-04 report with 支出户 at −40,717.16."""

from datetime import date
from decimal import Decimal

import pytest

from funding import services
from funding.models import Account
from funding.selectors import month_report
from funding.services import FundingError

pytestmark = pytest.mark.django_db
AMOUNT = Decimal("40717.16")


def balance(code, until=None):
    return services.account_balance(Account.objects.get(code=code), until=until)


def pay(staff, amount, on, account="EXPENDITURE"):
    return services.entry_post(on=on, kind="PAY_PERSON", lines=[(account, -Decimal(amount)), ("PAYEE_PERSON", Decimal(amount))],
                               counterpart="PAYEE_PERSON", source_document="银行回单", description="个人救助待遇",
                               entered_by=staff["finance"], approved_by=staff["reviewer"])


def transfer(staff, amount, on):
    return services.money_transfer(from_account="SPECIAL", to_account="EXPENDITURE", amount=Decimal(amount), on=on,
                                   source_document="渝北财社〔2025〕20号", description="专户划拨",
                                   entered_by=staff["finance"], approved_by=staff["reviewer"])


def test_a_payment_dated_before_the_money_arrived_is_refused(fund, staff):
    fund("SPECIAL", "50000.00", on=date(2025, 3, 3))
    transfer(staff, AMOUNT, date(2026, 12, 31))
    with pytest.raises(FundingError, match=r"2025年04月15日余额 0\.00 元，本次2025年04月15日支出 40,717\.16 元"):
        pay(staff, AMOUNT, date(2025, 4, 15))
    april = {r["account"].code: r["closing"] for r in month_report(2025, 4)["accounts"]}
    assert april["EXPENDITURE"] == Decimal("0.00")  # not −40,717.16
    pay(staff, AMOUNT, date(2026, 12, 31))  # on the day the money is there, it goes out
    assert balance("EXPENDITURE") == Decimal("0.00")


def test_a_back_dated_payment_that_would_overdraw_a_later_day_is_refused(fund, staff):
    fund("SPECIAL", "1000.00", on=date(2025, 3, 3))
    transfer(staff, "1000.00", date(2025, 3, 5))
    pay(staff, "800.00", date(2025, 3, 20))  # 200.00 left from the 20th
    # on the 10th there are 1,000.00, but taking 300.00 then leaves −100.00 from the 20th on
    with pytest.raises(FundingError, match=r"2025年03月20日余额 200\.00 元，本次2025年03月10日支出 300\.00 元"):
        pay(staff, "300.00", date(2025, 3, 10))
    pay(staff, "200.00", date(2025, 3, 10))
    assert balance("EXPENDITURE") == Decimal("0.00")


def test_nothing_is_dated_in_or_before_a_closed_month(fund, staff):
    fund("SPECIAL", "300.00", on=date(2025, 3, 3))
    services.period_close(year=2025, month=4, user=staff["finance"])
    with pytest.raises(FundingError, match="2025年4月已结账"):
        fund("SPECIAL", "1.00", on=date(2025, 4, 30))
    with pytest.raises(FundingError, match="2025年4月已结账，不能再记入2025年03月31日"):
        fund("SPECIAL", "1.00", on=date(2025, 3, 31))  # March is open, but April's balances would change
    fund("SPECIAL", "1.00", on=date(2025, 5, 1))
    assert balance("SPECIAL") == Decimal("301.00")


def test_a_month_is_closed_only_after_it_ended(staff):
    with pytest.raises(FundingError, match="2025年6月尚未结束"):
        services.period_close(year=2025, month=6, user=staff["finance"], today=date(2025, 6, 30))
    assert services.period_close(year=2025, month=6, user=staff["finance"], today=date(2025, 7, 1)).closed_at
