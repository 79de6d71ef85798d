"""Reading one cell of an uploaded table: dates, amounts, ID numbers, yes/no (docs/files.md).
Every reader uses these, so a date or an amount is read the same way in every file."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .reader import cell_text, normalise_text

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
DATE_FORMATS_ZH = "2025-03-01、2025/3/1、20250301、2025年3月1日或Excel日期"
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1E+12")  # amounts are stored with 14 digits


def parse_date(value) -> date | None:
    """A date cell, or text in one of the formats above (a time of day after it is ignored). None
    when empty; ValueError (its text: what was found) when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_date_text(cell_text(value))


@lru_cache(maxsize=65536)  # a file repeats the same few hundred dates; errors are not cached
def _parse_date_text(raw_text: str) -> date | None:
    text = normalise_text(raw_text)
    text = re.sub(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", text).replace(" ", "")
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    raise ValueError(text)


_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
)
MONTH_FORMATS_ZH = "202503、2025-03、2025/3、2025年3月或一个日期"


def parse_month(value) -> date | None:
    """A month (the platform's 清算期: 202503, 2025-03, 2025年3月, or a date of the month) as its first
    day. None when empty; ValueError (its text) when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = normalise_text(cell_text(value)).replace(" ", "")
    if not text:
        return None
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(text)
        if m:
            if 1 <= int(m.group(2)) <= 12 and 1900 <= int(m.group(1)) <= 2100:
                return date(int(m.group(1)), int(m.group(2)), 1)
            raise ValueError(text)
    try:
        d = _parse_date_text(text)
    except ValueError:
        raise ValueError(text) from None
    return d.replace(day=1) if d else None


def parse_amount(value) -> Decimal | None:
    """Yuan with at most two decimals, not negative. None when empty; ValueError with the reason
    (for staff) when it cannot be read."""
    if isinstance(value, float):
        value = repr(value)  # calamine gives numbers as floats: their shortest decimal text, never the binary value
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = normalise_text(cell_text(value)).replace(",", "").replace(" ", "").removesuffix("元")
    if not text:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"金额格式错误“{text}”") from None
    if not d.is_finite():
        raise ValueError(f"金额格式错误“{text}”")
    if d < 0:
        raise ValueError(f"金额不能为负数“{text}”")
    if d >= MAX_AMOUNT:
        raise ValueError(f"金额“{text}”超出合理范围（应小于1万亿元）")
    if d != d.quantize(CENT):
        raise ValueError(f"金额最多两位小数“{text}”")
    return d.quantize(CENT)


def id_number_text(value) -> str:
    """An ID number cell as text (full-width, spaces, lower-case x normalised). ValueError when
    Excel stored it as a number: its last digits are lost."""
    if isinstance(value, float):
        raise ValueError("身份证号被Excel存成了数字，后几位已丢失；请将该列设为文本格式后重新导出")
    return "".join(normalise_text(cell_text(value)).split()).upper()


YES = frozenset({"是", "Y", "YES", "1", "TRUE", "√", "已"})
NO = frozenset({"否", "N", "NO", "0", "FALSE", "", "×"})


def parse_yes_no(value, default: bool = False) -> bool:
    """是/否 (also Y/N, 1/0, TRUE/FALSE); ValueError for anything else."""
    if isinstance(value, bool):
        return value
    text = normalise_text(cell_text(value)).upper()
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"应填“是”或“否”，不是“{text}”")
