"""A web process warm before its first request (issue 14; docs/deployment.md, "Web processes").

Each gunicorn worker used to pay for its own first visit to every kind of page: the page's templates
compiled, the view's modules imported, the URL patterns compiled, the translations read, the Celery app
set up at the first job sent. Measured on the million-people build: an admin list's first fetch in a
worker 190 ms where the next took 57 ms, the person page 106 ms against 50 ms. Under load those first
fetches were the slowest requests of their kind (``bench/pages.py``: an admin list asked 9 times in
2 minutes has its one cold fetch as its p95), and a worker replaced by ``--max-requests`` starts cold
again.

``yfbz/webserver.py`` (the gunicorn configuration) loads the application in the master process
(``preload_app``) and calls ``warm()`` there once, before any worker is forked: every worker, including
each replacement, starts with the work below done, in memory shared with the master.

``warm()`` reads from the database only what the apps contribute (``hooks.contribute("warm_up", …)``: the
policy app's book, kept per process and read again when the policy changes) and never opens the broker; the
gunicorn hook then closes the database connection (one opened before a fork would be shared by every worker)
and freezes the collector.
"""

from __future__ import annotations

import importlib
from pathlib import Path

TEMPLATE_SUFFIXES = (".html", ".txt", ".xml")


def _views_imported() -> int:
    """Resolve the URL configuration fully: every view's module imported, every pattern compiled."""
    from django.urls import URLPattern, URLResolver, get_resolver

    n = 0

    def walk(patterns):
        nonlocal n
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                p.pattern.regex  # noqa: B018 - compiled once, kept on the pattern
                n += 1

    resolver = get_resolver()
    walk(resolver.url_patterns)
    resolver.reverse_dict  # noqa: B018 - the reverse lookup tables, filled once per process
    return n


def _template_names(backend) -> list[str]:
    """Every template file each directory offers, by the name a view asks for (the first directory wins)."""
    names: dict[str, None] = {}
    for directory in backend.template_dirs:
        root = Path(directory)
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix in TEMPLATE_SUFFIXES and path.is_file():
                names.setdefault(path.relative_to(root).as_posix(), None)
    return list(names)


def _templates_compiled() -> tuple[int, int]:
    """Compile every template through the engine's cached loader (production's loader): the compiled
    templates stay in the loader's cache, which the forked workers inherit. Returns (compiled, skipped):
    a third-party template that needs a library this project does not install is skipped."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines

    compiled = skipped = 0
    for backend in engines.all():
        engine = getattr(backend, "engine", None)
        if engine is None:
            continue
        for name in _template_names(backend):
            try:
                engine.get_template(name)
                compiled += 1
            except (TemplateSyntaxError, TemplateDoesNotExist, UnicodeDecodeError, ImportError):
                skipped += 1
    return compiled, skipped


def _celery_ready() -> int:
    """The Celery app's task modules imported, its tasks registered, the broker's and result store's client
    libraries imported (the first job a worker sends did all this); nothing is connected or created here."""
    from celery.app.backends import by_url
    from kombu import Connection
    from kombu.transport import get_transport_cls

    app = importlib.import_module("yfbz.celery").app
    app.loader.import_default_modules()
    app.finalize(auto=True)
    # the broker's and the result store's client modules (redis-py: ~80 ms of imports at a worker's first job)
    get_transport_cls(Connection(app.conf.broker_url).transport_cls)
    if app.conf.result_backend:
        by_url(app.conf.result_backend, app.loader)
    return len(app.tasks)


def _apps_warmed() -> list[str]:
    """What the apps contribute to the warm-up (``hooks.contribute("warm_up", fn)``; the policy app: its book and
    today's policy, ~80 ms of a worker's first person page). A database not reachable yet leaves it to the first
    request."""
    from django.db import DatabaseError

    from .hooks import contributions

    try:
        return contributions("warm_up")
    except DatabaseError:
        return []


def warm() -> dict[str, int]:
    """Do once, in the process about to fork the web workers, what each worker would do at its first requests."""
    from django.conf import settings
    from django.utils import translation

    views = _views_imported()
    translation.activate(settings.LANGUAGE_CODE)  # the catalogues read
    translation.gettext("Log in")
    translation.deactivate()
    compiled, skipped = _templates_compiled()
    tasks = _celery_ready()
    apps = _apps_warmed()
    return {"views": views, "templates": compiled, "templates_skipped": skipped, "tasks": tasks, "apps": len(apps)}
