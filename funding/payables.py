"""Where a fund request's payables come from: a small registry of providers.

Each provider has a name, a function ``payables(year=, month=)`` returning ``Payable`` records, and
a function ``mark_paid(source_keys=, paid_on=, user=)`` called when the bank confirms.

The contract of ``payables(year, month)``: **everything approved up to the end of that month and not
yet paid**, whatever month it was approved, settled or confirmed in. The fund request leaves out the
source keys an earlier request already holds (``PayableLine.source_key`` is unique among lines not cancelled), so an item
approved after a month's request was compiled is in the next month's, and none is on two requests.
``_withdraw_stale`` asks the same question again later: a key its provider no longer lists (decided
again, refused, withdrawn) is withdrawn from the request.

Funding's own providers are the contribution subsidy's routes (a) and (b); claims registers its
provider in ``ClaimsConfig.ready()`` (funding imports no domain app).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Payable:
    source_key: str
    payee_kind: str  # "PERSON" | "INSTITUTION"
    payee_name: str
    bank_name: str
    bank_account: str
    fund: str  # "ASSISTANCE" | "YOUFU"
    spending: str  # "SUBSIDY" | "BENEFIT_PERSON" | "INSTITUTION"
    scheme: str
    town_id: int | None
    amount: Decimal
    #: the day the payable concerns (a decision's settlement date, a subsidy's 31 December): its town's
    #: district that day is the district whose fund request pays it (docs/areas.md); None: the month's end
    on: date | None = None


@dataclass(frozen=True)
class Provider:
    name: str
    payables: Callable[..., Iterable]
    mark_paid: Callable[..., object]


def _subsidy_payables(*, year: int, month: int) -> Iterable[Payable]:
    """Route (b) subsidies approved by the end of the month and not paid yet."""
    from .models import SelfPaidReport

    month_end = date(year, month, calendar.monthrange(year, month)[1])
    rows = (
        SelfPaidReport.objects.filter(status=SelfPaidReport.Status.APPROVED, decided_on__lte=month_end)
        .order_by("pk")
        .values_list("pk", "account_holder", "bank_name", "bank_account", "town_id", "amount", "year")
    )
    for pk, holder, bank, account, town_id, amount, yr in rows.iterator(chunk_size=5000):
        yield Payable(f"subsidy-b:{pk}", "PERSON", holder, bank, account, "ASSISTANCE", "SUBSIDY", "资助参保", town_id, amount,
                      date(yr, 12, 31))


def _subsidy_mark_paid(*, source_keys: list[str], paid_on: date, user) -> int:
    from yfbz.core.workflow import transition_many

    from .models import SelfPaidReport

    ids = [int(k.split(":", 1)[1]) for k in source_keys]
    return transition_many(SelfPaidReport.objects.filter(pk__in=ids, status=SelfPaidReport.Status.APPROVED),
                           SelfPaidReport.Status.PAID, by=user, reason=f"银行支付（{paid_on:%Y-%m-%d}）")


def _tax_payables(*, year: int, month: int) -> Iterable[Payable]:
    """Route (a) settlements confirmed by the end of the month and not paid yet."""
    from .models import TaxListSettlement

    month_end = date(year, month, calendar.monthrange(year, month)[1])
    for s in TaxListSettlement.objects.filter(paid=False, confirmed_on__lte=month_end).select_related("town").order_by("pk"):
        yield Payable(f"subsidy-a:{s.pk}", "INSTITUTION", s.payee_name, s.bank_name, s.bank_account, "ASSISTANCE", "SUBSIDY",
                      "资助参保（税务代缴）", s.town_id, s.amount, date(s.year, 12, 31))


def _tax_mark_paid(*, source_keys: list[str], paid_on: date, user) -> int:
    from .models import TaxListSettlement

    return TaxListSettlement.objects.filter(pk__in=[int(k.split(":", 1)[1]) for k in source_keys]).update(paid=True)


PROVIDERS: dict[str, Provider] = {
    "subsidy": Provider("subsidy", _subsidy_payables, _subsidy_mark_paid),
    "tax": Provider("tax", _tax_payables, _tax_mark_paid),
}


def register_provider(provider: Provider) -> None:
    """Called by a domain app in its ``AppConfig.ready()`` (claims: ``claims.apps``). Funding imports
    no domain app: what it pays comes only from the providers registered here."""
    PROVIDERS[provider.name] = provider
