"""The cuts and periods of the statistics, as data (docs/statistics.md).

A *dimension* is a column of ``Fact``; a *grouping* is the tuple of dimensions one set of
``Aggregate`` rows is cut by. A new cut (say scheme within category for a return) is one more
entry in ``GROUPINGS`` and a rebuild: no page or command changes.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the ``--by`` keys of the statistics command and the pages -> the Fact column
DIMENSIONS: dict[str, str] = {
    "scheme": "scheme",
    "category": "category",
    "town": "town_id",
    "district": "district_id",
    "level": "level",
    "kind": "kind",
    "route": "route",
}

#: every cut the aggregates hold: one dimension, a dimension within a town, and the cross-cuts the
#: statutory returns print (category x scheme; kind, route and level x scheme)
GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    *((d,) for d in DIMENSIONS),
    *(("town", d) for d in DIMENSIONS if d not in ("town", "district")),
    ("district", "scheme"),
    ("category", "scheme"),
    ("kind", "scheme"),
    ("route", "scheme"),
    ("level", "scheme"),
)


def grouping_name(dims: tuple[str, ...]) -> str:
    return "+".join(dims)


def grouping_for(by: str | None, town: bool = False) -> tuple[str, ...]:
    """The grouping that answers "by ``by``" (None: the total), within one town when ``town``."""
    dims: tuple[str, ...] = () if by is None else (by,)
    if town and by != "town":
        dims = ("town", *dims)
    elif town:
        dims = ("town",)
    if dims not in GROUPINGS:
        raise ValueError(f"no aggregate for {dims}")
    return dims


# --- periods -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A month, a quarter or a whole year of settlement dates (D1)."""

    year: int
    month: int | None = None
    quarter: int | None = None

    def __post_init__(self):
        if self.month is not None and self.quarter is not None:
            raise ValueError("a period is a month or a quarter, not both")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month}")
        if self.quarter is not None and not 1 <= self.quarter <= 4:
            raise ValueError(f"quarter {self.quarter}")

    @property
    def code(self) -> str:
        """How the Aggregate table names it: M01…M12, Q1…Q4, Y."""
        if self.month is not None:
            return f"M{self.month:02d}"
        if self.quarter is not None:
            return f"Q{self.quarter}"
        return "Y"

    @property
    def name(self) -> str:
        """As the command prints it: 2025, 2025-Q2, 2025-06."""
        if self.month is not None:
            return f"{self.year}-{self.month:02d}"
        if self.quarter is not None:
            return f"{self.year}-Q{self.quarter}"
        return str(self.year)

    @property
    def zh(self) -> str:
        if self.month is not None:
            return f"{self.year}年{self.month}月"
        if self.quarter is not None:
            return f"{self.year}年第{'一二三四'[self.quarter - 1]}季度"
        return f"{self.year}年"

    @property
    def months(self) -> tuple[int, ...]:
        if self.month is not None:
            return (self.month,)
        if self.quarter is not None:
            return tuple(range(3 * self.quarter - 2, 3 * self.quarter + 1))
        return tuple(range(1, 13))

    @classmethod
    def from_code(cls, year: int, code: str) -> Period:
        if code == "Y":
            return cls(year)
        if code.startswith("Q"):
            return cls(year, quarter=int(code[1:]))
        if code.startswith("M"):
            return cls(year, month=int(code[1:]))
        raise ValueError(code)


def periods_touching(year: int, months: set[int]) -> list[Period]:
    """Every materialised period of ``year`` holding one of ``months``: the months, their quarters, the year."""
    out = [Period(year, month=m) for m in sorted(months)]
    out += [Period(year, quarter=q) for q in sorted({(m - 1) // 3 + 1 for m in months})]
    out.append(Period(year))
    return out
