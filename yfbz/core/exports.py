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

**One document** (a PDF laid out by WeasyPrint: a statistical return, a fund request form, the month's
funding report) is a kind with no rows and no inline limit — always a job, so the web process never
imports WeasyPrint (a worker's first PDF cost it ~70 MiB, and each render held it for a second or more)::

    exports.register_document("funding.request_pdf", title="资金申请表", permission="funding.view_fundrequest",
                              build=lambda user, params, full: (pdf bytes, download name),
                              back=lambda params: (url of the document's page, what it is))

Its page's button is a POST (CSRF) to a view that reads the document through the scoped selector (404
otherwise) and calls ``document_job(user=…, key=…, params={"pk": …}, title=…)``, then sends the user to
the job's page (正在生成… → 下载 PDF). A second press by the same user while the job waits or runs
(within ``DOUBLE_CLICK_SECONDS``) is that job; a GET of the button's address creates nothing. The task
builds the document through the same scoped selector **as the user who asked**; a document no longer
in their reach fails the job with ``errors.EXPORT_OUT_OF_REACH``.
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
    document: bool = False  # one document (a PDF): always a job, asked for by a POST (``document_job``)
    back: Callable | None = None  # (params: QueryDict) -> (url, label): the document's own page, for the job page

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


def register_document(key: str, *, title: str, permission: str | Callable, build: Callable,
                      back: Callable | None = None) -> None:
    """One document built by a task, never in the request (inline limit 0: no rows to count)."""
    KINDS[key] = ExportKind(key, title, permission, rows=None, build=build, inline_rows=0, document=True, back=back)


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


#: a second press of a document's button this soon, while its job still waits or runs, is the same job
DOUBLE_CLICK_SECONDS = 60
#: pg_advisory_xact_lock(DOCUMENT_LOCK, user id): one user's presses are looked at one at a time
DOCUMENT_LOCK = 0x6A6F6273


def document_job(*, user, key: str, params: dict, title: str):
    """The job that builds one document (a kind of ``register_document``) for ``user``: a new
    ``ExportJob`` queued for ``core.export_run`` after commit, or — a double click, or two tabs — the
    job of the same document this user asked for less than ``DOUBLE_CLICK_SECONDS`` ago that still
    waits or runs (not one whose worker died). The caller has read the document through the scoped
    selector and checked the permission; the task does both again when it runs."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from . import jobs
    from .models import ExportJob

    if not KINDS[key].document:
        raise ValueError(f"{key} is not a document")
    filters = {k: [str(params[k])] for k in sorted(params)}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # two presses at once (two gunicorn workers) would each find no job and make one: the second
            # waits here until the first has committed its job, then finds it
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DOCUMENT_LOCK, user.pk])
        pending = (ExportJob.objects.filter(kind=key, params=filters, requested_by=user,
                                            status__in=ExportJob.JOB.pending,
                                            requested_at__gte=timezone.now() - timedelta(seconds=DOUBLE_CLICK_SECONDS))
                   .order_by("-pk").first())
        if pending is not None and not jobs.abandoned(pending):
            return pending
        job = ExportJob.objects.create(kind=key, title=title, params=filters, requested_by=user)
        jobs.queue(job, by=user, reason="生成文件")
        transaction.on_commit(lambda: send(job.pk))
    return job


def send(job_id: int) -> None:
    from .tasks import export_run

    export_run.delay(job_id)


def export_run(*, job_id: int) -> bool:
    """Build the job's file (yfbz.core.jobs: one worker at a time, any error fails the row in Chinese)."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from django.utils import timezone

    from . import jobs
    from .errors import EXPORT_OUT_OF_REACH, YfbzError
    from .models import ExportJob

    def work(token: str) -> bool:
        job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
        user = job.requested_by
        kind = KINDS.get(job.kind)
        if kind is None:
            raise YfbzError(f"没有这种导出：{job.kind}")
        if not user.is_active or not kind.allowed(user):
            raise YfbzError(f"{user}已无权导出“{kind.title}”。")
        try:
            data, file_name = kind.build(user, params_of(job.params), job.full)
        except (Http404, PermissionDenied) as exc:  # the scoped selector, as the user: no longer theirs to read
            raise YfbzError(EXPORT_OUT_OF_REACH, title=job.title, user=user) from exc
        with transaction.atomic():
            if not jobs.still_mine(ExportJob, job_id, token):
                return False
            jobs.done(ExportJob, job_id, token, data=bytes(data), file_name=file_name, finished_at=timezone.now())
        return True

    return bool(jobs.run(ExportJob, job_id, work))
