from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yfbz.rules.idcard import (
    IdNumberError,
    check_character,
    check_character_reference,
    convert_15_to_18,
    is_valid_id_number,
    parse_id_number,
)


def test_valid_18_digit_number_gives_birth_date_and_sex():
    n = parse_id_number("500112196203150436")
    assert (n.birth_date, n.sex) == (date(1962, 3, 15), "M")
    assert parse_id_number("500112194809300444").sex == "F"


def test_check_character_may_be_X_in_either_case():
    first17 = next(
        f"11010519491231{i:03d}" for i in range(1000) if check_character(f"11010519491231{i:03d}") == "X"
    )
    assert parse_id_number(first17 + "x").number == first17 + "X"


def test_wrong_check_character_is_refused_in_chinese():
    with pytest.raises(IdNumberError, match="校验位"):
        parse_id_number("500112196203150437")


@pytest.mark.parametrize(
    "bad", ["12345", "50011219620315043", "5001121962031504366", "50011219621315043X", "A00112196203150436"]
)
def test_malformed_numbers_are_refused(bad):
    assert not is_valid_id_number(bad)


def test_15_digit_legacy_number_is_converted_to_18():
    n18 = convert_15_to_18("500112620315043")
    assert n18[:17] == "50011219620315043" and is_valid_id_number(n18)
    assert parse_id_number("500112620315043").number == n18
    with pytest.raises(IdNumberError, match="15位"):
        parse_id_number("500112620315043", allow_15=False)


def test_impossible_birth_date_is_refused():
    first17 = "50011219620230043"
    with pytest.raises(IdNumberError, match="出生日期"):
        parse_id_number(first17 + check_character(first17))


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_fast_check_character_equals_the_standards_formula(first17):
    assert check_character(first17) == check_character_reference(first17)


def test_check_character_refuses_what_is_not_17_digits():
    for bad in ("5001121962031504", "50011219620315043X", "5001121962031504a"):
        with pytest.raises(ValueError):
            check_character(bad)
