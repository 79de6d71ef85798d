from importlib import import_module

from django.conf import settings
from django.urls import NoReverseMatch, reverse

# Each app may add menu entries with a module `<app>/nav.py` holding
# ITEMS = [("名称", "url-name", "app_label.perm_codename" or a test ``f(user) -> bool`` or None), ...]
NAV_APPS = ("beneficiaries", "claims", "funding", "yfbz.policy", "yfbz.areas", "reporting", "monitoring")


def _nav_modules():
    for app in NAV_APPS:
        try:
            yield import_module(f"{app}.nav")
        except ModuleNotFoundError:
            continue


def _nav_items(user):
    items = []
    for module in _nav_modules():
        for label, url_name, perm in getattr(module, "ITEMS", []):
            # a permission, or a test of the user for a page that asks more than one (no link to a 403)
            if perm and not (perm(user) if callable(perm) else user.has_perm(perm)):
                continue
            try:
                items.append({"label": label, "url": reverse(url_name)})
            except NoReverseMatch:
                continue
    return items


def todo_items(user):
    """What waits for this user: each app's nav module may define todo(user) returning
    [("待办事项", count, url), ...]; items with a count of 0 are left out."""
    items = []
    for module in _nav_modules():
        todo = getattr(module, "todo", None)
        if todo is None:
            continue
        for label, count, url in todo(user):
            if count:
                items.append({"label": label, "count": count, "url": url})
    return items


def home_panels(user):
    """Blocks an app adds to a role's home page: each nav module may define panels(user) returning
    [{"template": "app/_panel.html", **context}, ...] (e.g. the fund risk warning for finance)."""
    out = []
    for module in _nav_modules():
        fn = getattr(module, "panels", None)
        if fn is not None:
            out.extend(fn(user))
    return out


def site(request):
    user = getattr(request, "user", None)
    extra = _nav_items(user) if user is not None and user.is_authenticated else []
    return {"SITE_TITLE": settings.YFBZ_SITE_TITLE, "BUREAU_NAME": settings.YFBZ_BUREAU_NAME, "EXTRA_NAV": extra}
