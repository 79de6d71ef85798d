"""Background jobs never stuck (issue 10, finding 5): one helper for every job row.

A job row (a settlement file to import, a subsidy run, a notice batch …) declares ``JOB = JobSpec(…)``
and has the fields ``job_token`` and ``job_tries``. Its task calls::

    jobs.run(SettlementFile, pk, work)         # work(token) does the job and marks it done itself

which

1. takes a PostgreSQL *session* advisory lock on the row (``pg_try_advisory_lock``): only one worker
   works on a row; the lock lives exactly as long as that worker's database connection, so a worker
   killed with SIGKILL releases it at once and the row is seen as abandoned (``alive()`` is False);
2. claims the row in a short committed transaction — status → running, a fresh token, one more try.
   A row tried ``MAX_TRIES`` times already (a poison message that kills its worker, redelivered by the
   broker) is marked failed instead of being tried again;
3. runs ``work(token)``: the job writes its results in its own transaction(s) and marks the row done in
   the last of them (the work and its "done" commit together, or neither does);
4. on *any* error marks the row failed with the reason in Chinese (``reason()``: a number too large, a
   NUL byte, a conflict, a deadlock, or the service's own ``YfbzError``) and raises ``JobError`` with it.

Every change of a job row's status is a move of the workflow (``yfbz.core.workflow``): the model declares
``MOVES = JOB.moves()`` and has a ``StatusHistory`` of its own, so the claim, the failure (its reason),
the work's "done" (``done()``, in the work's last transaction) and "重新运行" (who pressed it) each leave
one append-only history row in the same transaction as the status. ``queue()`` writes the first row
when the job is created. The parts of a job spread over workers have no status and no history.

A job spread over workers goes from step to step (the coordinator under ``run``, its parts and its last
step under ``helping``); each step of a claim is a ``JobStep`` row, begun under the lock and ended before
it is let go. Between two steps nobody holds the lock, yet the job is alive: every step has ended and the
next is on its way (``HANDOVER_SECONDS``, or its message taken by a worker, ``token_taken``). A step begun
and never ended with nobody holding the lock is a worker killed mid-step.

A row left running by a dead worker, or failed, is offered "重新运行" (``rerun()``; the shared view
``core:job-rerun`` and ``templates/includes/job_status.html``): it goes back to queued with its tries
reset and the task is sent again. A subsidy run resumes after its last committed batch.

Without PostgreSQL (``./dev serve`` on SQLite) tasks run inline in the request: there is no lock and
``alive()`` is always False.
"""

from __future__ import annotations

import decimal
import threading
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F

from . import errors, workflow
from .errors import JobError, YfbzError

#: a row claimed this many times without finishing is failed, not tried again (poison messages)
MAX_TRIES = 3


@dataclass(frozen=True)
class JobSpec:
    """The statuses of a job row and how to send its task again."""

    label: str  # what the job is, in Chinese: "一站式结算文件导入"
    task: str  # the Celery task's dotted path ("claims.tasks.settlement_import"), sent the row's primary key
    queued: str
    running: str
    done: str
    failed: str
    error_field: str = "error"
    rerun_permission: str = ""  # a Django permission (app_label.codename) needed to rerun
    extra_moves: tuple[tuple[str, str], ...] = ()  # moves of this job's own (a platform file split again: done → queued)

    @property
    def pending(self) -> tuple[str, str]:
        return (self.queued, self.running)

    def moves(self) -> dict[str, set[str]]:
        """The job row's allowed moves (its ``MOVES``, yfbz.core.workflow): created queued; claimed
        (queued → running, or running → running when a killed worker's message is delivered again);
        failed from queued or running (too many tries, an error); done only from running; 重新运行 of a
        failed, abandoned or lost job back to queued (running → queued also when a settlement file waits
        for another of its institution)."""
        q, r, d, f = self.queued, self.running, self.done, self.failed
        moves = {workflow.NEW: {q}, q: {q, r, f}, r: {r, d, f, q}, f: {q}, d: set()}
        for frm, to in self.extra_moves:
            moves[frm].add(to)
        return moves


def spec_of(model) -> JobSpec:
    return model.JOB


REGISTRY: dict[str, type[models.Model]] = {}


def register(model):
    """Class decorator: a job row reachable by the shared rerun view (``core:job-rerun``)."""
    REGISTRY[model._meta.label_lower] = model
    return model


# --- the lock: whoever holds it is alive ---------------------------------------------------------
def _key(model, pk: int) -> tuple[int, int]:
    return zlib.crc32(model._meta.label_lower.encode()) & 0x7FFFFFFF, int(pk)


def _pg() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def _held(model, pk: int):
    if not _pg():
        yield True
        return
    k1, k2 = _key(model, pk)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [k1, k2])
        got = cur.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", [k1, k2])


@contextmanager
def helping(model, pk: int, token: str):
    """A worker working on a part of the job (a chunk of a run spread over workers) holds the job's lock
    *shared* while it works: the job is ``alive()`` as long as one part is being worked, a second
    coordinator cannot claim it (``run`` takes the lock exclusively), and a killed part worker releases
    its share at once. A session that holds the lock exclusively (the coordinator running the parts
    inline) may take the share too. The part is one step of the claim ``token`` (``_step``)."""
    if not _pg():
        yield
        return
    k1, k2 = _key(model, pk)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock_shared(%s, %s)", [k1, k2])
    try:
        with _step(model, pk, token):
            yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock_shared(%s, %s)", [k1, k2])


# --- the steps: between two of them nobody holds the lock -----------------------------------------
#: A job spread over workers goes from step to step (the coordinator, each part, the last step): a step
#: lets go of the job's lock before the next one takes it (its message just taken by a worker, or the
#: chord's last step not yet sent by the part that finished last). For that moment nobody holds the
#: lock and the queue may hold nothing of the job; the job is still alive if every step of its claim has
#: ended (none was killed) and the last one ended less than this long ago (a hand-over takes
#: milliseconds; a job left this long after its last step, with nothing queued, lost its next step).
HANDOVER_SECONDS = 30

_open_steps = threading.local()


def _step_id() -> str:
    """The Celery task's id (a message delivered again after its worker died is the same step, so the
    step it left open is closed by the new delivery), else a fresh one."""
    from celery import current_task

    task_id = getattr(getattr(current_task, "request", None), "id", None) if current_task else None
    return str(task_id) if task_id else uuid.uuid4().hex


@contextmanager
def _step(model, pk: int, token: str):
    """Record a step of the claim ``token`` while this worker holds the job's lock: started after the
    lock is taken, ended before it is let go (so a step without an end and without a lock holder is a
    killed worker). A step inside another step of the same job in this thread (the parts run inline by
    the coordinator) is part of it and records nothing."""
    held = getattr(_open_steps, "jobs", None)
    if held is None:
        held = _open_steps.jobs = set()
    key = (model._meta.label_lower, int(pk))
    if not _pg() or not token or key in held:
        yield
        return
    step = _step_id()
    with connection.cursor() as cur:
        cur.execute(
            f'INSERT INTO "{_STEPS}" (job, job_pk, token, step, started_at, ended_at) '
            "VALUES (%s, %s, %s, %s, clock_timestamp(), NULL) "
            "ON CONFLICT (token, step) DO UPDATE SET started_at = clock_timestamp(), ended_at = NULL",
            [key[0], key[1], token, step],
        )
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)
        with connection.cursor() as cur:
            cur.execute(f'UPDATE "{_STEPS}" SET ended_at = clock_timestamp() WHERE token = %s AND step = %s',
                        [token, step])


_STEPS = "core_jobstep"


def _forget_steps(model, pk: int) -> None:
    """The job's step rows (of every claim): removed by a new claim, "done" and a failure."""
    if _pg():
        with connection.cursor() as cur:
            cur.execute(f'DELETE FROM "{_STEPS}" WHERE job = %s AND job_pk = %s', [model._meta.label_lower, int(pk)])


def _steps(token: str) -> tuple:
    """The claim's steps as (open, count, last start, last end, whether the last end is recent)."""
    with connection.cursor() as cur:
        cur.execute(
            f'SELECT count(*) FILTER (WHERE ended_at IS NULL), count(*), max(started_at), max(ended_at), '
            "coalesce(max(ended_at) > clock_timestamp() - make_interval(secs => %s), false) "
            f'FROM "{_STEPS}" WHERE token = %s',
            [HANDOVER_SECONDS, token],
        )
        return tuple(cur.fetchone())


def still_mine_shared(model, pk: int, token: str) -> bool:
    """``still_mine`` for the parts of a job worked at the same time by several workers: the row is
    locked FOR KEY SHARE, so the parts' transactions do not wait for each other, while a new claim
    (``_claim`` locks the row FOR UPDATE) waits for the parts' transactions in flight to commit; after
    it, the old token no longer holds."""
    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f'SELECT status, job_token FROM "{table}" WHERE id = %s{" FOR KEY SHARE" if _pg() else ""}', [pk])
        row = cur.fetchone()
    return row is not None and row[1] == token and row[0] == spec_of(model).running


def alive(obj) -> bool:
    """Whether a worker is working on ``obj`` now (holds its lock, exclusively as the coordinator or
    shared as one of its parts; a killed worker holds nothing), work of the current claim still
    waits in the broker's queue (``waiting``): a part queued behind others is not abandoned, or the job
    is between two of its steps (``between_steps``)."""
    if not _pg():
        return False
    running = getattr(obj, "status", None) == spec_of(type(obj)).running
    token = getattr(obj, "job_token", "") if running else ""
    # the steps read before and after the lock and the queue: a step that ended (its lock let go) or began
    # between the reads changes them — somebody is at work; unchanged, they say whether a step was killed
    before = _steps(token) if token else None
    if _locked(obj) or waiting(obj):
        return True
    if not token:
        return False
    after = _steps(token)
    return after[:4] != before[:4] or _between_steps(after, token)


def _locked(obj) -> bool:
    k1, k2 = _key(type(obj), obj.pk)
    with connection.cursor() as cur:
        cur.execute(
            # advisory locks are cluster-wide: another database's job with the same model and id is not this one
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s "
            "AND objsubid = 2 AND granted AND pid <> pg_backend_pid() "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            [k1, k2],
        )
        return cur.fetchone()[0]


def _between_steps(steps: tuple, token: str) -> bool:
    """Every step of the claim has ended (no worker was killed mid-step) and the next one is on its way:
    the last step ended a moment ago (``HANDOVER_SECONDS``), or a message of the claim has been taken
    from the queue by a worker that has not begun it yet (``token_taken``)."""
    open_steps, count, _started, _ended, recent = steps
    if open_steps or not count:  # a step killed, or no step ever began (the coordinator killed after its claim)
        return False
    return bool(recent) or token_taken(token)


def waiting(obj) -> bool:
    """Whether a task message of the row's current claim (its parts and their last step carry the
    claim's token) waits in the broker's queue, not yet taken by a worker. A message a killed worker
    had taken is not in the queue (it is redelivered only after the broker's visibility timeout, and
    then finds its claim gone): the row is offered "重新运行" at once."""
    token = getattr(obj, "job_token", "")
    if not token or getattr(obj, "status", None) != spec_of(type(obj)).running:
        return False
    return token_queued(token)


#: kombu's Redis transport keeps a queue's messages of priority p > 0 under "<queue>\x06\x16<p>"
_PRIORITY_KEYS = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def token_queued(token: str) -> bool:
    """Whether a message in the Celery broker's queues (Redis) carries ``token`` in its arguments
    (Celery's ``argsrepr`` header is plain text in the stored message). False without a broker (tasks
    inline) or when the broker cannot be read."""
    return _in_broker(token, queued=True)


def token_taken(token: str) -> bool:
    """Whether a worker has taken a message carrying ``token`` from the queue and not yet acknowledged it
    (kombu keeps it in the transport's ``unacked`` hash; the tasks acknowledge late). A worker killed
    keeps its message there too, so this says "alive" only when no step of the claim was left open."""
    return _in_broker(token, queued=False)


def _in_broker(token: str, *, queued: bool) -> bool:
    from yfbz.celery import app

    url = str(app.conf.broker_url or "")
    if app.conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return False
    needle = token.encode()
    queues = {app.conf.task_default_queue or "celery"}
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            client = channel.client
            if not queued:
                return any(needle in raw for raw in client.hvals(channel.unacked_key))
            for q in queues:
                for suffix in _PRIORITY_KEYS:
                    for raw in client.lrange(q + suffix, 0, -1):
                        if needle in raw:
                            return True
    except Exception:  # noqa: BLE001 — a broker that cannot be read: the row is offered 重新运行, not hidden
        return False
    return False


#: a queued row with no message of its task for it anywhere in the broker this long after it was queued (or
#: sent again) has lost its message — the broker restarted empty, or the send after the commit failed
LOST_AFTER_SECONDS = 120


def _last_move_at(obj):
    h = workflow.history_model(type(obj))
    return h.objects.filter(**{h.SUBJECT: obj.pk}).order_by("-at", "-id").values_list("at", flat=True).first()


def task_name(model) -> str:
    from django.utils.module_loading import import_string

    return import_string(spec_of(model).task).name


def sent_rows() -> set[tuple[str, int]] | None:
    """(task name, row id) of every job message in the broker — waiting in the queue, or taken by a worker
    and not yet acknowledged (with a countdown, or being worked): the row's id is the task's first argument
    (``send()`` sends it alone; the settlement upload page sends who uploaded after it). None when there is no broker to read (tasks inline) or it cannot be read: nobody can tell."""
    import json
    import re

    from yfbz.celery import app

    url = str(app.conf.broker_url or "")
    if app.conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return None
    raws = []
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            client = channel.client
            raws += client.hvals(channel.unacked_key)
            for suffix in _PRIORITY_KEYS:
                raws += client.lrange((app.conf.task_default_queue or "celery") + suffix, 0, -1)
    except Exception:  # noqa: BLE001 — a broker that cannot be read: nothing is called lost
        return None
    found = set()
    for raw in raws:
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        if isinstance(message, list):  # kombu keeps a taken message as [message, exchange, routing key]
            message = message[0] if message and isinstance(message[0], dict) else {}
        headers = message.get("headers") or {}
        # the row's id is the task's first argument: "(12,)", or "(12, 3)" when the page also sends who asked
        m = re.fullmatch(r"[(\[](\d+)\s*(?:,[^)\]]*)?[)\]]", str(headers.get("argsrepr", "")))
        if m and headers.get("task"):
            found.add((headers["task"], int(m.group(1))))
    return found


def lost(obj, present: set | None = None) -> bool:
    """Queued for more than ``LOST_AFTER_SECONDS`` (since its last move) and its task's message for it is
    nowhere in the broker, nor is a worker claiming it: nothing will ever run it. Offered "重新运行", and
    sent again by beat (``resend_lost``). ``present``: ``sent_rows()`` read once for a list of rows."""
    from django.utils import timezone

    if not _pg() or getattr(obj, "status", None) != spec_of(type(obj)).queued:
        return False
    since = _last_move_at(obj)
    if since is None or (timezone.now() - since).total_seconds() < LOST_AFTER_SECONDS or _locked(obj):
        return False
    present = sent_rows() if present is None else present
    return present is not None and (task_name(type(obj)), obj.pk) not in present


def resend_lost() -> int:
    """Beat, every few minutes: each job row that ``lost()`` its message is sent again, with a history row
    saying so (queued → queued, by the system). Returns how many."""
    if not _pg():
        return 0
    present = sent_rows()
    if present is None:
        return 0
    sent = 0
    for model in REGISTRY.values():
        spec = spec_of(model)
        for pk in model._base_manager.filter(status=spec.queued).values_list("pk", flat=True):
            with transaction.atomic():
                row = model._base_manager.select_for_update(skip_locked=True).filter(pk=pk, status=spec.queued).first()
                if row is None:
                    continue
                if not lost(row, present):
                    continue
                workflow.transition(row, spec.queued, by=None,
                                    reason=f"任务消息丢失（排队超过{LOST_AFTER_SECONDS // 60}分钟无后台进程处理），系统重新发送")
                transaction.on_commit(lambda model=model, pk=pk: send(model, pk))
                sent += 1
    return sent


def abandoned(obj) -> bool:
    """Running on the page but nobody works on it (its worker died): offered "重新运行" at once."""
    return getattr(obj, "status", None) == spec_of(type(obj)).running and not alive(obj)


def stalled(obj) -> bool:
    """Pending on the page but nothing will finish it: its worker died (``abandoned``) or its message was
    lost (``lost``). Pages stop waiting for it and offer "重新运行"."""
    return abandoned(obj) or lost(obj)


def can_rerun(obj) -> bool:
    spec = spec_of(type(obj))
    return obj.status == spec.failed or stalled(obj)


# --- the moves (yfbz.core.workflow) -------------------------------------------------------------------
def _row(model, pk: int, status: str):
    """The job row as the workflow needs it (its primary key and the status read under the lock), without
    loading the row again."""
    return model(pk=pk, **{workflow.status_field(model): status})


def queue(obj, *, by, reason: str = "提交") -> None:
    """The first history row of a job row just created (queued), with who asked for it."""
    workflow.record_start(obj, by=by, reason=reason)


def done(model, pk: int, token: str, **results) -> bool:
    """Inside the work's last transaction: mark the row done together with ``results`` (its figures,
    its file) — only while ``token`` still holds it — with one history row. Returns whether it did."""
    spec = spec_of(model)
    with transaction.atomic():
        if not still_mine(model, pk, token):
            return False
        workflow.transition(_row(model, pk, spec.running), spec.done, by=None, reason="运行完成", also=results)
        _forget_steps(model, pk)
    return True


def requeue(model, pk: int, token: str, why: str, **also) -> bool:
    """Put a claimed row back in the queue (not a failure: it waits for something else), with why."""
    spec = spec_of(model)
    with transaction.atomic():
        if not still_mine(model, pk, token):
            return False
        workflow.transition(_row(model, pk, spec.running), spec.queued, by=None, reason=why,
                            also={"job_token": "", spec.error_field: why[:2000], **also})
    return True


# --- claiming, failing, running ------------------------------------------------------------------
def _claim(model, pk: int) -> str | None:
    spec = spec_of(model)
    with transaction.atomic():
        row = model._base_manager.select_for_update().filter(pk=pk).values("status", "job_tries").first()
        if row is None or row["status"] not in spec.pending:
            return None
        if row["job_tries"] >= MAX_TRIES:
            text = errors.JOB_FAILED_TOO_MANY_TRIES.format(tries=row["job_tries"])
            workflow.transition(_row(model, pk, row["status"]), spec.failed, by=None, reason=text,
                                also={spec.error_field: text})
            return None
        _forget_steps(model, pk)  # the steps of an earlier claim (a killed worker's among them)
        token = uuid.uuid4().hex
        tries = row["job_tries"] + 1
        why = f"第{tries}次运行" + ("（上次运行中断，任务再次送达）" if row["status"] == spec.running else "")
        workflow.transition(_row(model, pk, row["status"]), spec.running, by=None, reason=why,
                            also={"job_token": token, "job_tries": F("job_tries") + 1, spec.error_field: ""})
        return token


def still_mine(model, pk: int, token: str) -> bool:
    """Inside the work's transaction: lock the row and check that this worker's claim still holds."""
    row = model._base_manager.select_for_update().filter(pk=pk).values("status", "job_token").first()
    return row is not None and row["job_token"] == token and row["status"] == spec_of(model).running


def _unwrap(exc: BaseException):
    seen = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def reason(exc: BaseException) -> str:
    """The Chinese sentence a member of staff reads for what stopped a job."""
    if isinstance(exc, YfbzError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    for e in _unwrap(exc):
        name = type(e).__name__
        if name in ("DeadlockDetected", "SerializationFailure", "LockNotAvailable"):
            return errors.JOB_DEADLOCK
        if name == "NumericValueOutOfRange" or isinstance(e, (decimal.InvalidOperation, OverflowError)):
            return errors.JOB_DATA_TOO_LARGE.format(detail=str(e).splitlines()[0][:120])
        if isinstance(e, ValueError) and ("NUL" in str(e) or "\\x00" in str(e)):
            return errors.JOB_DATA_NUL
        if name in ("CharacterNotInRepertoire", "UntranslatableCharacter"):
            return errors.JOB_DATA_NUL
        if isinstance(e, IntegrityError) or name in ("UniqueViolation", "ForeignKeyViolation"):
            return errors.JOB_DATA_CONFLICT.format(detail=str(e).splitlines()[0][:200])
    return f"{type(exc).__name__}：{str(exc).splitlines()[0][:200] if str(exc) else '无说明'}"


def fail(model, pk: int, token: str | None, exc: BaseException) -> str:
    """Mark the row failed (only if this worker's claim still holds) with the reason in Chinese."""
    spec = spec_of(model)
    why = reason(exc)
    text = why if isinstance(exc, YfbzError) else errors.JOB_FAILED_UNEXPECTED.format(kind=spec.label, detail=why)
    with transaction.atomic():
        # FOR NO KEY UPDATE, the strength of the UPDATE itself: the parts of the job in flight (FOR KEY
        # SHARE, still_mine_shared) are not waited for
        row = model._base_manager.select_for_update(no_key=_pg()).filter(pk=pk).values("status", "job_token").first()
        if row is None or (token is not None and row["job_token"] != token):
            return text
        if spec.failed not in workflow.allowed(model, row["status"]):  # failed by another part first, or done
            return text
        workflow.transition(_row(model, pk, row["status"]), spec.failed, by=None, reason=text[:2000],
                            also={spec.error_field: text[:2000]})
        _forget_steps(model, pk)
    return text


def run(model, pk: int, work):
    """Claim the row and run ``work(token)``; see the module docstring. Returns what ``work``
    returns, or None when there was nothing to do (done, failed, or another worker is on it)."""
    with _held(model, pk) as got:
        if not got:
            return None
        token = _claim(model, pk)
        if token is None:
            return None
        try:
            with _step(model, pk, token):
                return work(token)
        except Exception as exc:
            text = fail(model, pk, token, exc)
            if isinstance(exc, YfbzError):
                raise
            raise JobError(text) from exc


def rerun(obj, *, by) -> None:
    """Send a failed or abandoned job again ("重新运行"): queued, tries reset, the task after commit."""
    model = type(obj)
    spec = spec_of(model)
    own_rule = getattr(obj, "can_rerun_by", None)
    if (spec.rerun_permission and not (by.is_superuser or by.has_perm(spec.rerun_permission))) or (
            own_rule is not None and not own_rule(by)):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("无权重新运行该任务")
    subject = str(obj)
    with transaction.atomic():
        row = model._base_manager.select_for_update().get(pk=obj.pk)
        if alive(row):
            raise JobError(errors.JOB_STILL_RUNNING, subject=subject)
        if row.status not in (spec.failed, spec.running, spec.queued):
            raise JobError(errors.JOB_NOT_RERUNNABLE, subject=subject, status=row.get_status_display())
        before = row.get_status_display()
        workflow.transition(row, spec.queued, by=by, reason="重新运行",
                            also={"job_tries": 0, "job_token": "", spec.error_field: ""})
        from .audit import audit_bulk

        audit_bulk(actor=by, what="重新运行", summary={"原状态": before}, obj=row)
        transaction.on_commit(lambda: send(model, obj.pk))


def send(model, pk: int) -> None:
    from django.utils.module_loading import import_string

    import_string(spec_of(model).task).delay(pk)
