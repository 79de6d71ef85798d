"""Contribution subsidies (资助参保, POLICY.md §4; 渝北府办发〔2025〕2号 二(一)(二); 52号 第五条; D8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .codes import SUBSIDY_PREFIX, Enrolment, Reason
from .engine import Person
from .money import ZERO, quantize
from .policy import Policy, RuleRef


@dataclass(frozen=True, slots=True)
class SubsidyDecision:
    id_number: str
    year: int
    enrolment: str | None
    category: str | None
    group: str | None
    standard: str | None  # "T1" / "T2"
    standard_amount: Decimal | None
    share: Decimal | None
    amount: Decimal
    reasons: tuple[Reason, ...]
    provisional: tuple[RuleRef, ...]
    policy_version: str

    @property
    def uses_provisional_rule(self) -> bool:
        return bool(self.provisional)


def _meets(window: tuple[date, date] | None, on: date) -> bool:
    return window is not None and window[0] <= on <= window[1]


def _last_day_in_year(valid_to: date | None, year: int) -> date:
    end = date(year, 12, 31)
    return end if valid_to is None or valid_to > end else valid_to


def contribution_subsidy(
    policy: Policy, person: Person, year: int, enrolment: Enrolment | str | None
) -> SubsidyDecision:
    """The subsidy of ``year`` for a person enrolled as ``enrolment``.

    D8: any qualifying identity valid on any day of the year *and meeting its category's age
    condition on that day* counts; the best amount applies. Ties go to the identity held latest in
    the year, then the longest held (counting only the days on which it qualifies).
    Pass the policy in force for the year (e.g. ``policy_in_force(date(year, 12, 31))``).
    """
    enr = Enrolment(enrolment) if enrolment else None

    def refuse(*reasons: Reason, category: str | None = None) -> SubsidyDecision:
        return SubsidyDecision(
            person.id_number,
            year,
            str(enr) if enr else None,
            category,
            None,
            None,
            None,
            None,
            ZERO,
            tuple(reasons),
            (),
            policy.version,
        )

    if not policy.covered:  # no subsidy rules of the area's own (docs/areas.md)
        return refuse(Reason.SUBSIDY_NO_POLICY_FOR_AREA)
    held = [i for i in person.identities if i.overlaps_year(year)]
    if not held:
        return refuse(Reason.SUBSIDY_NO_QUALIFYING_IDENTITY)
    year_start = date(year, 1, 1)

    def window(ident) -> tuple[date, date] | None:
        """D8: the days of the year on which the identity is valid AND its category's age condition
        holds (52号 第二条: 60周岁以上 only from the 60th birthday); None when there is no such day."""
        start = max(ident.valid_from, year_start)
        end = _last_day_in_year(ident.valid_to, year)
        cond = policy.condition_of(ident.category)
        if cond is not None:
            days = cond.window(person.birth_date)
            if days is None:
                return None
            start, end = max(start, days[0]), min(end, days[1])
        return (start, end) if start <= end else None

    windows = {id(i): window(i) for i in held}
    qualifying = [i for i in held if windows[id(i)] is not None]
    if not qualifying:
        return refuse(Reason.SUBSIDY_AGE_NOT_MET)
    best = None
    best_key = None
    saw_group = False
    no_standard = False
    for ident in qualifying:
        start, on = windows[id(ident)]
        age = person.age_on(on)
        others = tuple(i.category for i in qualifying if i.valid_on(on) and _meets(windows[id(i)], on))
        for cat, group, _m in policy.groups_of(
            (ident.category,) + tuple(c for c in others if c != ident.category), age, person.attributes_on(on)
        ):
            if cat != ident.category or not group.startswith(SUBSIDY_PREFIX + "_"):
                continue
            saw_group = True
            if enr is None or enr == Enrolment.EMPLOYEE_EMPLOYER:
                continue
            rule = policy.subsidy_rule(group, enr)
            if rule is None:
                continue
            std = policy.standard_for(year, cat)
            if std is None:
                no_standard = True
                continue
            std_amount = std.t1 if rule.standard == "T1" else std.t2
            amount = quantize(std_amount * rule.share)
            key = (amount, on, (on - start).days)
            if best_key is None or key > best_key:
                best_key = key
                best = (cat, group, rule, std, std_amount, amount)
    if not saw_group:
        if len(qualifying) < len(held):
            return refuse(Reason.SUBSIDY_NO_QUALIFYING_IDENTITY, Reason.SUBSIDY_AGE_NOT_MET)
        return refuse(Reason.SUBSIDY_NO_QUALIFYING_IDENTITY)
    if enr is None:
        return refuse(Reason.SUBSIDY_NOT_ENROLLED)
    if enr == Enrolment.EMPLOYEE_EMPLOYER:
        return refuse(Reason.SUBSIDY_EMPLOYER_INSURED)
    if best is None:
        return refuse(Reason.SUBSIDY_NO_STANDARD if no_standard else Reason.SUBSIDY_NO_RULE_FOR_ENROLMENT)
    cat, group, rule, std, std_amount, amount = best
    reasons = [Reason.SUBSIDY_PAID]
    provisional = tuple(r.ref for r in (rule, std) if r.ref.provisional)
    if std.ref.provisional:
        reasons.append(Reason.SUBSIDY_PROVISIONAL_STANDARD)
    return SubsidyDecision(
        person.id_number,
        year,
        str(enr),
        cat,
        group,
        rule.standard,
        std_amount,
        rule.share,
        amount,
        tuple(reasons),
        provisional,
        policy.version,
    )
