"""Big exports as tasks (issue 14): an export over ``YFBZ_EXPORT_INLINE_ROWS`` rows is not built in the
request.

At a million people the people list, the bills (with their decisions), the one-stop settlement lines
and the subsidy lists are exports of hundreds of thousands of rows: built in the request they held a
gunicorn worker for tens of seconds and grew it by hundreds of MB. Each such export registers here
(in its app's ``AppConfig.ready()``; core imports no app)::

    exports.register("claims.bills", title="手工报销票据", permission="claims.view_bill",
                     rows=lambda user, params: <the scoped, filtered queryset>,
                     build=lambda user, params, full: (xlsx bytes, download name),
                     inline_rows=<measured: the rows built in ~150 ms>)

and its view, after checking the permission and asking for full numbers as before (the access entry
is written then, ``yfbz.core.pii``), calls ``offload(request, "claims.bills", full=full)``:

- up to the kind's limit (counted over ``LIMIT n + 1``, never over the whole table) it returns None and
  the view builds the file in the request as before;
- over it, an ``ExportJob`` row keeps the filters as sent and a Celery task (``core.export_run``, on
  ``yfbz.core.jobs``: one worker per row, failures in Chinese, 重新运行) builds the file, reading the
  rows again through the same scoped selector **as the user who asked** (their area, their
  permission at that moment, masked unless they asked for full numbers with a reason). The user
  is sent to the job's page and downloads the file there when it is ready; nobody else can. Downloading
  a file with full numbers is an access entry of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import QueryDict

#: what an inline build may take (ms) on the 2-core machine; each kind's ``inline_rows`` is measured against it
INLINE_MS = 150
#: a kind that registers no measured limit: built in the request up to this many rows
INLINE_ROWS = 200
#: query parameters that are not filters (the full-numbers request is recorded by the view)
NOT_FILTERS = ("full", "reason", "note", "page")


@dataclass(frozen=True)
class ExportKind:
    key: str
    title: str
    permission: str | Callable
    rows: Callable  # (user, params: QueryDict) -> the scoped, filtered queryset (counted, never listed here)
    build: Callable  # (user, params: QueryDict, full: bool) -> (bytes, download file name)
    # who may build it when it runs: a permission name, or (user) -> bool for a role-based check (the audit trail)
    inline_rows: int = INLINE_ROWS  # measured: the rows it builds within INLINE_MS (docs/scaling.md "Exports")

    def allowed(self, user) -> bool:
        return self.permission(user) if callable(self.permission) else user.has_perm(self.permission)


KINDS: dict[str, ExportKind] = {}


class Asked:
    """What an export's selector reads of a request (``user`` and ``GET``), rebuilt in the task from the
    job's row: the same view helper scopes and filters the rows in the request and in the worker."""

    def __init__(self, user, params: QueryDict):
        self.user = user
        self.GET = params


def register(key: str, *, title: str, permission: str | Callable, rows: Callable, build: Callable,
             inline_rows: int = INLINE_ROWS) -> None:
    KINDS[key] = ExportKind(key, title, permission, rows, build, inline_rows)


def inline_limit(key: str | None = None) -> int:
    """The rows a kind's file is built with in the request: ``YFBZ_EXPORT_INLINE_ROWS`` when set, else
    the kind's measured figure."""
    forced = getattr(settings, "YFBZ_EXPORT_INLINE_ROWS", None)
    if forced is not None:
        return int(forced)
    return KINDS[key].inline_rows if key in KINDS else INLINE_ROWS


def stream(qs, chunk_size: int = 2000):
    """Every row of ``qs`` for a file, a chunk at a time, planned for reading them all.

    ``.iterator()`` on PostgreSQL is a server-side cursor, which the planner optimises for its first
    ``cursor_tuple_fraction`` (0.1) of rows: for a filtered, ordered list it walks the order's index over
    the whole table and filters (one institution's month of one-stop lines: 1.7 s against 0.28 s). Inside
    a transaction (so the setting is local to it) it is set to 1: the cheapest plan for all the rows."""
    from django.db import connections

    alias = qs.db
    with transaction.atomic(using=alias):
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cur:
                cur.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield from qs.iterator(chunk_size=chunk_size)


def filters_of(query: QueryDict) -> dict[str, list[str]]:
    return {k: query.getlist(k) for k in query if k not in NOT_FILTERS}


def params_of(filters: dict[str, list[str]]) -> QueryDict:
    q = QueryDict(mutable=True)
    for k, values in filters.items():
        q.setlist(k, [str(v) for v in values])
    return q


def over_limit(qs, limit: int | None = None) -> bool:
    """Whether ``qs`` has more than ``limit`` rows, counted over ``LIMIT limit + 1`` (cheap at any size)."""
    limit = inline_limit() if limit is None else limit
    return qs.order_by()[: limit + 1].count() > limit


def offload(request, key: str, *, full: bool, title: str | None = None, extra: dict | None = None):
    """A redirect to a new export job's page when the export is over the limit, else None (build it
    in the request as before). The caller has checked the permission and the full-numbers reason.
    ``extra``: what the URL says rather than the query (e.g. the year), kept with the filters."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from . import jobs
    from .models import ExportJob

    kind = KINDS[key]
    filters = {**filters_of(request.GET), **{k: [str(v)] for k, v in (extra or {}).items()}}
    limit = inline_limit(key)
    if not over_limit(kind.rows(request.user, params_of(filters)), limit):
        return None
    with transaction.atomic():
        job = ExportJob.objects.create(kind=key, title=title or kind.title, params=filters, full=full,
                                       requested_by=request.user)
        jobs.queue(job, by=request.user, reason="超过页面导出行数，转为后台生成")
        transaction.on_commit(lambda: send(job.pk))
    messages.info(request, f"“{job.title}”超过{limit:,}行，已转为后台生成；生成后在本页下载。")
    return redirect("export-detail", job.pk)


def send(job_id: int) -> None:
    from .tasks import export_run

    export_run.delay(job_id)


def export_run(*, job_id: int) -> bool:
    """Build the job's file (yfbz.core.jobs: one worker at a time, any error fails the row in Chinese)."""
    from django.utils import timezone

    from . import jobs
    from .errors import YfbzError
    from .models import ExportJob

    def work(token: str) -> bool:
        job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
        user = job.requested_by
        kind = KINDS.get(job.kind)
        if kind is None:
            raise YfbzError(f"没有这种导出：{job.kind}")
        if not user.is_active or not kind.allowed(user):
            raise YfbzError(f"{user}已无权导出“{kind.title}”。")
        data, file_name = kind.build(user, params_of(job.params), job.full)
        with transaction.atomic():
            if not jobs.still_mine(ExportJob, job_id, token):
                return False
            jobs.done(ExportJob, job_id, token, data=bytes(data), file_name=file_name, finished_at=timezone.now())
        return True

    return bool(jobs.run(ExportJob, job_id, work))
