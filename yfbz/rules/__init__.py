"""The policy engine: pure Python, no Django import (POLICY.md §2–§11, D1–D9).

Public API::

    from yfbz.rules import (
        Policy, PolicyBook, build_policy, default_policy, default_book,
        Person, Identity, Bill, Decision, adjudicate, CapLedger,
        contribution_subsidy, outpatient_pooling, personal_account_monthly,
        Scheme, Reason, BillKind, Enrolment, YOUFU,
    )

See docs/policy-engine.md.
"""

from .codes import REASON_ZH, SCHEME_ZH, YOUFU, BillKind, Enrolment, Reason, Scheme, Status
from .defaults import default_book, default_policy, default_records
from .employee import PoolingDecision, outpatient_pooling, personal_account_monthly
from .engine import (
    AttributeSpan,
    Bill,
    CapLedger,
    Considered,
    Decision,
    Identity,
    Layer,
    Person,
    TownSpan,
    YoufuResult,
    adjudicate,
)
from .money import ZERO, money, quantize
from .policy import Policy, PolicyBook, PolicyError, RuleRef, build_policy
from .subsidy import SubsidyDecision, contribution_subsidy

__all__ = [
    "REASON_ZH",
    "SCHEME_ZH",
    "YOUFU",
    "BillKind",
    "Enrolment",
    "Reason",
    "Scheme",
    "Status",
    "default_book",
    "default_policy",
    "default_records",
    "PoolingDecision",
    "outpatient_pooling",
    "personal_account_monthly",
    "AttributeSpan",
    "Bill",
    "CapLedger",
    "Considered",
    "Decision",
    "Identity",
    "Layer",
    "Person",
    "TownSpan",
    "YoufuResult",
    "adjudicate",
    "ZERO",
    "money",
    "quantize",
    "Policy",
    "PolicyBook",
    "PolicyError",
    "RuleRef",
    "build_policy",
    "SubsidyDecision",
    "contribution_subsidy",
]
