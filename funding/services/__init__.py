"""Funding services: every state change of the funding app goes through these functions.

Public API for other apps::

    from funding.services import receivable_open, FundingError
"""

from .errors import FundingError
from .ledger import account_balance, entry_post, entry_reverse, money_in, money_transfer, period_close
from .proposals import proposal_decide, proposal_income, proposal_recovery, proposal_reversal
from .receivables import receivable_open, receivable_recover
from .requests import (
                       fund_request_cancel,
                       fund_request_create,
                       fund_request_record_transfer,
                       fund_request_set_status,
                       fund_request_submit,
                       fund_request_withdraw_stale,
                       payable_correct_bank,
                       payable_lines_withdraw,
                       payment_batch_confirm,
                       payment_batch_create,
                       transfer_due,
                       withdrawn_assistance,
                       withdrawn_funds_return,
)
from .subsidies import (
                       enrolment_set,
                       selfpaid_decide,
                       selfpaid_report,
                       subsidy_route_take,
                       subsidy_run_execute,
                       subsidy_run_start,
                       tax_list_confirm,
)
from .tax_detail import tax_reconciliation_import, tax_reconciliation_queue, tax_reconciliation_settle
from .tax_detail import town_summary as tax_reconciliation_towns

__all__ = [
    "FundingError",
    "fund_request_withdraw_stale",
    "payable_lines_withdraw",
    "transfer_due",
    "withdrawn_assistance",
    "withdrawn_funds_return",
    "account_balance",
    "entry_post",
    "entry_reverse",
    "money_in",
    "money_transfer",
    "period_close",
    "proposal_decide",
    "proposal_income",
    "proposal_recovery",
    "proposal_reversal",
    "receivable_open",
    "receivable_recover",
    "fund_request_cancel",
    "fund_request_create",
    "fund_request_record_transfer",
    "fund_request_set_status",
    "fund_request_submit",
    "payable_correct_bank",
    "payment_batch_confirm",
    "payment_batch_create",
    "enrolment_set",
    "selfpaid_decide",
    "selfpaid_report",
    "subsidy_route_take",
    "subsidy_run_execute",
    "subsidy_run_start",
    "tax_list_confirm",
    "tax_reconciliation_import",
    "tax_reconciliation_queue",
    "tax_reconciliation_settle",
    "tax_reconciliation_towns",
]
