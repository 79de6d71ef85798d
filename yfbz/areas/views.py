"""The areas page: the tree on a date (every district with its towns and their dates, the sets of
towns policy applies to, the bureau's dated rows), and for the system administrator the three
changes a border change needs: moving towns, adding an arriving town, importing a file of towns."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from beneficiaries.models import Town
from yfbz.core.roles import Role

from . import services
from .forms import AddTownForm, ImportTownsForm, MoveTownsForm
from .models import DATE_MIN, Area, Bureau, GroupTown, TownDistrict

MAX_FILE = 5 * 1024 * 1024


def may_edit(user) -> bool:
    return user.is_superuser or user.has_role(Role.SYSADMIN)


@login_required
def tree(request):
    if not request.user.has_perm("areas.view_area"):
        raise PermissionDenied
    try:
        on = date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        on = timezone.localdate()
    spans = list(TownDistrict.objects.select_related("town", "district").order_by("district__code", "town__code", "valid_from"))
    districts = []
    for d in Area.objects.filter(kind=Area.Kind.DISTRICT).select_related("parent").order_by("code"):
        mine = [s for s in spans if s.district_id == d.pk]
        districts.append({
            "area": d,
            "now": [s for s in mine if s.covers(on)],
            "left": [s for s in mine if s.valid_to is not None and s.valid_to < on],
            "coming": [s for s in mine if s.valid_from > on],
        })
    bureau = Bureau.objects.filter(valid_from__lte=on).select_related("district", "default_policy_area").first()
    context = {
        "on": on,
        "districts": districts,
        "city": Area.objects.filter(kind=Area.Kind.CITY).first(),
        "groups": Area.objects.filter(kind=Area.Kind.GROUP).prefetch_related(
            Prefetch("grouptown_set", queryset=GroupTown.objects.select_related("town").order_by("town__code"))).order_by("code"),
        "always": DATE_MIN,
        "bureaus": Bureau.objects.select_related("district", "default_policy_area").order_by("valid_from"),
        "bureau": bureau,
        "unplaced": Town.objects.exclude(pk__in=[s.town_id for s in spans if s.covers(on)]).order_by("code"),
        "may_edit": may_edit(request.user),
    }
    if context["may_edit"]:
        context.update(move_form=MoveTownsForm(), add_form=AddTownForm(), import_form=ImportTownsForm())
    return render(request, "areas/tree.html", context)


def _errors(form) -> str:
    return "；".join(f"{form.fields[k].label if k in form.fields else ''}：{'、'.join(v)}" for k, v in form.errors.items())


@login_required
@require_POST
def change(request, action: str):
    if not may_edit(request.user):
        raise PermissionDenied("只有系统管理员可以调整区划")
    form_class = {"move": MoveTownsForm, "add": AddTownForm, "import": ImportTownsForm}[action]
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("areas:tree")
    d = form.cleaned_data
    try:
        if action == "move":
            services.move_towns(d["towns"], d["district"], d["on"], source=d["source"])
            names = "、".join(t.name for t in d["towns"])
            messages.success(request, f"已登记：{names}自{d['on']:%Y-%m-%d}起隶属{d['district']}。此前的记录仍属原区。")
        elif action == "add":
            town = services.add_town(
                d["code"].strip(), d["name"].strip(), d["kind"], d["district"], d["on"],
                previous_district=d["previous_district"], groups=[d["group"]] if d["group"] else (), source=d["source"],
            )
            messages.success(request, f"已登记：{town.name}自{d['on']:%Y-%m-%d}起隶属{d['district']}。")
        else:
            f = d["file"]
            if f.size > MAX_FILE:
                raise ValidationError("文件超过5MB。")
            result = services.import_towns(f.read(), f.name, source=d["source"])
            from yfbz.files.reader import describe

            messages.success(request, f"已导入{result.rows}行：{'、'.join(t.name for t in result.towns)}"
                                      f"（{describe(result.reading)}）。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("areas:tree")
