"""Resident ID numbers (公民身份号码, GB 11643-1999): check character, birth date, sex.

Pure functions, shared by the engine, the simulator and the roster import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class IdNumberError(ValueError):
    """An ID number that cannot be accepted; the message is in Chinese for staff."""


@dataclass(frozen=True, slots=True)
class IdNumber:
    number: str  # normalised, 18 characters, upper-case X
    birth_date: date
    sex: str  # "M" or "F"

    def age_on(self, on: date) -> int:
        return age_on(self.birth_date, on)


def check_character_reference(first17: str) -> str:
    """The MOD 11-2 check character, computed as GB 11643-1999 states it (tests compare with it)."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def check_character(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits.

    The weight of the i-th digit in GB 11643-1999 is 2^(18−i) modulo 11 (7, 9, 10 … 2), and 13 ≡ 2 (mod 11):
    read as a number in base 13 the digits give Σ dᵢ·13^(17−i) ≡ Σ dᵢ·2^(17−i), and twice that is the
    weighted sum modulo 11 —
    one int() in C instead of seventeen multiplications in Python (the roster import checks hundreds of
    thousands of numbers). tests/rules/test_idcard.py compares it with check_character_reference."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("check_character needs 17 digits")
    return _CHECK[int(first17, 13) * 2 % 11]


def convert_15_to_18(number: str) -> str:
    """Legacy 15-digit number -> 18 characters (insert '19' before the 2-digit year, add the check character)."""
    number = number.strip()
    if len(number) != 15 or not number.isdigit():
        raise IdNumberError("15位身份证号码应为15位数字")
    first17 = number[:6] + "19" + number[6:]
    _birth(first17[6:14])
    return first17 + check_character(first17)


@lru_cache(maxsize=65536)  # birth dates repeat across a roster; errors are not cached
def _birth(text: str) -> date:
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise IdNumberError(f"出生日期{text}无效") from exc


def birth_date_of(digits: str) -> date:
    """The birth date written as YYYYMMDD in characters 7–14 (cached). IdNumberError when it is no date;
    the plausibility rule (not before 1850) is parse_id_number's."""
    return _birth(digits)


def parse_id_number(number: str, *, allow_15: bool = True, today: date | None = None) -> IdNumber:
    """Validate and parse. Raises IdNumberError with a Chinese reason."""
    if not isinstance(number, str):
        raise IdNumberError("身份证号码应为字符串")
    n = number.strip().upper()
    if len(n) == 15:
        if not allow_15:
            raise IdNumberError("不接受15位旧身份证号码，请换成18位号码")
        n = convert_15_to_18(n)
    if len(n) != 18:
        raise IdNumberError(f"身份证号码应为18位，实际{len(n)}位")
    if not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        raise IdNumberError("身份证号码前17位应为数字，末位应为数字或X")
    birth = _birth(n[6:14])
    if birth.year < 1850 or (today is not None and birth > today):
        raise IdNumberError(f"出生日期{n[6:14]}不合理")
    expected = check_character(n[:17])
    if n[17] != expected:
        raise IdNumberError(f"身份证号码校验位错误（应为{expected}）")
    sex = "M" if int(n[16]) % 2 == 1 else "F"
    return IdNumber(number=n, birth_date=birth, sex=sex)


def is_valid_id_number(number: str) -> bool:
    try:
        parse_id_number(number, allow_15=False)
    except IdNumberError:
        return False
    return True


def age_on(birth: date, on: date) -> int:
    """Full years (周岁) on a date."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
