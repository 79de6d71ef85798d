"""Capital numerals on notices: worked examples, and a property test reading every output back
with an independent parser (what is printed is exactly the amount, in the accepted form)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.numerals import amount_in_capitals

DIG = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def parse_capitals(text: str) -> Decimal:
    """Independent reader of 大写金额 (no code shared with the converter)."""
    assert text
    integer, _, frac = text.partition("元") if "元" in text else ("", "", text)
    total = section = num = 0
    for ch in integer:
        if ch in DIG:
            num = DIG[ch]
        elif ch in UNIT:
            section += num * UNIT[ch]
            num = 0
        elif ch == "万":
            total += (section + num) * 10_000
            section = num = 0
        elif ch == "亿":
            total = (total + section + num) * 100_000_000
            section = num = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text}")
    total += section + num
    fen = 0
    frac = frac.removesuffix("整")
    for i, ch in enumerate(frac):
        if ch == "角":
            fen += DIG[frac[i - 1]] * 10
        elif ch == "分":
            fen += DIG[frac[i - 1]]
    return Decimal(total) + Decimal(fen) / 100


@pytest.mark.parametrize(
    "amount, text",
    [
        ("1230.50", "壹仟贰佰叁拾元伍角整"),
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("10", "壹拾元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("1200.05", "壹仟贰佰元零伍分"),
        ("10000", "壹万元整"),
        ("10001", "壹万零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("120000", "壹拾贰万元整"),
        ("60000.00", "陆万元整"),
        ("3750.00", "叁仟柒佰伍拾元整"),
        ("4000.36", "肆仟元零叁角陆分".replace("零", "")),
        ("101010.10", "壹拾万壹仟零壹拾元壹角整"),
    ],
)
def test_worked_examples(amount, text):
    assert amount_in_capitals(Decimal(amount)) == text


@given(st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2, allow_nan=False))
def test_every_amount_reads_back_exactly_and_in_the_accepted_form(amount):
    text = amount_in_capitals(amount)
    assert parse_capitals(text) == amount
    assert "零零" not in text and not text.endswith("零")
    assert text.endswith("分") != text.endswith("整")
    assert text.endswith("分") == (amount * 100 % 10 != 0)


def test_negative_and_float_amounts_are_refused():
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("-1"))
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal("1000000000000"))
    with pytest.raises(TypeError):
        amount_in_capitals(1.5)
