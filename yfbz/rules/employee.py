"""Employees' ordinary outpatient pooling settled by hand (渝医保发〔2023〕32号, POLICY.md §10).

``outpatient_pooling`` computes the pooled-fund payment on one bill given what the year has
already used of the deductible and of the annual limit; ``personal_account_monthly`` gives the
monthly personal-account crediting of 第九条.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .codes import Reason
from .money import ZERO, quantize
from .policy import Policy, PoolingRule, RuleRef

IN_SERVICE = "IN_SERVICE"
RETIRED = "RETIRED"
#: insurance tiers of 第六条: with an employer or individual tier 2 share the higher limit
TIER_EMPLOYER = "EMPLOYER"
TIER_INDIVIDUAL_2 = "INDIVIDUAL_T2"
TIER_INDIVIDUAL_1 = "INDIVIDUAL_T1"
TIERS = (TIER_EMPLOYER, TIER_INDIVIDUAL_2, TIER_INDIVIDUAL_1)


@dataclass(frozen=True, slots=True)
class PoolingDecision:
    eligible_cost: Decimal  # in-policy cost less fixed-amount items
    deductible_applied: Decimal
    ratio: Decimal
    level_used: int
    amount: Decimal
    limit: Decimal
    limit_left_before: Decimal
    limit_left_after: Decimal
    reasons: tuple[Reason, ...]
    rule: RuleRef
    policy_version: str


def _rule(policy: Policy, employment: str) -> PoolingRule:
    try:
        return policy.employee_pooling[employment]
    except KeyError:
        raise ValueError(f"no pooling rule for employment status {employment!r}") from None


def outpatient_pooling(
    policy: Policy,
    *,
    employment: str,
    tier: str,
    institution_level: int,
    in_policy_cost: Decimal,
    fixed_items_paid: Decimal = ZERO,
    deductible_used: Decimal = ZERO,
    paid_this_year: Decimal = ZERO,
    pharmacy: bool = False,
    prescribing_level: int | None = None,
) -> PoolingDecision:
    """Pooled payment for one ordinary outpatient bill.

    ``fixed_items_paid``: costs already paid as fixed-amount items (诊察费、一般诊疗费、两病、门特、国谈药),
    which do not count (第六条). ``deductible_used``: in-policy costs already counted against this
    calendar year's deductible (第四条). ``paid_this_year``: what the pooling paid this year (第六条 limit).
    A pharmacy bill on an outside prescription uses the prescribing institution's level (第十二条).
    """
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    rule = _rule(policy, employment)
    reasons: list[Reason] = []
    level = institution_level
    if pharmacy:
        if prescribing_level is None:
            raise ValueError("a pharmacy bill needs the prescribing institution's level")
        level = prescribing_level
        reasons.append(Reason.POOLING_PRESCRIBER_LEVEL)
    level = policy.effective_level(level)
    if fixed_items_paid > ZERO:
        reasons.append(Reason.POOLING_FIXED_ITEMS_EXCLUDED)
    eligible = in_policy_cost - fixed_items_paid
    if eligible < ZERO:
        eligible = ZERO
    ded_left = rule.deductible - deductible_used
    if ded_left < ZERO:
        ded_left = ZERO
    ded = eligible if eligible < ded_left else ded_left
    over = eligible - ded
    ratio = rule.ratios[min(max(level, 1), 3) - 1]
    limit = rule.limit_tier1 if tier == TIER_INDIVIDUAL_1 else rule.limit_tier2
    left = limit - paid_this_year
    if left < ZERO:
        left = ZERO
    raw = quantize(over * ratio)
    amount = raw if raw <= left else left
    if over <= ZERO:
        reasons.insert(0, Reason.POOLING_DEDUCTIBLE_NOT_REACHED)
    elif left <= ZERO:
        reasons.insert(0, Reason.POOLING_LIMIT_USED_UP)
    elif amount < raw:
        reasons.insert(0, Reason.POOLING_LIMIT_REACHED)
        reasons.insert(0, Reason.POOLING_PAID)
    else:
        reasons.insert(0, Reason.POOLING_PAID)
    return PoolingDecision(
        eligible,
        ded,
        ratio,
        level,
        amount,
        limit,
        left,
        left - amount,
        tuple(reasons),
        rule.ref,
        policy.version,
    )


def personal_account_monthly(
    policy: Policy,
    *,
    employment: str,
    tier: str,
    age: int | None = None,
    contribution_base: Decimal | None = None,
    lump_sum_paying: bool = False,
) -> Decimal:
    """Monthly personal-account crediting (第九条).

    In service, with an employer or individual tier 2: share x contribution base. Retired, with an
    employer or individual tier 2: a fixed amount, higher from ``elder_age`` (inclusive). Single-payment
    (趸缴) people: share x base while paying (``lump_sum_paying``), then the retiree amounts.
    Individual tier 1: nothing is credited (第九条 names no amount).
    """
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    if tier == TIER_INDIVIDUAL_1:
        return ZERO
    if employment == IN_SERVICE or lump_sum_paying:
        rule = _rule(policy, IN_SERVICE)
        if contribution_base is None:
            raise ValueError("the contribution base is needed for an in-service or paying lump-sum account")
        return quantize(contribution_base * (rule.account_base_share or ZERO))
    rule = _rule(policy, RETIRED)
    if age is None:
        raise ValueError("age is needed for a retiree's account")
    if rule.elder_age is not None and age >= rule.elder_age and rule.account_monthly_elder is not None:
        return quantize(rule.account_monthly_elder)
    return quantize(rule.account_monthly or ZERO)
