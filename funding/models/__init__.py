"""Funding's models, in two parts that share no key (issue 10, "the treasury/subsidies split"):

- ``treasury``: the special funds' double-entry ledger, monthly fund requests, their payable lines,
  payment batches and payments, withdrawn money, receivables and proposed entries (POLICY.md §12;
  渝北府办发〔2025〕2号 四). It pays what the providers of ``funding.payables`` list, nothing else.
- ``subsidies``: contribution subsidies (POLICY.md §4) — enrolment, the year's run and results, routes
  (a) and (b) and the tax system's 代缴明细 reconciliation. They reach the treasury only as payables.
- ``imports``: data files imported by a background job (enrolment for subsidies, bank returns for the
  treasury).

``from funding.models import X`` keeps working for every model.
"""

from .base import MONEY, USER
from .imports import FileImport, FileImportStatusChange
from .subsidies import (
    Enrolment,
    EnrolmentKind,
    LateReportPermission,
    SelfPaidReport,
    SelfPaidReportStatusChange,
    SubsidyChange,
    SubsidyResult,
    SubsidyRoute,
    SubsidyRun,
    SubsidyRunPart,
    SubsidyRunStatusChange,
    SubsidyYear,
    TaxCategoryWording,
    TaxListSettlement,
    TaxReconciliation,
    TaxReconciliationLine,
    TaxReconciliationStatusChange,
)
from .treasury import (
    Account,
    AppendOnly,
    AppendOnlyQuerySet,
    EntryKind,
    EntryProposal,
    EntryProposalStatusChange,
    Fund,
    FundRequest,
    FundRequestStatusChange,
    JournalEntry,
    JournalLine,
    PayableLine,
    PayableLineStatusChange,
    Payment,
    PaymentBatch,
    PaymentBatchStatusChange,
    PaymentStatusChange,
    Period,
    Receivable,
    ReceivableStatusChange,
    Spending,
    WithdrawnFunds,
    WithdrawnFundsStatusChange,
    YoufuBudget,
)

__all__ = [
    "MONEY",
    "USER",
    "FileImport",
    "FileImportStatusChange",
    "Enrolment",
    "EnrolmentKind",
    "LateReportPermission",
    "SelfPaidReport",
    "SelfPaidReportStatusChange",
    "SubsidyChange",
    "SubsidyResult",
    "SubsidyRoute",
    "SubsidyRun",
    "SubsidyRunPart",
    "SubsidyRunStatusChange",
    "SubsidyYear",
    "TaxCategoryWording",
    "TaxListSettlement",
    "TaxReconciliation",
    "TaxReconciliationLine",
    "TaxReconciliationStatusChange",
    "Account",
    "AppendOnly",
    "AppendOnlyQuerySet",
    "EntryKind",
    "EntryProposal",
    "EntryProposalStatusChange",
    "Fund",
    "FundRequest",
    "FundRequestStatusChange",
    "JournalEntry",
    "JournalLine",
    "PayableLine",
    "PayableLineStatusChange",
    "Payment",
    "PaymentBatch",
    "PaymentBatchStatusChange",
    "PaymentStatusChange",
    "Period",
    "Receivable",
    "ReceivableStatusChange",
    "Spending",
    "WithdrawnFunds",
    "WithdrawnFundsStatusChange",
    "YoufuBudget",
]
