"""The one status mechanism: allowed moves as data on each model, one door that refuses the rest,
and an append-only history row for every move (docs/architecture.md, "Status changes").

A stateful model declares its moves; its history is a concrete subclass of ``StatusHistory``::

    class Bill(models.Model):
        class Status(models.TextChoices):
            ENTERED = "ENTERED", "已录入"
            ...
        MOVES = {NEW: {S.ENTERED}, S.ENTERED: {S.DECIDED}, S.DECIDED: {S.APPROVED, ...}, ...}
        REASON_REQUIRED = {(S.APPROVED, S.DECIDED)}      # optional: moves that need a written reason
        status = models.CharField("状态", max_length=10, choices=Status.choices, default=S.ENTERED)

    class BillStatusChange(StatusHistory):
        SUBJECT = "bill"
        bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="status_changes")

and every change of state goes through::

    transition(bill, Bill.Status.APPROVED, by=user, reason="审批同意")      # one record (locked by the caller)
    transition_many(Line.objects.filter(...), Line.Status.PAID, by=user, reason="银行回单")  # many at once
    record_start(bill, by=user, reason="录入")                             # the first row: "" → initial status

A move the model does not list is refused with ``TransitionRefused`` (``errors.MOVE_REFUSED``); a
record changed by someone else since it was read is refused too (the status is updated
conditionally on the value read). History rows cannot be changed: the model refuses save-on-update
and delete, its queryset refuses ``update()``/``delete()``, and on PostgreSQL a trigger refuses
UPDATE and DELETE (installed after every ``migrate`` for every subclass, see ``install_triggers``).
The subject's foreign key is ``PROTECT``: a record with a history cannot be deleted.

Labels: ``row.from_label`` / ``row.to_label`` are the subject's Chinese status labels, and
``templates/includes/status_history.html`` renders a history the same way on every page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from django.conf import settings
from django.core import checks
from django.db import connection, models, transaction
from django.utils import timezone

from . import errors
from .errors import TransitionRefused
from .scoping import ScopedManager, ScopedQuerySet

#: the status of a record not yet created: ``MOVES[NEW]`` lists the statuses a record may start in
NEW = ""


# --- the history ---------------------------------------------------------------------------------
class HistoryQuerySet(ScopedQuerySet):
    def update(self, **kwargs):
        raise PermissionError(errors.HISTORY_APPEND_ONLY)

    def delete(self):
        raise PermissionError(errors.HISTORY_APPEND_ONLY)


class HistoryManager(ScopedManager.from_queryset(HistoryQuerySet)):
    pass


class StatusHistory(models.Model):
    """Append-only: one row per move of a stateful record — who, when, from, to, why.

    A concrete subclass names the foreign key to its record in ``SUBJECT`` (``on_delete=PROTECT``)
    and, when the record reaches people, declares ``Scoping`` like any other model."""

    SUBJECT: ClassVar[str] = "subject"

    from_status = models.CharField("原状态", max_length=20, blank=True)
    to_status = models.CharField("新状态", max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="空表示由系统（后台任务）完成",
    )
    at = models.DateTimeField("时间", default=timezone.now, db_index=False)
    reason = models.TextField("说明", blank=True)

    objects = HistoryManager()

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_label} → {self.to_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(errors.HISTORY_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(errors.HISTORY_APPEND_ONLY)

    @classmethod
    def subject_model(cls) -> type[models.Model]:
        return cls._meta.get_field(cls.SUBJECT).related_model

    @property
    def from_label(self) -> str:
        return status_label(self.subject_model(), self.from_status) if self.from_status else "新建"

    @property
    def to_label(self) -> str:
        return status_label(self.subject_model(), self.to_status)


def history_models() -> list[type[StatusHistory]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, StatusHistory)]


_HISTORY: dict[type, type[StatusHistory]] = {}


def history_model(model: type[models.Model]) -> type[StatusHistory]:
    """The history model of a stateful model (the one ``StatusHistory`` subclass pointing at it)."""
    model = model._meta.concrete_model
    if model not in _HISTORY:
        for h in history_models():
            _HISTORY.setdefault(h.subject_model()._meta.concrete_model, h)
    try:
        return _HISTORY[model]
    except KeyError:
        raise LookupError(f"{model.__name__} has no StatusHistory subclass") from None


def history_of(obj) -> models.QuerySet:
    """Every move of ``obj``, oldest first, with who made it."""
    h = history_model(type(obj))
    return h.objects.filter(**{h.SUBJECT: obj}).select_related("by").order_by("at", "id")


# --- moves as data -------------------------------------------------------------------------------
def status_field(model) -> str:
    return getattr(model, "STATUS_FIELD", "status")


def status_label(model, code: str) -> str:
    """The Chinese label of a status code of ``model`` (the field's choices)."""
    if code == NEW:
        return "新建"
    choices = dict(model._meta.get_field(status_field(model)).flatchoices)
    return str(choices.get(code, code))


def moves_of(model) -> dict[str, set[str]]:
    try:
        return model.MOVES
    except AttributeError:
        raise LookupError(f"{model.__name__} declares no MOVES") from None


def allowed(obj_or_model, frm: str | None = None) -> set[str]:
    """The statuses ``obj`` may move to now (or from ``frm``)."""
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    if frm is None:
        frm = getattr(obj_or_model, status_field(model))
    return set(moves_of(model).get(frm, ()))


def can_move(obj, to: str) -> bool:
    return to in allowed(obj)


def _describe(obj) -> str:
    return f"{obj._meta.verbose_name}{obj.pk if obj.pk else ''}"


def _check(model, frm: str, to: str, reason: str, subject: str) -> None:
    if to not in moves_of(model).get(frm, ()):
        raise TransitionRefused(errors.MOVE_REFUSED, subject=subject, frm=status_label(model, frm),
                                to=status_label(model, to))
    if (frm, to) in getattr(model, "REASON_REQUIRED", ()) and not (reason or "").strip():
        raise TransitionRefused(errors.REASON_REQUIRED, subject=subject, to=status_label(model, to))


def transition(obj, to: str, *, by, reason: str = "", update_fields: Iterable[str] = (),
               also: dict | None = None) -> StatusHistory:
    """Move ``obj`` (locked by the caller: ``select_for_update``) to ``to`` and append one history row.

    Refused (``TransitionRefused``, nothing written) when the move is not in the model's ``MOVES``,
    when it needs a reason and has none, or when the record's status in the database is no longer
    the one ``obj`` was read with. ``update_fields``: other fields of ``obj`` changed by the caller
    to save together with the status. ``also``: other columns set in the same UPDATE as the status
    (values or expressions such as ``F("job_tries") + 1``; a job's token, its results)."""
    model = type(obj)
    field = status_field(model)
    frm = getattr(obj, field)
    _check(model, frm, to, reason, _describe(obj))
    also = dict(also or {})
    with transaction.atomic():
        n = model._base_manager.filter(pk=obj.pk, **{field: frm}).update(**{field: to}, **also)
        if n != 1:
            current = model._base_manager.filter(pk=obj.pk).values_list(field, flat=True).first()
            raise TransitionRefused(errors.MOVE_REFUSED, subject=_describe(obj), frm=status_label(model, current or frm),
                                    to=status_label(model, to))
        setattr(obj, field, to)
        for name, value in also.items():
            if not hasattr(value, "resolve_expression"):
                setattr(obj, name, value)
        extra = [f for f in update_fields if f != field]
        if extra:
            obj.save(update_fields=extra)
        h = history_model(model)
        return h.objects.create(**{h.SUBJECT: obj}, from_status=frm, to_status=to, by=by, reason=reason or "")


def record_start(obj, *, by, reason: str = "") -> StatusHistory:
    """The first history row of a record just created in one of its starting statuses (``MOVES[NEW]``)."""
    model = type(obj)
    to = getattr(obj, status_field(model))
    _check(model, NEW, to, reason, _describe(obj))
    h = history_model(model)
    return h.objects.create(**{h.SUBJECT: obj}, from_status=NEW, to_status=to, by=by, reason=reason or "")


def record_start_many(model, ids: list[int], *, by, reason: str = "") -> int:
    """``record_start`` for many records created in bulk (all in the model's default status)."""
    return _insert_history(model, ids, frm_from_row=False, to=None, by=by, reason=reason)


def transition_many(queryset, to: str, *, by, reason: str = "") -> int:
    """Move every record of ``queryset`` to ``to`` with one history row each (bulk; for thousands of
    payable lines or payments). The rows are locked in primary-key order first; if any of them
    may not make the move, nothing changes. Returns how many moved."""
    model = queryset.model
    field = status_field(model)
    with transaction.atomic():
        from .locks import lock_rows

        rows = lock_rows(queryset, field)
        if not rows:
            return 0
        for frm in sorted({s for _pk, s in rows}):
            _check(model, frm, to, reason, f"{model._meta.verbose_name}（{len(rows)}条）")
        ids = [pk for pk, _s in rows]
        _insert_history(model, ids, frm_from_row=True, to=to, by=by, reason=reason)
        table = model._meta.db_table
        pk_col = model._meta.pk.column
        col = model._meta.get_field(field).column
        with connection.cursor() as cur:
            for part in _chunks(ids):
                if connection.vendor == "postgresql":
                    cur.execute(f'UPDATE "{table}" SET "{col}" = %s WHERE "{pk_col}" = ANY(%s)', [to, part])
                else:
                    marks = ", ".join(["%s"] * len(part))
                    cur.execute(f'UPDATE "{table}" SET "{col}" = %s WHERE "{pk_col}" IN ({marks})', [to, *part])
    return len(ids)


def _chunks(ids: list[int]):
    """PostgreSQL takes one array parameter per statement; SQLite a bounded number of ``?``."""
    size = 50_000 if connection.vendor == "postgresql" else 500
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _insert_history(model, ids: list[int], *, frm_from_row: bool, to: str | None, by, reason: str) -> int:
    """INSERT … SELECT the history rows of ``ids`` from the subject table itself (no Python rows)."""
    if not ids:
        return 0
    h = history_model(model)
    field = status_field(model)
    table = model._meta.db_table
    pk_col = model._meta.pk.column
    col = model._meta.get_field(field).column
    subject_col = h._meta.get_field(h.SUBJECT).column
    frm_sql = f'"{col}"' if frm_from_row else "%s"
    to_sql = "%s" if to is not None else f'"{col}"'
    now = timezone.now()
    head = (
        f'INSERT INTO "{h._meta.db_table}" ("{subject_col}", "from_status", "to_status", "by_id", "at", "reason") '
        f'SELECT "{pk_col}", {frm_sql}, {to_sql}, %s, %s, %s FROM "{table}" '
    )
    params_head = ([] if frm_from_row else [NEW]) + ([to] if to is not None else [])
    tail = [by.pk if by is not None else None, now, reason or ""]
    with connection.cursor() as cur:
        for part in _chunks(ids):
            if connection.vendor == "postgresql":  # the ids as one text (yfbz.core.lookups: psycopg's array dumper costs ~3 µs an id)
                cur.execute(head + f'WHERE "{pk_col}" = ANY(string_to_array(%s, \',\')::bigint[]) ORDER BY "{pk_col}"',
                            [*params_head, *tail, ",".join(map(str, part))])
            else:
                marks = ", ".join(["%s"] * len(part))
                cur.execute(head + f'WHERE "{pk_col}" IN ({marks}) ORDER BY "{pk_col}"', [*params_head, *tail, *part])
    return len(ids)


# --- the database guard ----------------------------------------------------------------------------
TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION yfbz_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = '状态记录只能追加，不能修改或删除（表 ' || TG_TABLE_NAME || '）';
END;
$$ LANGUAGE plpgsql;
"""


def trigger_name(table: str) -> str:
    return f"{table}_append_only"[:63]


def install_triggers(using: str = "default") -> list[str]:
    """On PostgreSQL: a trigger refusing UPDATE and DELETE on every StatusHistory table (idempotent;
    run after every migrate, so a new history model is protected without a migration of its own)."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "postgresql":
        return []
    tables = sorted(h._meta.db_table for h in history_models())
    existing = set(conn.introspection.table_names())
    done = []
    with conn.cursor() as cur:
        cur.execute(TRIGGER_FUNCTION)
        for t in tables:
            if t not in existing:
                continue
            cur.execute(f'DROP TRIGGER IF EXISTS "{trigger_name(t)}" ON "{t}"')
            cur.execute(
                f'CREATE TRIGGER "{trigger_name(t)}" BEFORE UPDATE OR DELETE ON "{t}" '
                "FOR EACH ROW EXECUTE FUNCTION yfbz_history_append_only()"
            )
            done.append(t)
    return done


# --- a system check: every stateful model is complete ----------------------------------------------
@checks.register()
def check_workflows(app_configs=None, **kwargs):
    from django.apps import apps

    problems = []
    subjects = {}
    for h in history_models():
        subject = h.subject_model()
        field = h._meta.get_field(h.SUBJECT)
        if field.remote_field.on_delete is not models.PROTECT:
            problems.append(checks.Error(f"{h.__name__}.{h.SUBJECT} must be on_delete=PROTECT", obj=h, id="yfbz.W002"))
        if subject in subjects:
            problems.append(checks.Error(f"{subject.__name__} has two histories", obj=h, id="yfbz.W003"))
        subjects[subject] = h
    for m in apps.get_models():
        moves = getattr(m, "MOVES", None)
        if not isinstance(moves, dict):
            continue
        if m not in subjects:
            problems.append(checks.Error(f"{m.__name__} declares MOVES but has no StatusHistory subclass", obj=m, id="yfbz.W001"))
        codes = {c for c, _ in m._meta.get_field(status_field(m)).flatchoices}
        used = (set(moves) - {NEW}) | {t for tos in moves.values() for t in tos}
        if used - codes:
            problems.append(checks.Error(f"{m.__name__}.MOVES uses unknown statuses {sorted(used - codes)}", obj=m, id="yfbz.W004"))
    return problems
