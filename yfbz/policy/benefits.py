"""What a person's identities give on a date, benefit by benefit: the person page of beneficiaries
asks through the ``benefits_on`` hook (yfbz.core.hooks; registered in PolicyConfig.ready)."""

from decimal import Decimal

from yfbz.rules import REASON_ZH, Bill, BillKind, Enrolment, Reason

from .inputs import decide_bill, decide_subsidy, person_for_engine, policy_for

REFERENCE_COST = "10000"


def benefits_on(person, on):
    """For each benefit, the identity that gives most on `on` and why, as the engine decides it for
    reference bills (in-policy self-pay of 10,000 yuan) — the engine's own 就高 rule, not a copy of it."""
    rp = person_for_engine(person)
    policy = policy_for(on, person=rp)
    cost = Decimal(REFERENCE_COST)
    large = max(cost, policy.large_min_cost + 1)
    disease = min(policy.catalogue) if policy.catalogue else None
    bills = [
        Bill(BillKind.OUTPATIENT, on, 2, cost),
        Bill(BillKind.INPATIENT, on, 2, cost, disease=disease),
        Bill(BillKind.INPATIENT, on, 3, large),
    ]
    # reasons about the reference bill itself (caps, which scheme paid it) say nothing about the identity
    about_bill = {Reason.OTHER_SCHEME_PAYS_MORE, Reason.TIE_MORE_SPECIFIC, Reason.CAP_LIMITED, Reason.CAP_USED_UP,
                  Reason.NOTHING_LEFT_TO_PAY, Reason.PAID, Reason.COMPARED_SCHEMES, Reason.YOUFU_PAID,
                  Reason.YOUFU_CAP_USED_UP, Reason.YOUFU_NOTHING_REMAINS, Reason.YOUFU_CAP_LIMITED}
    seen, rows = set(), []
    youfu = None
    for bill in bills:
        decision, _ = decide_bill(rp, bill, policy=policy)
        if youfu is None or (decision.youfu.eligible and not youfu.eligible):
            youfu = decision.youfu
        for c in decision.considered:
            if c.scheme in seen or not c.applicable:
                continue
            seen.add(c.scheme)
            rows.append({
                "scheme": str(c.scheme),
                "benefit": c.scheme.zh,
                "category": policy.category_name(c.category) if c.category else None,
                "ratio": c.ratio, "cap": c.cap, "level": bill.institution_level,
                "source": c.rule.source if c.rule else "",
                "why": "；".join(REASON_ZH[r] for r in c.reasons if r in REASON_ZH and r not in about_bill) or (
                    f"比较了{c.identities_compared}个身份，取待遇最优者" if c.identities_compared > 1 else "唯一符合条件的身份"
                ),
            })
    if youfu is not None:
        rows.append({
            "benefit": "优抚对象医疗补助", "category": policy.category_name(youfu.category) if youfu.eligible else None,
            "ratio": youfu.ratio, "cap": youfu.cap, "level": None,
            "source": youfu.rule.source if youfu.rule else "",
            "why": "；".join(REASON_ZH[r] for r in youfu.reasons if r in REASON_ZH and r not in about_bill)
            or ("优抚对象，在其他救助之后补助" if youfu.eligible else "无优抚身份"),
        })
    sub = decide_subsidy(rp, on.year, Enrolment.RESIDENT_T1)
    rows.append({
        "benefit": f"{on.year}年资助参保（一档居民）", "category": policy.category_name(sub.category) if sub.category else None,
        "ratio": sub.share, "cap": sub.amount if sub.category else None, "level": None, "source": "",
        "why": "；".join(REASON_ZH[r] for r in sub.reasons if r in REASON_ZH),
    })
    return {"on": on, "held": [policy.category_name(c) for c in rp.categories_on(on)], "rows": rows,
            "policy_version": policy.version}
