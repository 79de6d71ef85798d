"""Amounts in Chinese capital numerals (大写金额) as written on financial documents:
1230.50 → 壹仟贰佰叁拾元伍角整, 1005.07 → 壹仟零伍元零柒分, 0 → 零元整.

Conventions (《会计基础工作规范》第五十二条): one 零 for any run of zeros inside the number; 整 after
元 or 角 when there are no 分; 拾 always with its digit (壹拾); below one yuan no 元 is written.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿")
LIMIT = Decimal("1000000000000")  # 10^12: up to 9999亿, far above any assistance payment


def _group(g: int) -> str:
    """0 < g < 10000 without leading 零."""
    out = []
    zero = False
    started = False
    for pos in (3, 2, 1, 0):
        d = g // 10**pos % 10
        if d == 0:
            zero = zero or started
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + UNITS[pos])
        started = True
    return "".join(out)


def _integer(n: int) -> str:
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    text = ""
    need_zero = False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            need_zero = need_zero or bool(text)
            continue
        if text and (need_zero or g < 1000):
            text += "零"
        text += _group(g) + GROUPS[i]
        need_zero = False
    return text


def amount_in_capitals(amount: Decimal) -> str:
    """The amount (Decimal, rounded half-up to the fen) in capital numerals. Negative amounts are refused."""
    if not isinstance(amount, Decimal):
        raise TypeError("amount_in_capitals takes a Decimal")
    q = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if q < 0:
        raise ValueError("负数金额不能写成大写")
    if q >= LIMIT:
        raise ValueError("金额过大")
    fen_total = int(q * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if fen_total == 0:
        return "零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if jiao:
        text += DIGITS[jiao] + "角"
    if fen:
        if not jiao and yuan:
            text += "零"
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return text
