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


# weighted sums of each pair of digits at positions (0,1), (2,3) … (14,15): the roster import
# checks hundreds of thousands of numbers, and eight dictionary look-ups beat seventeen int() calls
_PAIRS = tuple(
    {f"{a}{b}": a * _WEIGHTS[i] + b * _WEIGHTS[i + 1] for a in range(10) for b in range(10)} for i in range(0, 16, 2)
)


def check_character_reference(first17: str) -> str:
    """The MOD 11-2 check character, computed as GB 11643-1999 states it (tests compare with it)."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def check_character(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("check_character needs 17 digits")
    p = _PAIRS
    total = (
        p[0][first17[0:2]] + p[1][first17[2:4]] + p[2][first17[4:6]] + p[3][first17[6:8]]
        + p[4][first17[8:10]] + p[5][first17[10:12]] + p[6][first17[12:14]] + p[7][first17[14:16]]
        + int(first17[16]) * _WEIGHTS[16]
    )
    return _CHECK[total % 11]


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
