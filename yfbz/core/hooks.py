"""Named hooks: how a lower app asks a higher one for something without importing it.

The app that provides the answer registers it in its ``AppConfig.ready()``; the caller asks by name.
An unregistered hook is an error (``HookMissing``), never silently nothing: the apps that must be
installed together are listed in settings.INSTALLED_APPS.

    # yfbz/areas/apps.py                         # beneficiaries/selectors.py
    register("area_tree", area_tree)             tree = hooks.call("area_tree")

Which app may import which: docs/architecture.md (tests/core/test_app_imports.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable

_HOOKS: dict[str, Callable] = {}


class HookMissing(LookupError):
    pass


def register(name: str, fn: Callable) -> None:
    _HOOKS[name] = fn


def get(name: str) -> Callable:
    try:
        return _HOOKS[name]
    except KeyError:
        raise HookMissing(f"hook {name!r} is not registered (its app's AppConfig.ready() did not run)") from None


def call(name: str, *args, **kwargs):
    return get(name)(*args, **kwargs)


# --- contributions: several apps add to one place (e.g. the person page's panels) ------------------
#
#     # monitoring/apps.py                                   # beneficiaries/views.py
#     contribute("person_panels", monitoring_panel)          panels = hooks.contributions("person_panels", request, person)
#
# Unlike a hook, a place nobody contributes to is simply empty: the panels are optional.
_CONTRIBUTIONS: dict[str, list[Callable]] = {}


def contribute(name: str, fn: Callable) -> None:
    fns = _CONTRIBUTIONS.setdefault(name, [])
    if fn not in fns:
        fns.append(fn)


def contributions(name: str, *args, **kwargs) -> list:
    """Each contributor's answer, in the order they registered (None answers left out)."""
    out = [fn(*args, **kwargs) for fn in _CONTRIBUTIONS.get(name, [])]
    return [x for x in out if x is not None]
