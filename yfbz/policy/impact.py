"""What a back-dated policy row would have changed (issue 10 item 7): before an administrator saves a
row whose effective date is today or earlier, the admin shows which existing decisions it would have
decided differently, and by how much. Nothing is rewritten: decisions keep the figures they were made
with (and their policy version); a re-decision is a separate, deliberate act.

How: every current decision of each person-year the row can reach (settled on or after its date) is
decided again twice, in settlement order with a cap ledger — once under the policy as it stands and
once with the new row — through the one builder of engine input. The difference between the two is
what the row changes (identities corrected since, or the order decisions were made in, are left out
of the comparison). Contribution subsidies of the years the row reaches are compared the same way.

The apps that hold decisions register a provider here in their ``AppConfig.ready()`` (the policy app
imports none of them): ``register_replay("claims", fn)``; ``fn(since, limit)`` yields ``BillItem``s
of every person-year with a decision settled on or after ``since`` (earlier ones of the same year
included, for the caps), ``SubsidyItem``s for subsidy results of years from ``since.year``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from yfbz.rules import Bill as EngineBill
from yfbz.rules import CapLedger
from yfbz.rules.policy import PolicyBook, PolicyError

ZERO = Decimal("0.00")
#: at most this many decisions are decided again for one preview (the page says when it stopped)
REPLAY_LIMIT = 20_000
#: rows listed on the page (the totals cover all)
SHOW = 200


@dataclass(frozen=True, slots=True)
class BillItem:
    """A stored decision on one bill or one-stop line, as the engine needs it to decide it again."""

    key: str  # "bill:12", "line:345": unique across providers
    label: str  # how staff name it: "手工报销票据12", "一站式结算 H001 YB001"
    url: str | None
    person_id: int
    bill: EngineBill
    assistance: Decimal  # as decided and stored
    youfu: Decimal


@dataclass(frozen=True, slots=True)
class SubsidyItem:
    key: str
    label: str
    url: str | None
    person_id: int
    year: int
    enrolment: str | None
    amount: Decimal


Provider = Callable[[date, int], Iterable[BillItem | SubsidyItem]]
_PROVIDERS: dict[str, Provider] = {}


def register_replay(name: str, provider: Provider) -> None:
    _PROVIDERS[name] = provider


@dataclass(slots=True)
class Change:
    label: str
    url: str | None
    person: str  # name and masked ID number
    settled_on: date | None
    year: int
    stored: Decimal  # assistance + veterans' subsidy as stored (subsidy: the amount)
    before: Decimal  # decided again under the policy as it stands
    after: Decimal  # decided again with the new row
    scheme_before: str = ""
    scheme_after: str = ""

    @property
    def difference(self) -> Decimal:
        return self.after - self.before


@dataclass(slots=True)
class Impact:
    since: date
    decisions_checked: int = 0
    subsidies_checked: int = 0
    truncated: bool = False
    limit: int = REPLAY_LIMIT
    changes: list[Change] = field(default_factory=list)
    error: str = ""

    @property
    def total_difference(self) -> Decimal:
        return sum((c.difference for c in self.changes), ZERO)

    @property
    def increases(self) -> Decimal:
        return sum((c.difference for c in self.changes if c.difference > 0), ZERO)

    @property
    def decreases(self) -> Decimal:
        return sum((c.difference for c in self.changes if c.difference < 0), ZERO)

    @property
    def shown(self) -> list[Change]:
        return sorted(self.changes, key=lambda c: (-abs(c.difference), c.label))[:SHOW]


def backdated_impact(
    before: PolicyBook, after: PolicyBook, since: date, *, limit: int = REPLAY_LIMIT
) -> Impact:
    """Decide again every current decision the row can reach under both books; list the differences."""
    from .inputs import persons_for_engine, policy_for

    impact = Impact(since, limit=limit)
    bills: dict[tuple[int, int], list[BillItem]] = defaultdict(list)
    subsidies: list[SubsidyItem] = []
    for provider in _PROVIDERS.values():
        for item in provider(since, limit):
            if isinstance(item, SubsidyItem):
                subsidies.append(item)
            else:
                bills[(item.person_id, item.bill.settled_on.year)].append(item)
                impact.decisions_checked += 1
            if impact.decisions_checked + len(subsidies) >= limit:
                impact.truncated = True
                break
    people = persons_for_engine({pid for pid, _ in bills} | {s.person_id for s in subsidies})
    names = _names({pid for pid, _ in bills} | {s.person_id for s in subsidies})
    try:
        for (pid, year), items in bills.items():
            person = people[pid]
            ledgers = (CapLedger(), CapLedger())
            for item in sorted(items, key=lambda i: (i.bill.settled_on, i.key)):
                on = item.bill.settled_on
                old = ledgers[0].adjudicate(policy_for(on, person=person, book=before), person, item.bill)
                new = ledgers[1].adjudicate(policy_for(on, person=person, book=after), person, item.bill)
                a, b = old.amount + old.youfu.amount, new.amount + new.youfu.amount
                if on >= since and (a != b or old.scheme != new.scheme):
                    impact.changes.append(Change(
                        item.label, item.url, names.get(pid, ""), on, year, item.assistance + item.youfu, a, b,
                        str(old.scheme or ""), str(new.scheme or ""),
                    ))
        from .inputs import decide_subsidy

        for s in subsidies:
            person = people[s.person_id]
            old = decide_subsidy(person, s.year, s.enrolment, book=before).amount
            new = decide_subsidy(person, s.year, s.enrolment, book=after).amount
            impact.subsidies_checked += 1
            if old != new:
                impact.changes.append(Change(s.label, s.url, names.get(s.person_id, ""), None, s.year, s.amount, old, new))
    except (PolicyError, KeyError, TypeError, ArithmeticError) as exc:
        impact.error = f"按新记录无法计算：{exc}"
    return impact


def _names(person_ids: set[int]) -> dict[int, str]:
    from beneficiaries.models import Person

    out = {}
    ids = sorted(person_ids)
    for i in range(0, len(ids), 5000):
        for p in Person.objects.filter(pk__in=ids[i : i + 5000]).only("pk", "name", "id_number"):
            out[p.pk] = f"{p.name}（{p.masked_id_number}）"
    return out
