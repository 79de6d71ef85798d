"""Template filters of the display layer (yfbz.core.display): ``{% load yfbz %}`` then
``{{ amount|money }}``, ``{{ ratio|pct }}``, ``{{ code|label:"scheme" }}``."""

from django import template

from yfbz.core import display

register = template.Library()


@register.filter
def money(value):
    return display.money(value)


@register.filter
def amounts(text):
    """Plain amounts inside a sentence with thousands separators (display.amounts_in_text)."""
    return display.amounts_in_text(text)


@register.filter
def capitals(value):
    return display.capitals(value)


@register.filter
def pct(value):
    return display.pct(value)


@register.filter
def label(value, kind=None):
    return display.label(value, kind)


@register.filter
def audit_changes(entry):
    """An audit entry's changes as (field, before, after), in words (yfbz.core.display.audit_changes)."""
    return display.audit_changes(entry)


@register.filter
def audit_object(entry):
    """What an audit entry is about, in words (yfbz.core.display.audit_object)."""
    return display.audit_object(entry)


@register.filter
def audit_action(code):
    return display.AUDIT_ACTIONS.get(code, display.label(code))


@register.filter
def masked(value):
    """An ID or phone number masked (first 6 + last 4): yfbz.core.pii.mask."""
    from yfbz.core.pii import mask

    return mask(value)


@register.simple_tag
def pii_reasons():
    """The reasons staff choose from before full numbers are shown (yfbz.core.pii.REASONS)."""
    from yfbz.core.pii import REASONS

    return REASONS.items()


@register.inclusion_tag("includes/job_status.html", takes_context=True)
def job_status(context, obj):
    """A job row's status, its failure reason and the "重新运行" button (yfbz.core.jobs)."""
    from yfbz.core import jobs

    request = context.get("request")
    lost = jobs.lost(obj)  # queued, and its message nowhere in the broker (beat sends it again)
    can = jobs.can_rerun(obj)
    user = getattr(request, "user", None)
    if can and user is not None:  # the button only for whoever may press it (jobs.rerun's own rule)
        spec, own_rule = jobs.spec_of(type(obj)), getattr(obj, "can_rerun_by", None)
        can = not ((spec.rerun_permission and not (user.is_superuser or user.has_perm(spec.rerun_permission)))
                   or (own_rule is not None and not own_rule(user)))
    return {
        "obj": obj, "label": obj._meta.label_lower, "can_rerun": can,
        "abandoned": jobs.abandoned(obj), "lost": lost, "error": getattr(obj, jobs.spec_of(type(obj)).error_field, ""),
        "next": request.get_full_path() if request else "/", "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("includes/job_history.html")
def job_history(obj, title="状态记录"):
    """A job row's status history (yfbz.core.jobs, yfbz.core.workflow): queued by whom, each claim by a
    worker, a failure with its reason, 重新运行 by whom, done. ``obj.history`` when the view prefetched
    it (a list of files), else one query."""
    from yfbz.core import workflow

    history = getattr(obj, "history", None)
    return {"history": workflow.history_of(obj) if history is None else history, "title": title}
