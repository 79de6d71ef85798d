"""Funding services: every state change of the funding app goes through these functions.

Public API for other apps::

    from funding.services import receivable_open, FundingError
"""

from .errors import FundingError
from .ledger import account_balance, entry_post, entry_reverse, money_in, money_transfer, period_close
from .receivables import receivable_open, receivable_recover

__all__ = [
    "FundingError",
    "account_balance",
    "entry_post",
    "entry_reverse",
    "money_in",
    "money_transfer",
    "period_close",
    "receivable_open",
    "receivable_recover",
]
