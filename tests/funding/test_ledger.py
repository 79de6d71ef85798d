"""The ledger: double entry, append-only, never overdrawn, never across funds, closed months."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from funding import services
from funding.models import Account, JournalEntry, JournalLine
from funding.services import FundingError

pytestmark = pytest.mark.django_db


def balance(code):
    return services.account_balance(Account.objects.get(code=code))


def test_money_in_raises_the_balance_and_the_counterpart_mirrors_it(fund):
    fund("SPECIAL", "5000.00")
    assert balance("SPECIAL") == Decimal("5000.00")
    assert balance("CENTRAL") == Decimal("-5000.00")


def test_transfer_from_special_to_expenditure_moves_money(fund, staff):
    fund("SPECIAL", "5000.00")
    services.money_transfer(from_account="SPECIAL", to_account="EXPENDITURE", amount=Decimal("1200.50"),
                            on=date(2025, 3, 10), source_document="渝北财拨〔2025〕3号", description="3月救助资金",
                            entered_by=staff["finance"], approved_by=staff["reviewer"])
    assert balance("SPECIAL") == Decimal("3799.50")
    assert balance("EXPENDITURE") == Decimal("1200.50")


def test_a_transfer_that_would_overdraw_is_refused_and_writes_nothing(fund, staff):
    fund("SPECIAL", "100.00")
    with pytest.raises(FundingError, match="余额不足"):
        services.money_transfer(from_account="SPECIAL", to_account="EXPENDITURE", amount=Decimal("100.01"),
                                on=date(2025, 3, 10), source_document="x", description="x",
                                entered_by=staff["finance"], approved_by=staff["reviewer"])
    assert JournalEntry.objects.count() == 1
    assert balance("SPECIAL") == Decimal("100.00")


def test_money_never_moves_between_the_assistance_funds_and_the_veterans_fund(fund, staff):
    fund("YOUFU", "800.00", kind="INCOME_DISTRICT", counterpart="DISTRICT")
    fund("SPECIAL", "800.00")
    for src, dst in (("YOUFU", "EXPENDITURE"), ("SPECIAL", "YOUFU")):
        with pytest.raises(FundingError, match="不得在两项资金之间划转"):
            services.money_transfer(from_account=src, to_account=dst, amount=Decimal("10.00"), on=date(2025, 3, 10),
                                    source_document="x", description="x", entered_by=staff["finance"],
                                    approved_by=staff["reviewer"])
    assert balance("YOUFU") == Decimal("800.00")
    assert balance("EXPENDITURE") == Decimal("0")


def test_the_veterans_fund_does_not_take_central_transfers(staff):
    with pytest.raises(FundingError, match="不接收"):
        services.money_in(account="YOUFU", kind="INCOME_CENTRAL", amount=Decimal("1.00"), on=date(2025, 3, 3),
                          counterpart="CENTRAL", source_document="x", description="x", entered_by=staff["finance"],
                          approved_by=staff["reviewer"])


def test_lines_that_do_not_sum_to_zero_are_refused(staff):
    with pytest.raises(FundingError, match="借贷不平"):
        services.entry_post(on=date(2025, 3, 3), kind="INCOME_CENTRAL", lines=[("SPECIAL", Decimal("10")), ("CENTRAL", Decimal("-9.99"))],
                            counterpart="CENTRAL", source_document="x", description="x", entered_by=staff["finance"],
                            approved_by=staff["reviewer"])


def test_the_maker_cannot_approve_their_own_entry(staff):
    with pytest.raises(FundingError, match="同一人"):
        services.money_in(account="SPECIAL", kind="INCOME_CENTRAL", amount=Decimal("1.00"), on=date(2025, 3, 3),
                          counterpart="CENTRAL", source_document="x", description="x", entered_by=staff["finance"],
                          approved_by=staff["finance"])


def test_entries_cannot_be_edited_or_deleted_only_reversed(fund, staff):
    entry = fund("SPECIAL", "300.00")
    entry.description = "改过"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        JournalLine.objects.filter(entry=entry).update(amount=Decimal("1"))
    rev = services.entry_reverse(entry_id=entry.pk, on=date(2025, 3, 4), reason="金额录错", entered_by=staff["finance"],
                                 approved_by=staff["reviewer"])
    assert rev.reverses == entry
    assert balance("SPECIAL") == Decimal("0")
    with pytest.raises(FundingError, match="已冲销"):
        services.entry_reverse(entry_id=entry.pk, on=date(2025, 3, 4), reason="再冲", entered_by=staff["finance"],
                               approved_by=staff["reviewer"])


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the trigger exists on PostgreSQL")
def test_the_database_itself_refuses_to_change_a_journal_line(fund):
    from django.db import DatabaseError, transaction

    entry = fund("SPECIAL", "300.00")
    with pytest.raises(DatabaseError, match="只能新增"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE funding_journalline SET amount = 1 WHERE entry_id = %s", [entry.pk])
    assert balance("SPECIAL") == Decimal("300.00")


def test_a_closed_month_takes_no_more_entries(fund, staff):
    fund("SPECIAL", "300.00", on=date(2025, 3, 3))
    services.period_close(year=2025, month=3, user=staff["finance"])
    with pytest.raises(FundingError, match="已结账"):
        fund("SPECIAL", "1.00", on=date(2025, 3, 31))
    fund("SPECIAL", "1.00", on=date(2025, 4, 1))
    assert balance("SPECIAL") == Decimal("301.00")


def test_a_month_is_closed_only_after_it_has_ended(fund, staff, login):
    """Issue 11: closed on its last day, an entry dated that day would then be refused."""
    fund("SPECIAL", "300.00", on=date(2025, 3, 3))
    with pytest.raises(FundingError, match="2025年3月尚未结束（月末为03月31日）"):
        services.period_close(year=2025, month=3, user=staff["finance"], today=date(2025, 3, 31))
    fund("SPECIAL", "1.00", on=date(2025, 3, 31))  # the last day still takes entries
    services.period_close(year=2025, month=3, user=staff["finance"], today=date(2025, 4, 1))
    assert balance("SPECIAL") == Decimal("301.00")
    # the page offers no close button for the month still running, and says when it can be closed
    today = timezone.localdate()
    page = login(staff["finance"]).get(f"/funding/report/?year={today.year}&month={today.month}").content.decode()
    assert "尚未结束" in page and 'data-testid="period-close"' not in page
    resp = login(staff["finance"]).post("/funding/report/close/", {"year": today.year, "month": today.month}, follow=True)
    assert "尚未结束" in resp.content.decode()


def test_a_receivable_is_opened_once_and_recovered_money_is_booked_back(fund, staff):
    rec = services.receivable_open(source_key="claim-7:r2", debtor_name="某医院", fund="ASSISTANCE",
                                   amount=Decimal("250.00"), reason="重新决定后多付", user=staff["reviewer"])
    again = services.receivable_open(source_key="claim-7:r2", debtor_name="某医院", fund="ASSISTANCE",
                                     amount=Decimal("250.00"), reason="重新决定后多付", user=staff["reviewer"])
    assert again.pk == rec.pk
    with pytest.raises(FundingError, match="不符"):
        services.receivable_open(source_key="claim-7:r2", debtor_name="某医院", fund="ASSISTANCE",
                                 amount=Decimal("260.00"), reason="x", user=staff["reviewer"])
    services.receivable_recover(receivable_id=rec.pk, amount=Decimal("100.00"), on=date(2025, 3, 5),
                                source_document="银行回单001", entered_by=staff["finance"], approved_by=staff["reviewer"])
    rec.refresh_from_db()
    assert (rec.status, rec.outstanding) == ("partly", Decimal("150.00"))
    assert balance("EXPENDITURE") == Decimal("100.00")
    with pytest.raises(FundingError, match="超过"):
        services.receivable_recover(receivable_id=rec.pk, amount=Decimal("150.01"), on=date(2025, 3, 5),
                                    source_document="x", entered_by=staff["finance"], approved_by=staff["reviewer"])


def test_a_month_with_entries_awaiting_approval_cannot_be_closed(staff):
    p = services.proposal_income(account="SPECIAL", kind="INTEREST", counterpart="BANK", amount=Decimal("12.34"), on=date(2025, 3, 21),
                                 source_document="结息单", description="一季度利息", user=staff["finance"])
    with pytest.raises(FundingError, match="1 笔待审核"):
        services.period_close(year=2025, month=3, user=staff["finance"])
    services.proposal_decide(proposal_id=p.pk, approve=True, user=staff["reviewer"])
    services.period_close(year=2025, month=3, user=staff["finance"])
    assert balance("SPECIAL") == Decimal("12.34")
