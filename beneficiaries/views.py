from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from yfbz.core import hooks
from yfbz.core.paging import EstimatedPaginator
from yfbz.core.roles import Role

from . import selectors, services, towns
from .exports import people_xlsx
from .filters import PersonFilter
from .forms import PersonTownForm
from .models import Category, Identity, IdentityCorrection, Person, PersonAttribute


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
def person_list(request):
    # ordered as the (town, name) index is, not through the town join (issue 14)
    f = PersonFilter(request.GET, queryset=selectors.people_for(request.user).order_by("town_id", "name", "id"))
    page = EstimatedPaginator(f.qs, 50).get_page(request.GET.get("page"))
    return render(request, "beneficiaries/person_list.html", {"filter": f, "page": page})


def _person_filter(request):
    """The people list's rows as filtered (the export's too, in the request or in its task)."""
    return PersonFilter(request.GET, queryset=selectors.people_for(request.user).order_by("town_id", "name", "id"))


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
def person_export(request):
    from yfbz.core.exports import offload
    from yfbz.core.pii import full_numbers_requested

    full = full_numbers_requested(request, what="导出人员名单（含完整号码）", model=Person)
    if (queued := offload(request, "beneficiaries.people", full=full)) is not None:
        return queued  # over the limit: built by a task, downloaded from the job's page (issue 14)
    f = _person_filter(request)
    stamp = timezone.localdate().strftime("%Y%m%d")
    from yfbz.core.downloads import download

    return download(people_xlsx(f.qs, full=full), "救助对象人员名单", stamp, ext="xlsx", full=full)


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
def person_detail(request, pk):
    person = selectors.person_for(request.user, pk)
    # a full ID or phone number only on purpose, with a reason, recorded in the audit trail (yfbz.core.pii)
    from yfbz.core.params import BadParameter
    from yfbz.core.pii import full_numbers_requested

    try:
        show_full = full_numbers_requested(request, what=f"人员“{person.name}”的完整身份证号和电话", model=Person,
                                           obj=person)
    except BadParameter as exc:
        from django.contrib import messages

        messages.error(request, str(exc))
        show_full = False
    today = timezone.localdate()
    on, bad_date = today, None
    if text := request.GET.get("on"):
        from yfbz.core.params import BadParameter, parse_date

        try:
            on = parse_date(text)
        except BadParameter:
            bad_date = text
    identities = selectors.identities_of(person).filter(pk__in=Identity.objects.visible_to(request.user).values("pk"))
    # the best identity per benefit weighs every identity: only for users who may see all of them
    complete = identities.count() == selectors.identities_of(person).count()
    read_only = selectors.read_only_for(request.user, person)
    views = []
    if complete:
        views.append(selectors.benefits_on(person, today))
        if on != today:
            views.append(selectors.benefits_on(person, on))
    return render(
        request,
        "beneficiaries/person_detail.html",
        {
            "person": person, "identities": identities, "show_full_id": show_full,
            "benefit_views": views, "on": on, "bad_date": bad_date, "identities_complete": complete,
            "attribute_spans": PersonAttribute.objects.visible_to(request.user).filter(person=person)
            .select_related("recorded_by", "confirmed_by", "end_proposed_by"),
            "attribute_kinds": PersonAttribute.Kind.choices,
            "read_only": read_only,
            "can_record_attribute": not read_only and (request.user.is_superuser or request.user.has_role(Role.DISTRICT_CLERK)),
            "can_confirm_attribute": not read_only and (request.user.is_superuser or request.user.has_role(Role.DISTRICT_REVIEWER)),
            "retroactive": selectors.retroactive_changes_for(request.user).filter(person=person).order_by("-created_at")[:20],
            "town_history": selectors.town_history(person),
            "town_form": PersonTownForm() if can_change_town(request.user) and not read_only else None,
            "corrections": IdentityCorrection.objects.visible_to(request.user).filter(person=person)
            .select_related("category", "proposed_by", "decided_by"),
            "correction_categories": Category.objects.order_by("id"),
            # other apps' panels (monitoring: warnings, referrals, applications) through yfbz.core.hooks
            "person_panels": hooks.contributions("person_panels", request, person),
        },
    )


def can_change_town(user) -> bool:
    """A person's town outside a roster is recorded by the district's clerks (docs/areas.md)."""
    return user.is_superuser or user.has_role(Role.DISTRICT_CLERK)


def _date_field(request, name: str, *, required: bool) -> date | None:
    text = (request.POST.get(name) or "").strip()
    if not text:
        if required:
            raise ValidationError("请填写日期。")
        return None
    from yfbz.core.params import BadParameter, parse_date

    try:
        return parse_date(text)
    except BadParameter as exc:
        raise ValidationError(str(exc)) from None


@login_required
@require_POST
def person_town(request, pk):
    if not can_change_town(request.user):
        raise PermissionDenied("只有区医保经办可以登记人员迁移")
    person = selectors.person_to_change(request.user, pk)
    form = PersonTownForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(f"{form.fields[k].label}：{'、'.join(v)}" for k, v in form.errors.items()))
        return redirect("beneficiaries:person-detail", pk=person.pk)
    d = form.cleaned_data
    try:
        changed = towns.person_town_change(person, d["town"], d["on"], source_ref=d["source_ref"])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if changed:
            messages.success(request, f"已登记：{person.name}自{d['on']:%Y-%m-%d}起在{d['town']}。此前的核定、资助仍记在当时的镇街。")
        else:
            messages.info(request, f"{person.name}在{d['on']:%Y-%m-%d}已在{d['town']}，无需登记。")
    return redirect("beneficiaries:person-detail", pk=person.pk)


@login_required
@require_POST
def person_attribute_action(request, pk):
    """Record, end, confirm or send back a dated person attribute (maker–checker, services)."""
    person = selectors.person_to_change(request.user, pk)
    action = request.POST.get("action")
    try:
        if action == "propose":
            services.person_attribute_propose(
                person=person, attribute=request.POST.get("attribute", ""),
                valid_from=_date_field(request, "valid_from", required=True),
                valid_to=_date_field(request, "valid_to", required=False),
                source=request.POST.get("source", ""), user=request.user,
            )
            messages.success(request, "人员属性已登记，待审核人员复核后生效。")
        else:
            span = PersonAttribute.objects.visible_to(request.user).get(pk=request.POST.get("span"), person=person)
            if action == "end":
                services.person_attribute_propose_end(
                    span_id=span.pk, valid_to=_date_field(request, "valid_to", required=True),
                    source=request.POST.get("source", ""), user=request.user,
                )
                messages.success(request, "终止日期已登记，待审核人员复核后生效。")
            elif action in ("confirm", "reject"):
                services.person_attribute_decide(
                    span_id=span.pk, approve=action == "confirm", user=request.user, note=request.POST.get("note", "")
                )
                messages.success(request, "已复核。" if action == "confirm" else "已退回。")
            else:
                raise ValidationError("未知的操作。")
    except (PersonAttribute.DoesNotExist, ValueError):
        messages.error(request, "没有这条人员属性记录。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "无权进行该操作。")
    return redirect("beneficiaries:person-detail", pk)


@login_required
@require_POST
def person_correction(request, pk):
    """Propose, confirm or send back an identity correction outside a roster (beneficiaries.corrections)."""
    from .corrections import correction_decide, correction_propose

    person = selectors.person_to_change(request.user, pk)
    action = request.POST.get("action")
    try:
        if action in ("START", "END"):
            category = identity = None
            if action == "START":
                category = Category.objects.filter(pk=request.POST.get("category") or 0).first()
            else:
                identity = Identity.objects.visible_to(request.user).filter(
                    pk=request.POST.get("identity") or 0, person=person).first()
            c = correction_propose(
                person=person, action=action, user=request.user, category=category, identity=identity,
                valid_from=_date_field(request, "valid_from", required=False),
                valid_to=_date_field(request, "valid_to", required=False),
                reason=request.POST.get("reason", ""), document_ref=request.POST.get("document_ref", ""),
            )
            messages.success(request, f"身份更正{c.pk}号已提出，待审核人员确认后生效。")
        elif action in ("confirm", "reject"):
            c = IdentityCorrection.objects.visible_to(request.user).get(pk=request.POST.get("correction"), person=person)
            correction_decide(correction_id=c.pk, user=request.user, confirm=action == "confirm",
                              note=request.POST.get("note", ""))
            messages.success(request, f"身份更正{c.pk}号已{'确认生效' if action == 'confirm' else '退回'}。")
        else:
            raise ValidationError("未知的操作。")
    except (IdentityCorrection.DoesNotExist, ValueError):
        messages.error(request, "没有这项身份更正。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "无权进行该操作。")
    return redirect("beneficiaries:person-detail", pk)
