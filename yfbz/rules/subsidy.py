"""Contribution subsidies (资助参保, POLICY.md §4; 渝北府办发〔2025〕2号 二(一)(二); 52号 第五条; D8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .codes import SUBSIDY_PREFIX, Enrolment, Reason
from .engine import Person
from .money import ZERO, quantize
from .policy import Policy, RuleRef


# slotted but not frozen, like the engine's other results (engine.py): a frozen dataclass's __init__
# pays one object.__setattr__ per field — 5 of a memoised decision's ~11 µs (issue 14). Read-only once returned.
@dataclass(slots=True)
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

    In two steps (issue 14: a million people share a few thousand inputs): ``subsidy_facts`` reads
    from the person everything the decision depends on — for each qualifying identity its category, the
    policy's ``condition_key`` on the last day it qualifies (the identities held and qualifying that day,
    the age bucket, the attributes the policy asks about) and the order of that day and of the days held
    among the person's identities — and the decision on those facts is computed once per policy, year,
    enrolment and facts (memoised in the Policy, which is immutable).
    """
    enr = (_ENROLMENTS.get(enrolment) or Enrolment(enrolment)) if enrolment else None
    if not policy.covered:  # no subsidy rules of the area's own (docs/areas.md)
        return SubsidyDecision(person.id_number, *_refusal(policy, year, enr, Reason.SUBSIDY_NO_POLICY_FOR_AREA))
    facts = subsidy_facts(policy, person, year)
    key = (year, enr, facts)
    cache = policy._subsidy_cache
    fields = cache.get(key)
    if fields is None:
        fields = _decide(policy, year, enr, facts)
        if len(cache) < 100_000:
            cache[key] = fields
    return SubsidyDecision(person.id_number, *fields)


_ENROLMENTS = {str(e): e for e in Enrolment}
_YEARS: dict[int, tuple[date, date]] = {}  # year → (1 January, 31 December)
_NONE_HELD = "none held"  # facts: no identity overlaps the year
_NONE_QUALIFYING = "none qualifying"  # facts: none meets its category's age condition on any day of the year


def subsidy_facts(policy: Policy, person: Person, year: int):
    """What the subsidy of ``year`` depends on, for one person under ``policy`` (hashable): a marker
    when no identity is held (or none qualifies) in the year; else whether some held identity never
    qualifies, and per qualifying identity (in the person's order) (category, the policy's
    ``condition_key`` of the identities held and qualifying on the last day it qualifies, the rank of
    that day among the person's such days, the rank of the number of days it qualified before it)."""
    bounds = _YEARS.get(year)
    if bounds is None:
        bounds = _YEARS[year] = (date(year, 1, 1), date(year, 12, 31))
    year_start, year_end = bounds
    held = [i for i in person.identities if i.valid_from <= year_end and (i.valid_to is None or i.valid_to >= year_start)]
    if not held:
        return _NONE_HELD
    conditions = policy._conditions
    qualifying = []  # (identity, first day, last day)
    for ident in held:
        # D8: the days of the year on which the identity is valid AND its category's age condition
        # holds (52号 第二条: 60周岁以上 only from the 60th birthday)
        start = ident.valid_from if ident.valid_from > year_start else year_start
        end = year_end if ident.valid_to is None or ident.valid_to > year_end else ident.valid_to
        cond = conditions.get(ident.category) if conditions else None
        if cond is not None:
            days = cond.window(person.birth_date)
            if days is None:
                continue
            start, end = max(start, days[0]), min(end, days[1])
        if start <= end:
            qualifying.append((ident, start, end))
    if not qualifying:
        return _NONE_QUALIFYING
    if len(qualifying) == 1:
        ident, start, on = qualifying[0]
        cat = ident.category
        return (len(held) > 1, ((cat, policy.condition_key((cat,), person.age_on(on), person.attributes_on(on)), 0, 0),))
    ons = sorted({on for _, _, on in qualifying})
    held_days = sorted({(on - start).days for _, start, on in qualifying})
    items = []
    for ident, start, on in qualifying:
        cat = ident.category
        others = tuple(i.category for i, s, e in qualifying if s <= on <= e and i.valid_on(on) and i.category != cat)
        items.append((cat, policy.condition_key((cat, *others), person.age_on(on), person.attributes_on(on)),
                      ons.index(on), held_days.index((on - start).days)))
    return (len(qualifying) < len(held), tuple(items))


def _refusal(policy: Policy, year: int, enr: Enrolment | None, *reasons: Reason) -> tuple:
    return (year, str(enr) if enr else None, None, None, None, None, None, ZERO, tuple(reasons), (), policy.version)


def _decide(policy: Policy, year: int, enr: Enrolment | None, facts) -> tuple:
    """The decision's fields after the ID number, from ``subsidy_facts``."""
    if facts is _NONE_HELD:
        return _refusal(policy, year, enr, Reason.SUBSIDY_NO_QUALIFYING_IDENTITY)
    if facts is _NONE_QUALIFYING:
        return _refusal(policy, year, enr, Reason.SUBSIDY_AGE_NOT_MET)
    some_never_qualify, items = facts
    best = None
    best_key = None
    saw_group = False
    no_standard = False
    for category, condition, on_rank, days_rank in items:
        for cat, group, _m in policy.groups_under(condition):
            if cat != category or not group.startswith(SUBSIDY_PREFIX + "_"):
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
            key = (amount, on_rank, days_rank)  # the best amount, then held latest, then longest
            if best_key is None or key > best_key:
                best_key = key
                best = (cat, group, rule, std, std_amount, amount)
    if not saw_group:
        if some_never_qualify:
            return _refusal(policy, year, enr, Reason.SUBSIDY_NO_QUALIFYING_IDENTITY, Reason.SUBSIDY_AGE_NOT_MET)
        return _refusal(policy, year, enr, Reason.SUBSIDY_NO_QUALIFYING_IDENTITY)
    if enr is None:
        return _refusal(policy, year, enr, Reason.SUBSIDY_NOT_ENROLLED)
    if enr == Enrolment.EMPLOYEE_EMPLOYER:
        return _refusal(policy, year, enr, Reason.SUBSIDY_EMPLOYER_INSURED)
    if best is None:
        return _refusal(policy, year, enr, Reason.SUBSIDY_NO_STANDARD if no_standard else Reason.SUBSIDY_NO_RULE_FOR_ENROLMENT)
    cat, group, rule, std, std_amount, amount = best
    reasons = [Reason.SUBSIDY_PAID]
    provisional = tuple(r.ref for r in (rule, std) if r.ref.provisional)
    if std.ref.provisional:
        reasons.append(Reason.SUBSIDY_PROVISIONAL_STANDARD)
    return (year, str(enr), cat, group, rule.standard, std_amount, rule.share, amount, tuple(reasons), provisional,
            policy.version)
