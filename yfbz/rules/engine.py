"""Adjudication of one bill: medical assistance (POLICY.md §5–§8, D1–D5, D7, D9) and the
优抚对象医疗补助 on what remains (§9), in the one-stop order of §11.

Pure: plain values in (person, bill, what each annual cap has used this year, the
Policy in force on the settlement date), a ``Decision`` out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .codes import YOUFU, YOUFU_BURDEN, YOUFU_ZH, BillKind, Reason, Scheme
from .idcard import age_on
from .money import ZERO, fmt, percent, quantize
from .policy import Policy, RuleRef, SchemeRule, YoufuRule

LEVEL_ZH = {0: "未定级", 1: "一级", 2: "二级", 3: "三级"}


@dataclass(frozen=True, slots=True)
class Identity:
    category: str
    valid_from: date
    valid_to: date | None = None  # None: open-ended while certified

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def overlaps_year(self, year: int) -> bool:
        return self.valid_from <= date(year, 12, 31) and (
            self.valid_to is None or self.valid_to >= date(year, 1, 1)
        )


@dataclass(frozen=True, slots=True)
class AttributeSpan:
    """A person attribute held over dates (需院外维持治疗的重病患者 from a certification date)."""

    name: str
    valid_from: date
    valid_to: date | None = None

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class TownSpan:
    """The town a person lived in between two dates (docs/areas.md)."""

    town: str  # town code
    valid_from: date
    valid_to: date | None = None

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str
    birth_date: date | None
    identities: tuple[Identity, ...] = ()
    attributes: frozenset[str] = frozenset()  # held on every date
    name: str = ""
    town: str | None = None  # the person's town code now (policy is held per area: PolicyBook.in_force)
    attribute_spans: tuple[AttributeSpan, ...] = ()  # held between dates
    towns: tuple[TownSpan, ...] = ()  # their towns by date, when they moved; none: ``town`` on every date

    def categories_on(self, on: date) -> tuple[str, ...]:
        return tuple(i.category for i in self.identities if i.valid_on(on))

    def attributes_on(self, on: date) -> frozenset[str]:
        """The attributes held on a date (D1: the settlement date decides, as for identities)."""
        if not self.attribute_spans:
            return self.attributes
        return self.attributes | frozenset(a.name for a in self.attribute_spans if a.valid_on(on))

    def town_on(self, on: date) -> str | None:
        """The town the person lived in on ``on`` (the policy of that town's area applies, D1)."""
        for span in self.towns:
            if span.valid_on(on):
                return span.town
        return self.town

    def age_on(self, on: date) -> int | None:
        return None if self.birth_date is None else age_on(self.birth_date, on)


@dataclass(frozen=True, slots=True)
class Bill:
    kind: BillKind | str
    settled_on: date  # D1: discharge date for a stay, visit date for outpatient
    institution_level: int  # 0 (未定级), 1, 2, 3
    in_policy_cost: Decimal
    basic_paid: Decimal = ZERO
    critical_paid: Decimal = ZERO
    disease: str | None = None
    total_cost: Decimal | None = None
    admitted_on: date | None = None
    ref: str = ""
    designated: bool = True  # the institution is a designated one (定点) on the settlement date
    # employees' large-amount insurance (职工大额医疗保险, 大额报销金额): a layer before assistance, like
    # critical-illness insurance (the city platform's settlement detail, issue 18)
    large_paid: Decimal = ZERO

    @property
    def base(self) -> Decimal:
        """In-policy self-pay after basic, critical-illness and employees' large-amount insurance (§5, §6)."""
        b = self.in_policy_cost - self.basic_paid - self.critical_paid - self.large_paid
        return b if b > ZERO else ZERO


# Results (Considered, YoufuResult, Decision) are slotted but not frozen: a frozen dataclass's
# __init__ pays one object.__setattr__ per field, which is a third of the engine's time in bulk
# runs (bench/engine.py). Treat them as read-only once returned.
@dataclass(slots=True)
class Considered:
    """One scheme looked at for a bill, with the best identity for it and why it was or was not chosen."""

    scheme: Scheme
    applicable: bool
    category: str | None = None
    group: str | None = None
    ratio: Decimal | None = None
    base: Decimal = ZERO
    amount: Decimal = ZERO
    uncapped: Decimal = ZERO  # base x ratio before the cap
    cap: Decimal | None = None
    cap_used_before: Decimal = ZERO
    cap_left_before: Decimal | None = None
    cap_left_after: Decimal | None = None
    rule: RuleRef | None = None
    reasons: tuple[Reason, ...] = ()
    chosen: bool = False
    identities_compared: int = 0


@dataclass(slots=True)
class YoufuResult:
    eligible: bool
    category: str | None = None
    ratio: Decimal | None = None
    threshold: Decimal = ZERO
    base: Decimal = ZERO  # what remains after every earlier layer
    amount: Decimal = ZERO
    cap: Decimal | None = None
    cap_left_before: Decimal | None = None
    cap_left_after: Decimal | None = None
    rule: RuleRef | None = None
    reasons: tuple[Reason, ...] = ()
    annual_threshold_left: Decimal | None = None  # of the annual threshold, before this bill
    counted: Decimal = ZERO  # remaining self-pay of this bill counted toward the annual threshold


@dataclass(frozen=True, slots=True)
class Layer:
    """One line of the one-stop settlement (§11): basic -> critical -> assistance -> youfu."""

    code: str  # BASIC, CRITICAL, ASSISTANCE, YOUFU
    name_zh: str
    amount: Decimal
    scheme: str | None = None
    category: str | None = None
    ratio: Decimal | None = None
    base: Decimal | None = None
    cap_left: Decimal | None = None
    source: str | None = None


NO_YOUFU = YoufuResult(eligible=False)


@dataclass(slots=True)
class Decision:
    bill_ref: str
    settled_on: date
    year: int  # D1: cap year = calendar year of the settlement date
    policy_version: str
    kind: str
    level: int  # as billed (0 = 未定级)
    level_used: int  # D5
    in_policy_cost: Decimal
    basic_paid: Decimal
    critical_paid: Decimal
    base: Decimal
    scheme: Scheme | None
    category: str | None
    group: str | None
    ratio: Decimal | None
    amount: Decimal
    cap: Decimal | None
    cap_left_before: Decimal | None
    cap_left_after: Decimal | None
    considered: tuple[Considered, ...]
    reasons: tuple[Reason, ...]
    closest_scheme: Scheme | None
    youfu: YoufuResult
    provisional: tuple[RuleRef, ...]
    rule: RuleRef | None
    held: tuple[str, ...] = ()  # identities valid on the settlement date (age conditions met)
    category_names: Mapping[str, str] = field(repr=False, compare=False, default_factory=dict)
    age_refused: tuple[tuple[str, str], ...] = ()  # (category, condition) valid but not met on the date
    age: int | None = None  # full years on the settlement date (when a condition needed it)
    large_paid: Decimal = ZERO  # employees' large-amount insurance, a layer before assistance

    @property
    def assistance(self) -> Decimal:
        return self.amount

    @property
    def youfu_amount(self) -> Decimal:
        return self.youfu.amount

    @property
    def uses_provisional_rule(self) -> bool:
        return bool(self.provisional)

    @property
    def remaining_self_pay(self) -> Decimal:
        return self.base - self.amount - self.youfu.amount

    @property
    def reason_codes(self) -> tuple[int, ...]:
        return tuple(int(r) for r in self.reasons)

    def caps_used_delta(self) -> dict[str, Decimal]:
        """What this decision adds to the year's caps-used mapping (scheme -> amount, 'YOUFU' -> amount)."""
        d: dict[str, Decimal] = {}
        if self.scheme is not None and self.amount:
            d[str(self.scheme)] = self.amount
        if self.youfu.amount:
            d[YOUFU] = self.youfu.amount
        if self.youfu.counted:
            d[YOUFU_BURDEN] = self.youfu.counted
        return d

    def layers(self) -> tuple[Layer, ...]:
        a_src = self.rule.source if self.rule else None
        y = self.youfu
        return (
            Layer("BASIC", "基本医疗保险", self.basic_paid),
            Layer("CRITICAL", "大病保险", self.critical_paid),
            *((Layer("LARGE", "职工大额医疗保险", self.large_paid),) if self.large_paid else ()),
            Layer(
                "ASSISTANCE",
                self.scheme.zh if self.scheme else "医疗救助",
                self.amount,
                str(self.scheme) if self.scheme else None,
                self.category,
                self.ratio,
                self.base,
                self.cap_left_after,
                a_src,
            ),
            Layer(
                "YOUFU",
                YOUFU_ZH,
                y.amount,
                YOUFU if y.eligible else None,
                y.category,
                y.ratio,
                y.base,
                y.cap_left_after,
                y.rule.source if y.rule else None,
            ),
        )

    def explain_zh(self) -> str:
        return explain_zh(self)

    def to_dict(self) -> dict:
        """A JSON-ready snapshot (amounts as two-decimal strings) to store with the claim."""

        def ref(r: RuleRef | None) -> dict | None:
            if r is None:
                return None
            return {
                "section": r.section,
                "key": r.key,
                "source": r.source,
                "status": r.status,
                "effective_from": r.effective_from.isoformat(),
            }

        def num(x: Decimal | None) -> str | None:
            return None if x is None else str(x)

        y = self.youfu
        return {
            "bill_ref": self.bill_ref,
            "settled_on": self.settled_on.isoformat(),
            "year": self.year,
            "policy_version": self.policy_version,
            "kind": self.kind,
            "level": self.level,
            "level_used": self.level_used,
            "in_policy_cost": fmt(self.in_policy_cost),
            "basic_paid": fmt(self.basic_paid),
            "critical_paid": fmt(self.critical_paid),
            **({"large_paid": fmt(self.large_paid)} if self.large_paid else {}),
            "held": list(self.held),
            "age_refused": [list(x) for x in self.age_refused],
            "base": fmt(self.base),
            "scheme": str(self.scheme) if self.scheme else None,
            "category": self.category,
            "group": self.group,
            "ratio": num(self.ratio),
            "amount": fmt(self.amount),
            "cap": fmt(self.cap),
            "cap_left_before": fmt(self.cap_left_before),
            "cap_left_after": fmt(self.cap_left_after),
            "reasons": [int(r) for r in self.reasons],
            "closest_scheme": str(self.closest_scheme) if self.closest_scheme else None,
            "considered": [
                {
                    "scheme": str(c.scheme),
                    "applicable": c.applicable,
                    "category": c.category,
                    "group": c.group,
                    "ratio": num(c.ratio),
                    "amount": fmt(c.amount),
                    "cap": fmt(c.cap),
                    "cap_left_before": fmt(c.cap_left_before),
                    "cap_left_after": fmt(c.cap_left_after),
                    "chosen": c.chosen,
                    "reasons": [int(r) for r in c.reasons],
                    "rule": ref(c.rule),
                }
                for c in self.considered
            ],
            "youfu": {
                "eligible": y.eligible,
                "category": y.category,
                "ratio": num(y.ratio),
                "threshold": fmt(y.threshold),
                "base": fmt(y.base),
                "amount": fmt(y.amount),
                "cap": fmt(y.cap),
                "cap_left_after": fmt(y.cap_left_after),
                "annual_threshold_left": fmt(y.annual_threshold_left),
                "counted": fmt(y.counted),
                "reasons": [int(r) for r in y.reasons],
                "rule": ref(y.rule),
            },
            "provisional": [ref(r) for r in self.provisional],
            "rule": ref(self.rule),
            "layers": [
                {
                    "code": lay.code,
                    "name": lay.name_zh,
                    "amount": fmt(lay.amount),
                    "scheme": lay.scheme,
                    "category": lay.category,
                    "ratio": num(lay.ratio),
                    "base": fmt(lay.base),
                    "cap_left": fmt(lay.cap_left),
                    "source": lay.source,
                }
                for lay in self.layers()
            ],
            "explanation": self.explain_zh(),
        }


def _name(d: Decision, code: str | None) -> str:
    return d.category_names.get(code, code) if code else ""


def _date_zh(on: date) -> str:
    return f"{on.year}年{on.month}月{on.day}日"


def explain_zh(d: Decision) -> str:
    """A few lines of plain Chinese a clerk can read aloud (goes on the decision notice)."""
    kind_zh = "住院" if d.kind == BillKind.INPATIENT else "门诊"
    lines = [
        f"{_date_zh(d.settled_on)}结算的{kind_zh}费用：政策范围内费用{fmt(d.in_policy_cost)}元，"
        f"基本医保支付{fmt(d.basic_paid)}元，大病保险支付{fmt(d.critical_paid)}元，"
        + (f"职工大额医疗保险支付{fmt(d.large_paid)}元，" if d.large_paid else "")
        + f"政策范围内个人自付{fmt(d.base)}元。"
    ]
    if d.scheme is not None:
        level_zh = LEVEL_ZH.get(d.level, f"{d.level}级") + "医疗机构"
        if d.level != d.level_used:
            level_zh += f"（按{LEVEL_ZH.get(d.level_used, d.level_used)}计）"
        src = f"，依据{d.rule.source}" if d.rule and d.rule.source else ""
        line = f"按“{_name(d, d.category)}”身份给予{d.scheme.zh}{fmt(d.amount)}元（{level_zh}，救助比例{percent(d.ratio)}"
        if Reason.CAP_LIMITED in d.reasons:
            line += f"，按比例应为{fmt(quantize(d.base * d.ratio))}元，受年度限额所限"
        line += f"{src}）。"
        lines.append(line)
        if d.cap is not None:
            lines.append(f"本年度{d.scheme.zh}限额{fmt(d.cap)}元，本次后剩余{fmt(d.cap_left_after)}元。")
        others = [c for c in d.considered if not c.chosen and c.applicable and c.category is not None]
        if others:
            parts = [f"{c.scheme.zh}可救助{fmt(c.amount)}元" for c in others]
            lines.append(
                "经比较，"
                + "、".join(parts)
                + f"，按金额较高（同额按更具体方案）的{d.scheme.zh}计算，不重复救助。"
            )
    else:
        why = [r for r in d.reasons if (r < 120 or r == Reason.NO_POLICY_FOR_AREA) and r not in (Reason.UNGRADED_AS_LEVEL_1,)]
        text = "；".join(r.zh for r in why) or "不符合救助条件"
        if d.held and Reason.NO_SCHEME_FOR_IDENTITY in why:
            held = "、".join(f"“{_name(d, c)}”" for c in d.held)
            text = text.replace("所持身份", f"所持身份{held}", 1)
        line = f"本次不予医疗救助：{text}。"
        if d.closest_scheme is not None:
            c = next((c for c in d.considered if c.scheme == d.closest_scheme), None)
            line += f"最接近的是{d.closest_scheme.zh}"
            if c is not None and c.category is not None and c.cap is not None:
                line += f"（“{_name(d, c.category)}”身份，本年度限额{fmt(c.cap)}元，剩余{fmt(c.cap_left_before)}元）"
            line += "。"
        lines.append(line)
    for cat, cond in d.age_refused:
        age = "出生日期不详" if d.age is None else f"结算日为{d.age}周岁"
        lines.append(f"“{_name(d, cat)}”身份须{cond}，{age}，本次不按该身份计算。")
    y = d.youfu
    if y.eligible:
        if Reason.YOUFU_NO_CAP in y.reasons:
            lines.append(f"{YOUFU_ZH}：本区尚未设定年度补助限额，暂不发放。")
        elif y.amount:
            lines.append(
                f"{YOUFU_ZH}：对救助后剩余自付{fmt(y.base)}元"
                + (f"超过{fmt(y.threshold)}元的部分" if y.threshold else "")
                + (f"（扣除尚未达到的年度起付额{fmt(y.annual_threshold_left)}元）" if y.annual_threshold_left else "")
                + f"按{percent(y.ratio)}补助{fmt(y.amount)}元，本年度补助限额剩余{fmt(y.cap_left_after)}元。"
            )
        else:
            lines.append(f"{YOUFU_ZH}：{'；'.join(r.zh for r in y.reasons) or '无'}。")
    lines.append(f"本次结算后个人仍需自付政策范围内费用{fmt(d.remaining_self_pay)}元。")
    for ref in d.provisional:
        if ref is d.rule:
            lines.append("注意：上述救助按暂行规则计算，其比例和限额待确认。")
        else:
            lines.append(f"注意：所用规则（{ref.source}）为暂行规则，数额待确认。")
    return "\n".join(lines)


def applicable_schemes(
    policy: Policy, bill: Bill, level_used: int
) -> list[tuple[Scheme, tuple[Reason, ...]]]:
    """Which schemes a bill could fall under, with the reason when one does not apply (§5–§7a)."""
    out: list[tuple[Scheme, tuple[Reason, ...]]] = []
    inpatient = bill.kind == BillKind.INPATIENT
    in_cat = bill.disease is not None and bill.disease in policy.catalogue
    out.append((Scheme.INPATIENT if inpatient else Scheme.OUTPATIENT, ()))
    if in_cat:
        if policy.major_designated_only and not bill.designated:
            out.append((Scheme.MAJOR_DISEASE, (Reason.NOT_DESIGNATED_INSTITUTION,)))
        else:
            out.append((Scheme.MAJOR_DISEASE, ()))
    elif bill.disease is not None:
        out.append((Scheme.MAJOR_DISEASE, (Reason.NOT_IN_CATALOGUE,)))
    if inpatient:
        why: list[Reason] = []
        if in_cat:
            why.append(Reason.LARGE_DISEASE_IN_CATALOGUE)
        if level_used < policy.large_min_level:
            why.append(Reason.LARGE_LEVEL_TOO_LOW)
        if not bill.in_policy_cost > policy.large_min_cost:
            why.append(Reason.LARGE_BELOW_THRESHOLD)
        out.append((Scheme.LARGE_EXPENSE, tuple(why)))
    return out


def adjudicate(
    policy: Policy,
    person: Person,
    bill: Bill,
    caps_used: Mapping[str, Decimal] | None = None,
    youfu_used: Decimal | None = None,
) -> Decision:
    """Decide one bill.

    ``caps_used`` maps a scheme code (``Scheme`` value) to what that scheme has already paid this
    person in the bill's calendar year (D1, D3: one amount per scheme, not shared). ``youfu_used``
    is what the 优抚对象医疗补助 has paid in that year (it may also be given as ``caps_used['YOUFU']``).
    """
    used = caps_used or {}
    if youfu_used is None:
        youfu_used = used.get(YOUFU, ZERO)
    on = bill.settled_on
    if not policy.covered:
        # the area of the person's town on the date has no rules of its own: say so, borrow no one's figures
        return Decision(
            bill_ref=bill.ref, settled_on=on, year=on.year, policy_version=policy.version, kind=str(bill.kind),
            level=bill.institution_level, level_used=bill.institution_level, in_policy_cost=bill.in_policy_cost,
            basic_paid=bill.basic_paid, critical_paid=bill.critical_paid, base=bill.base, scheme=None, category=None,
            group=None, ratio=None, amount=ZERO, cap=None, cap_left_before=None, cap_left_after=None, considered=(),
            reasons=(Reason.NO_POLICY_FOR_AREA,), closest_scheme=None, youfu=NO_YOUFU, provisional=(), rule=None,
            held=person.categories_on(on), category_names=policy.categories,
        )
    cats = person.categories_on(on)
    refused: tuple[str, ...] = ()
    if not policy._condition_cats.isdisjoint(cats):  # a category with an age condition (POLICY.md §3)
        cats, refused = policy.held_on(person, on, cats)
    age = person.age_on(on) if (policy._age_thresholds or refused) else None
    ent = policy.entitlements(cats, age, person.attributes_on(on) if person.attribute_spans else person.attributes)
    no_identity = Reason.CATEGORY_AGE_NOT_MET if refused and not cats else Reason.NO_IDENTITY_ON_DATE
    level_used = policy.effective_level(bill.institution_level)
    base = bill.base

    considered: list[Considered] = []
    for scheme, not_applicable in applicable_schemes(policy, bill, level_used):
        options = ent.by_scheme.get(scheme, ())
        if not_applicable:
            considered.append(Considered(scheme, False, base=base, reasons=not_applicable))
            continue
        if not options:
            considered.append(
                Considered(
                    scheme,
                    True,
                    base=base,
                    reasons=(
                        no_identity
                        if not cats
                        else Reason.NO_SCHEME_FOR_IDENTITY
                        if policy.scheme_rules
                        else Reason.NO_RULE_IN_FORCE,
                    ),
                )
            )
            continue
        considered.append(_best_option(scheme, options, base, level_used, used.get(scheme, ZERO)))

    # D2: the scheme that pays most; ties -> major > large-expense > ordinary.
    chosen: Considered | None = None
    for c in considered:
        if c.amount > ZERO and (
            chosen is None
            or c.amount > chosen.amount
            or (c.amount == chosen.amount and c.scheme.specificity > chosen.scheme.specificity)
        ):
            chosen = c
    reasons: list[Reason] = []
    final = considered
    if chosen is not None:
        chosen.chosen = True
        for c in considered:
            if c is not chosen and c.applicable and c.category is not None:
                why = Reason.TIE_MORE_SPECIFIC if c.amount == chosen.amount else Reason.OTHER_SCHEME_PAYS_MORE
                c.reasons = c.reasons + (why,)
    closest: Scheme | None = None
    if chosen is not None:
        reasons.append(Reason.PAID)
        reasons.extend(r for r in chosen.reasons if r not in reasons)
        if any(c.applicable and c.category is not None and not c.chosen for c in final):
            tie = any(
                c.amount == chosen.amount for c in final if not c.chosen and c.applicable and c.category
            )
            reasons.append(Reason.TIE_MORE_SPECIFIC if tie else Reason.COMPARED_SCHEMES)
    else:
        # D9: nothing payable; say why and name the closest scheme.
        if not cats:
            reasons.append(no_identity)
        cands = [c for c in final if c.applicable]
        with_identity = [c for c in cands if c.category is not None]
        if with_identity:
            best = max(
                with_identity, key=lambda c: (c.uncapped, c.cap_left_before or ZERO, c.scheme.specificity)
            )
            closest = best.scheme
            for r in best.reasons:
                if r not in reasons:
                    reasons.append(r)
        else:
            pool = [c for c in final if c.applicable] or final
            best = max(pool, key=lambda c: c.scheme.specificity)
            closest = best.scheme
            for r in best.reasons:
                if r not in reasons:
                    reasons.append(r)
    if refused and Reason.CATEGORY_AGE_NOT_MET not in reasons:
        reasons.append(Reason.CATEGORY_AGE_NOT_MET)
    if level_used != bill.institution_level:
        reasons.append(Reason.UNGRADED_AS_LEVEL_1)

    amount = chosen.amount if chosen else ZERO
    provisional: list[RuleRef] = []
    if chosen is not None and chosen.rule is not None and chosen.rule.provisional:
        provisional.append(chosen.rule)
        reasons.append(Reason.PROVISIONAL_RULE)

    # §9 / §11: 优抚对象医疗补助 on what every earlier layer left.
    youfu = (
        _youfu(ent.youfu, base - amount, youfu_used, used.get(YOUFU_BURDEN, ZERO), bill.kind == BillKind.INPATIENT)
        if ent.youfu
        else NO_YOUFU
    )
    if youfu.amount and youfu.rule is not None and youfu.rule.provisional:
        provisional.append(youfu.rule)
    reasons.extend(youfu.reasons)

    return Decision(
        bill_ref=bill.ref,
        settled_on=on,
        year=on.year,
        policy_version=policy.version,
        kind=str(bill.kind),
        level=bill.institution_level,
        level_used=level_used,
        in_policy_cost=bill.in_policy_cost,
        basic_paid=bill.basic_paid,
        critical_paid=bill.critical_paid,
        base=base,
        scheme=chosen.scheme if chosen else None,
        category=chosen.category if chosen else None,
        group=chosen.group if chosen else None,
        ratio=chosen.ratio if chosen else None,
        amount=amount,
        cap=chosen.cap if chosen else None,
        cap_left_before=chosen.cap_left_before if chosen else None,
        cap_left_after=chosen.cap_left_after if chosen else None,
        considered=tuple(final),
        reasons=tuple(reasons),
        closest_scheme=closest,
        youfu=youfu,
        provisional=tuple(provisional),
        rule=chosen.rule if chosen else None,
        held=cats,
        category_names=policy.categories,
        age_refused=tuple([(c, policy.condition_of(c).describe_zh()) for c in refused]) if refused else (),
        age=age if refused else None,
        large_paid=bill.large_paid,
    )


def _best_option(
    scheme: Scheme, options: tuple[tuple[str, str, SchemeRule], ...], base: Decimal, level: int, used: Decimal
) -> Considered:
    """就高: of the identities giving this scheme, the one that pays most (then most cap left, then highest ratio)."""
    best_key = None
    best = None
    for cat, group, rule in options:
        ratio = rule.ratio_for(level)
        left = rule.annual_cap - used
        if left < ZERO:
            left = ZERO
        raw = quantize(base * ratio)
        amt = raw if raw <= left else left
        key = (amt, left, ratio)
        if best_key is None or key > best_key:
            best_key = key
            best = (cat, group, rule, ratio, left, raw, amt)
    cat, group, rule, ratio, left, raw, amt = best
    reasons: list[Reason] = []
    if base <= ZERO:
        reasons.append(Reason.NOTHING_LEFT_TO_PAY)
    elif left <= ZERO:
        reasons.append(Reason.CAP_USED_UP)
    elif amt < raw:
        reasons.append(Reason.CAP_LIMITED)
    if len(options) > 1 and len({o[0] for o in options}) > 1:
        reasons.append(Reason.BEST_OF_SEVERAL_IDENTITIES)
    return Considered(
        scheme=scheme,
        applicable=True,
        category=cat,
        group=group,
        ratio=ratio,
        base=base,
        amount=amt,
        uncapped=raw,
        cap=rule.annual_cap,
        cap_used_before=used,
        cap_left_before=left,
        cap_left_after=left - amt,
        rule=rule.ref,
        reasons=tuple(reasons),
        identities_compared=len(options),
    )


def _youfu(
    options: tuple[tuple[str, YoufuRule | None], ...],
    remaining: Decimal,
    used: Decimal,
    burden_used: Decimal = ZERO,
    inpatient: bool = True,
) -> YoufuResult:
    """§9: (what every earlier layer left − the bill's threshold − what is still below the annual
    threshold) × ratio, capped by the year's cap; ``inpatient_only`` rules skip outpatient bills."""
    best: YoufuResult | None = None
    no_cap: YoufuResult | None = None
    for cat, rule in options:
        if rule is None or rule.annual_cap is None:
            if no_cap is None:
                no_cap = YoufuResult(
                    True,
                    cat,
                    rule.ratio if rule else None,
                    rule.threshold if rule else ZERO,
                    remaining,
                    ZERO,
                    None,
                    None,
                    None,
                    rule.ref if rule else None,
                    (Reason.YOUFU_NO_CAP,),
                )
            continue
        left = rule.annual_cap - used
        if left < ZERO:
            left = ZERO
        if rule.inpatient_only and not inpatient:
            res = YoufuResult(
                True, cat, rule.ratio, rule.threshold, remaining, ZERO, rule.annual_cap, left, left, rule.ref,
                (Reason.YOUFU_INPATIENT_ONLY,),
            )
        else:
            annual_left = None
            over = remaining - rule.threshold
            if rule.annual_threshold:
                annual_left = rule.annual_threshold - burden_used
                if annual_left < ZERO:
                    annual_left = ZERO
                over -= annual_left
            raw = quantize(over * rule.ratio) if over > ZERO else ZERO
            amt = raw if raw <= left else left
            if raw <= ZERO:
                below = annual_left and remaining > rule.threshold
                why = (Reason.YOUFU_BELOW_ANNUAL_THRESHOLD if below else Reason.YOUFU_NOTHING_REMAINS,)
            elif left <= ZERO:
                why = (Reason.YOUFU_CAP_USED_UP,)
            elif amt < raw:
                why = (Reason.YOUFU_PAID, Reason.YOUFU_CAP_LIMITED)
            else:
                why = (Reason.YOUFU_PAID,)
            res = YoufuResult(
                True,
                cat,
                rule.ratio,
                rule.threshold,
                remaining,
                amt,
                rule.annual_cap,
                left,
                left - amt,
                rule.ref,
                why,
                annual_left,
                remaining if remaining > ZERO else ZERO,
            )
        if best is None or (res.amount, res.cap_left_after) > (best.amount, best.cap_left_after):
            best = res
    return best or no_cap or NO_YOUFU


class CapLedger:
    """What each annual cap has used, per person and calendar year (D1, D3), for runs over bill sequences."""

    __slots__ = ("_used",)

    def __init__(self) -> None:
        self._used: dict[tuple[str, int], dict[str, Decimal]] = {}

    def used(self, person_key: str, year: int) -> dict[str, Decimal]:
        return self._used.get((person_key, year), {})

    def record(self, person_key: str, decision: Decision) -> None:
        delta = decision.caps_used_delta()
        if not delta:
            return
        k = (person_key, decision.year)
        cur = self._used.get(k)
        if cur is None:
            cur = self._used[k] = {}
        for s, a in delta.items():
            cur[s] = cur.get(s, ZERO) + a

    def adjudicate(self, policy: Policy, person: Person, bill: Bill) -> Decision:
        d = adjudicate(policy, person, bill, self.used(person.id_number, bill.settled_on.year))
        self.record(person.id_number, d)
        return d
