"""Template filters of the display layer (yfbz.core.display): ``{% load yfbz %}`` then
``{{ amount|money }}``, ``{{ ratio|pct }}``, ``{{ code|label:"scheme" }}``."""

from django import template

from yfbz.core import display

register = template.Library()


@register.filter
def money(value):
    return display.money(value)


@register.filter
def pct(value):
    return display.pct(value)


@register.filter
def label(value, kind=None):
    return display.label(value, kind)
