from datetime import date
from decimal import Decimal

import pytest

from funding import services


@pytest.fixture
def fund(staff):
    """Put money into the ledger: fund(account, amount, kind=..., on=...)."""

    def put(account="SPECIAL", amount="1000.00", kind="INCOME_CENTRAL", on=date(2025, 3, 3), counterpart="CENTRAL"):
        return services.money_in(account=account, kind=kind, amount=Decimal(amount), on=on, counterpart=counterpart,
                                 source_document="渝财社〔2025〕1号", description="测试拨款",
                                 entered_by=staff["finance"], approved_by=staff["reviewer"])

    return put
