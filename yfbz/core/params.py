"""Query parameters read safely: a bad or implausible month, date or number is a message, never a 500.

Dates are plausible between 1900-01-01 and 2100-12-31 (issue 9: "dates checked 1900–2100").
Views call ``parse_month`` / ``parse_date`` / ``parse_int``; anything they raise is a
``BadParameter`` with a Chinese message. ``BadRequestMiddleware`` turns a ``BadParameter`` — and,
as a last safety net, a ValueError/OverflowError from reading a GET request — into a 400 page in
the site's layout naming the problem (the error is still logged for the developers).
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import InvalidOperation

from django.core.exceptions import ValidationError
from django.shortcuts import render

FIRST = date(1900, 1, 1)
LAST = date(2100, 12, 31)
log = logging.getLogger("yfbz.params")


class BadParameter(ValueError):
    """A parameter staff (or a link) gave that cannot be used; the message is for them."""


def check_range(d: date, what: str = "日期") -> date:
    if not (FIRST <= d <= LAST):
        raise BadParameter(f"{what}“{d.isoformat()}”不在合理范围内（1900年至2100年）。")
    return d


def parse_month(text: str, what: str = "月份") -> date:
    """'2025-03' (or '2025-3', '2025-03-15') → date(2025, 3, 1)."""
    try:
        parts = str(text).strip().split("-")
        d = date(int(parts[0]), int(parts[1]), 1)
    except (ValueError, IndexError, OverflowError):
        raise BadParameter(f"{what}“{text}”格式有误，应为“年-月”，如2025-03。") from None
    return check_range(d, what)


def parse_date(text: str, what: str = "日期") -> date:
    try:
        d = date.fromisoformat(str(text).strip())
    except (ValueError, OverflowError):
        raise BadParameter(f"{what}“{text}”格式有误，应为“年-月-日”，如2025-03-15。") from None
    return check_range(d, what)


def parse_int(text: str, what: str, *, low: int, high: int) -> int:
    try:
        n = int(str(text).strip())
    except (ValueError, OverflowError):
        raise BadParameter(f"{what}“{text}”应为整数。") from None
    if not (low <= n <= high):
        raise BadParameter(f"{what}“{n}”不在合理范围内（{low}至{high}）。")
    return n


class BadRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BadParameter):
            message = str(exception)
        elif request.method in ("GET", "HEAD") and isinstance(
            exception, ValueError | OverflowError | InvalidOperation | ValidationError
        ):
            # a parameter nobody checked yet: the user gets a message, the developers a log line
            log.warning("bad parameter on %s: %r", request.get_full_path(), exception, exc_info=exception)
            message = "地址中的参数有误（日期、月份、年度或编号不正确），请返回上一页重新选择。"
        else:
            return None
        return render(request, "400.html", {"message": message}, status=400)
