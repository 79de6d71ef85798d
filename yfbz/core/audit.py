"""Audit entries for bulk writes. bulk_create/update and COPY send no signals to django-auditlog,
so every bulk operation writes one entry naming who did what to how many rows."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType


def audit_bulk(*, actor, what: str, summary: dict, obj=None, model=None) -> LogEntry:
    """One UPDATE entry: on `obj` (the upload, file or batch the operation belongs to), or, when
    there is no such object, on `model` as a whole. Each summary item is one field of the entry,
    so the audit page lists them; `what` says what was done (e.g. 名单生效)."""
    changes = {"操作": [None, what]} | {str(k): [None, str(v)] for k, v in summary.items()}
    if obj is not None:
        return LogEntry.objects.log_create(obj, force_log=True, action=LogEntry.Action.UPDATE, actor=actor, changes=changes)
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="bulk",
        object_repr=what[:200],
        action=LogEntry.Action.UPDATE,
        changes=changes,
        actor=actor,
    )
