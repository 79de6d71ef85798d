"""A read-only page for every member of staff: the policy in force on a date, each figure with
the document it comes from, provisional rules flagged (POLICY.md §8.1)."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from .models import RECORD_MODELS


def rows_in_force(model, on: date):
    """The latest active row per natural key effective on or before `on`."""
    latest = {}
    for row in model.objects.select_related("area").filter(effective_from__lte=on).order_by("effective_from", "pk"):
        latest[(getattr(row, "area_id", None), *(getattr(row, f) for f in model.KEY_FIELDS))] = row  # per area (docs/areas.md)
    return [r for r in latest.values() if r.active]


@login_required
def in_force(request):
    from yfbz.core.params import BadParameter, parse_date

    try:
        on = parse_date(request.GET.get("on", ""))
    except BadParameter:
        on = timezone.localdate()
    sections = []
    for model in RECORD_MODELS:
        rows = rows_in_force(model, on)
        sections.append({"title": model._meta.verbose_name, "rows": rows, "model": model._meta.model_name})
    provisional = [r for s in sections for r in s["rows"] if r.is_provisional]
    return render(request, "policy/in_force.html", {"on": on, "sections": sections, "provisional": provisional})
