"""The display layer: what a clerk reads for an amount, a ratio and a code."""

from decimal import Decimal

from django.template import Context, Template

from yfbz.core import display


def test_amounts_have_two_decimals_and_thousands_separators():
    assert display.money(Decimal("41209.2800000000")) == "41,209.28"
    assert display.money("7785") == "7,785.00"
    assert display.money(0.1 + 0.2) == "0.30"
    assert display.money(Decimal("-40717.165")) == "-40,717.17"
    assert display.money(None) == "—"
    assert display.money_plain(Decimal("1234.5")) == "1234.50"


def test_ratios_are_percentages():
    assert display.pct(Decimal("0.7500")) == "75%"
    assert display.pct(Decimal("0.725")) == "72.5%"
    assert display.pct("1") == "100%"
    assert display.pct(None) == "—"


def test_codes_reach_pages_as_chinese_labels():
    out = Template('{% load yfbz %}{{ a|money }} {{ r|pct }} {{ s|label:"scheme" }} {{ f|label:"fund" }} {{ y|label }}').render(
        Context({"a": Decimal("6400"), "r": Decimal("0.8000"), "s": "MAJOR_DISEASE", "f": "YOUFU", "y": "ONE_STOP"})
    )
    assert out == "6,400.00 80% 重特大疾病医疗救助 优抚对象医疗补助资金 一站式结算"
