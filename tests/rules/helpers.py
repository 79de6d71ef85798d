"""Builders for pure engine tests (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yfbz.rules import Bill, BillKind, CapLedger, Identity, Person, adjudicate, default_book
from yfbz.rules.idcard import check_character

D = Decimal
DAY = date(2025, 6, 15)


def valid_id(birth: date, seq: int = 1, region: str = "500112") -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


def person(
    *categories: str,
    birth: date = date(1955, 1, 1),  # 70 in 2025: meets NONGCUN_60's 60周岁以上, under DIBAO's 80
    since: date = date(2020, 1, 1),
    until: date | None = None,
    attributes: tuple[str, ...] = (),
    identities: tuple[Identity, ...] = (),
) -> Person:
    idents = tuple(Identity(c, since, until) for c in categories) + identities
    return Person(valid_id(birth), birth, idents, frozenset(attributes))


def bill(
    kind: str = "INPATIENT",
    *,
    level: int = 2,
    in_policy: str = "10000.00",
    basic: str = "5000.00",
    critical: str = "0.00",
    disease: str | None = None,
    on: date = DAY,
    ref: str = "B",
) -> Bill:
    return Bill(
        BillKind(kind), on, level, D(in_policy), D(basic), D(critical), disease, D(in_policy), None, ref
    )


def policy(on: date = DAY, overrides: dict | None = None):
    book = default_book()
    if overrides:
        book = book.with_overrides(overrides)
    return book.in_force(on)


def decide(p: Person, b: Bill, used: dict | None = None, *, pol=None):
    return adjudicate(pol or policy(b.settled_on), p, b, used or {})


def run(p: Person, *bills: Bill, pol=None):
    led = CapLedger()
    return [led.adjudicate(pol or policy(b.settled_on), p, b) for b in bills]


YOUFU_CAP_2000 = {
    "youfu_rules": [
        {
            "category": None,
            "ratio": "0.50",
            "threshold": "0.00",
            "annual_cap": "2000.00",
            "source": "示例限额（测试）",
            "status": "confirmed",
        }
    ]
}
