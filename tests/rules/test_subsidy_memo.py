"""The subsidy engine memoised per distinct input (issue 14) decides exactly as it did per person.

``reference_subsidy`` below is ``yfbz.rules.subsidy.contribution_subsidy`` as it was before the
decision was split into the person's facts (``subsidy_facts``) and a decision memoised per facts: every
field of the decision must be the same for random people, identities (dated, several at once, with and
without age conditions), birth dates (29 February, none), attribute spans and enrolments, under the
shipped policy and one whose subsidy groups carry conditions (age, another identity, an attribute),
an age ceiling and per-category standards — and with the memo warm in any order.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yfbz.rules import AttributeSpan, Enrolment, Identity, Person, Reason, contribution_subsidy, default_book
from yfbz.rules.codes import SUBSIDY_PREFIX
from yfbz.rules.money import ZERO, quantize
from yfbz.rules.policy import Policy
from yfbz.rules.subsidy import SubsidyDecision, _last_day_in_year, _meets

OVERRIDES = {
    "memberships": [
        {"category": "DIBAO", "group": "SUB_T2", "min_age": 70, "also_holds": "TEKUN",
         "attribute": "needs_maintenance_treatment"},
        {"category": "CANJI_1_6", "group": "SUB_T2", "min_age": 65},
    ],
    "category_conditions": [{"category": "KUNNAN_DAXUESHENG", "min_age": 16, "max_age": 30}],
    "contribution_standards": {"2025": {"category": "TEKUN", "T1": "380.00", "T2": "760.00"}},
}
BOOK = default_book()
POLICIES = [BOOK.in_force(date(2025, 12, 31)), BOOK.with_overrides(OVERRIDES).in_force(date(2025, 12, 31))]
CATEGORIES = sorted(POLICIES[0].categories)
ENROLMENTS = [None, *Enrolment]
ATTRIBUTES = ["needs_maintenance_treatment", "other_attribute"]


def reference_subsidy(
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


def random_person(rng: random.Random) -> Person:
    def day():
        return date(2023, 6, 1) + timedelta(days=rng.randrange(1000))

    birth = rng.choice([None, date(1944, 2, 29), date(1996, 2, 29)]) if rng.random() < 0.05 else \
        date(1925, 1, 1) + timedelta(days=rng.randrange(36_000))
    idents = []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 4])):
        start, end = day(), rng.choice([None, day()])
        if end is not None and end < start:
            start, end = end, start
        idents.append(Identity(rng.choice(CATEGORIES), start, end))
    if idents and rng.random() < 0.1:
        idents.append(idents[0])  # the same identity twice
    attrs = frozenset(rng.sample(ATTRIBUTES, rng.randrange(2))) if rng.random() < 0.1 else frozenset()
    spans = tuple(AttributeSpan(rng.choice(ATTRIBUTES), day(), rng.choice([None, day()])) for _ in range(rng.choice([0, 0, 0, 1, 2])))
    return Person(f"ID{rng.randrange(10**9)}", birth, tuple(idents), attrs, attribute_spans=spans)


def test_the_memoised_engine_decides_as_the_one_per_person_on_random_people():
    rng = random.Random(14)
    people = [(random_person(rng), rng.choice(ENROLMENTS), rng.choice([2024, 2025, 2025, 2026])) for _ in range(20_000)]
    paid = 0
    for pol in POLICIES:
        pol._subsidy_cache.clear()
        for _round in range(2):  # the memo cold, then warm in another order
            for p, enr, year in people:
                got, want = contribution_subsidy(pol, p, year, enr), reference_subsidy(pol, p, year, enr)
                assert got == want, (p, enr, year)
                paid += got.amount > 0
            rng.shuffle(people)
        assert len(pol._subsidy_cache) < len(people) / 2  # people share decisions (even these varied ones)
    assert paid > 5_000


days = st.integers(min_value=0, max_value=900).map(lambda n: date(2024, 1, 1) + timedelta(days=n))


@st.composite
def people(draw):
    idents = []
    for _ in range(draw(st.integers(0, 4))):
        start, end = draw(days), draw(st.one_of(st.none(), days))
        if end is not None and end < start:
            start, end = end, start
        idents.append(Identity(draw(st.sampled_from(CATEGORIES)), start, end))
    birth = draw(st.one_of(st.none(), st.dates(date(1920, 1, 1), date(2024, 12, 31))))
    spans = tuple(AttributeSpan("needs_maintenance_treatment", s, None) for s in draw(st.lists(days, max_size=1)))
    return Person("500112197001010018", birth, tuple(idents), frozenset(), attribute_spans=spans)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people(), st.sampled_from(ENROLMENTS), st.sampled_from(POLICIES))
def test_property_memoised_equals_per_person(p, enr, pol):
    assert contribution_subsidy(pol, p, 2025, enr) == reference_subsidy(pol, p, 2025, enr)
