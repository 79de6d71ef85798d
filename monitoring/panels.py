"""The person page's monitoring panel (contributed through yfbz.core.hooks: beneficiaries imports no
monitoring): the person's warnings, referrals and applications that the user may see (each through
``visible_to``)."""

from __future__ import annotations

from django.db.models import Q
from django.template.loader import render_to_string

from .models import Alert, Application, Referral


def person_panel(request, person):
    user = request.user
    theirs = Q(person=person) | Q(id_number=person.id_number)  # an alert raised before the person was on a roster
    ctx = {
        "person": person,
        "alerts": list(Alert.objects.visible_to(user).filter(theirs).select_related("town").order_by("-year", "-id")[:50])
        if user.has_perm("monitoring.view_alert") else None,
        "referrals": list(Referral.objects.visible_to(user).filter(theirs).select_related("department")
                          .order_by("-referred_on", "-id")[:50]) if user.has_perm("monitoring.view_referral") else None,
        "applications": list(Application.objects.visible_to(user).filter(person=person).select_related("bill")
                             .order_by("-registered_on", "-id")[:50]) if user.has_perm("monitoring.view_application") else None,
    }
    if ctx["alerts"] is None and ctx["referrals"] is None and ctx["applications"] is None:
        return None
    ctx["can_apply"] = user.is_superuser or (user.has_perm("monitoring.add_application") and user.town_id == person.town_id)
    return render_to_string("monitoring/_person_panel.html", ctx, request=request)
