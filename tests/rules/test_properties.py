"""Property tests over random people, identities and bill sequences."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yfbz.rules import YOUFU, Bill, BillKind, CapLedger, Identity, Person, adjudicate, default_book

from .helpers import YOUFU_CAP_2000

BOOK = default_book().with_overrides(YOUFU_CAP_2000)
POL = BOOK.in_force(date(2025, 6, 1))
CATEGORIES = sorted(POL.categories)
DISEASES = [None, None, None, "肺癌", "白血病", "感冒"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cents = st.integers(min_value=0, max_value=8_000_000).map(lambda c: Decimal(c).scaleb(-2))
days = st.integers(min_value=0, max_value=364).map(lambda n: date(2025, 1, 1) + timedelta(days=n))


@st.composite
def identities(draw):
    cat = draw(st.sampled_from(CATEGORIES))
    start = draw(days) - timedelta(days=draw(st.integers(0, 400)))
    end = draw(st.one_of(st.none(), days))
    if end is not None and end < start:
        start, end = end, start
    return Identity(cat, start, end)


@st.composite
def people(draw):
    birth = date(1930, 1, 1) + timedelta(days=draw(st.integers(0, 30000)))
    idents = tuple(draw(st.lists(identities(), min_size=0, max_size=4)))
    attrs = frozenset(draw(st.sampled_from([(), ("needs_maintenance_treatment",)])))
    return Person("500112197001010018", birth, idents, attrs)


@st.composite
def bills(draw):
    in_policy = draw(cents)
    basic = Decimal(draw(st.integers(0, int(in_policy * 100)))).scaleb(-2)
    critical = Decimal(draw(st.integers(0, int((in_policy - basic) * 100)))).scaleb(-2)
    return Bill(
        BillKind(draw(st.sampled_from(["INPATIENT", "OUTPATIENT"]))),
        draw(days),
        draw(st.integers(0, 3)),
        in_policy,
        basic,
        critical,
        draw(st.sampled_from(DISEASES)),
    )


def two_decimals(x: Decimal) -> bool:
    return x.as_tuple().exponent == -2


@SETTINGS
@given(people(), st.lists(bills(), min_size=1, max_size=12))
def test_bill_sequences_respect_every_cap_and_never_pay_below_zero_or_above_base(person, seq):
    seq = sorted(seq, key=lambda b: b.settled_on)
    led = CapLedger()
    paid: dict[str, Decimal] = {}
    for b in seq:
        d = led.adjudicate(POL, person, b)
        assert Decimal(0) <= d.amount <= d.base
        assert two_decimals(d.amount) and two_decimals(d.youfu.amount) and two_decimals(d.base)
        assert Decimal(0) <= d.youfu.amount <= d.base - d.amount  # never more than what remains
        assert d.remaining_self_pay >= 0
        if d.scheme is not None:
            paid[d.scheme] = paid.get(d.scheme, Decimal(0)) + d.amount
            assert d.cap_left_after >= 0
            cap = max(r.annual_cap for r in POL.scheme_rules if r.scheme == d.scheme)
            assert paid[d.scheme] <= cap
        paid[YOUFU] = paid.get(YOUFU, Decimal(0)) + d.youfu.amount
        assert paid[YOUFU] <= Decimal("2000.00")
        assert sum(1 for c in d.considered if c.chosen) == (1 if d.scheme else 0)


@SETTINGS
@given(
    people(),
    bills(),
    identities(),
    st.dictionaries(
        st.sampled_from(["INPATIENT", "OUTPATIENT", "MAJOR_DISEASE", "LARGE_EXPENSE"]), cents, max_size=4
    ),
)
def test_adding_an_identity_never_lowers_the_amount_for_a_single_bill(person, b, extra, used):
    before = adjudicate(POL, person, b, used)
    richer = Person(person.id_number, person.birth_date, person.identities + (extra,), person.attributes)
    after = adjudicate(POL, richer, b, used)
    assert after.amount >= before.amount


@SETTINGS
@given(
    people(),
    bills(),
    st.dictionaries(
        st.sampled_from(["INPATIENT", "OUTPATIENT", "MAJOR_DISEASE", "LARGE_EXPENSE", "YOUFU"]),
        cents,
        max_size=5,
    ),
)
def test_a_single_bill_never_goes_beyond_what_each_cap_has_left(person, b, used):
    d = adjudicate(POL, person, b, used)
    if d.scheme is not None:
        assert d.amount <= max(Decimal(0), d.cap - used.get(d.scheme, Decimal(0)))
        assert d.amount > 0
    else:
        assert d.amount == Decimal("0.00") and d.reasons
    assert d.youfu.amount <= max(Decimal(0), Decimal("2000.00") - used.get(YOUFU, Decimal(0)))
