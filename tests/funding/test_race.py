"""Two payments racing for the last money in an account: exactly one goes through (PostgreSQL)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections  # noqa: F401 (used by skipif)

from funding import services
from funding.models import Account, JournalEntry
from funding.services import FundingError

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks need PostgreSQL"),
]


def test_two_payments_racing_for_the_last_money_only_one_is_paid(staff, fund):
    fund("SPECIAL", "100.00")
    barrier = threading.Barrier(2)
    outcomes = []

    def pay(on):
        try:
            barrier.wait()
            services.money_transfer(from_account="SPECIAL", to_account="EXPENDITURE", amount=Decimal("80.00"), on=on,
                                    source_document="race", description="race", entered_by=staff["finance"],
                                    approved_by=staff["reviewer"])
            outcomes.append("paid")
        except FundingError as exc:
            outcomes.append(str(exc))
        finally:
            connections.close_all()

    # different months: the period locks do not serialise them, only the account lock does
    threads = [threading.Thread(target=pay, args=(d,)) for d in (date(2025, 3, 10), date(2025, 4, 10))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("paid") == 1
    assert any("余额不足" in o for o in outcomes)
    assert services.account_balance(Account.objects.get(code="SPECIAL")) == Decimal("20.00")
    assert JournalEntry.objects.filter(kind="TRANSFER").count() == 1
