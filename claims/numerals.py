"""Amounts in Chinese capital numerals: moved to the one display layer (yfbz.core.numerals, used through
yfbz.core.display.capitals and the ``capitals`` template filter); kept here for the notices' imports."""

from yfbz.core.numerals import amount_in_capitals

__all__ = ["amount_in_capitals"]
