"""Money helpers (POLICY.md D7): CNY as Decimal, rounded half-up to the fen once per layer."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0.00")
FEN = Decimal("0.01")


def quantize(value: Decimal) -> Decimal:
    """Round to the fen, half-up. The one rounding helper of the engine."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def money(value: str | int | Decimal) -> Decimal:
    """Build an amount from a string/int/Decimal (never a float), with exactly two decimals."""
    if isinstance(value, float):
        raise TypeError("amounts must not be floats (POLICY.md D7)")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return quantize(d)


def fmt(value: Decimal | None) -> str | None:
    """Two-decimal string of an amount (None stays None)."""
    return None if value is None else str(quantize(value))


def percent(ratio: Decimal) -> str:
    """0.80 -> '80%', 0.725 -> '72.5%'."""
    p = (ratio * 100).normalize()
    text = format(p, "f")
    return f"{text}%"
