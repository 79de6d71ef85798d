"""Keeping the statistics in step with the claims records without touching the claims code.

Every save of a bill, a decision, a settlement month or a settlement line puts one row in
``RefreshQueue`` in the same transaction (so a rolled-back change queues nothing); after the
commit a refresh is asked for (a Celery task; inline when tasks run inline). The refresh reads
the records again, so the queue only has to say *what* changed, never how.

Bulk writes that bypass ``save()`` must queue what they touch themselves (``queue_bills``,
``queue_settlement_months``) or be followed by ``reporting.build.rebuild_year``.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import post_save

log = logging.getLogger(__name__)
_state = threading.local()


def queue(keys: list[str]) -> None:
    from .models import RefreshQueue

    if not keys:
        return
    RefreshQueue.objects.bulk_create([RefreshQueue(source_key=k) for k in keys])
    if not getattr(_state, "deferred", 0):
        _ask_after_commit()


def _ask_after_commit() -> None:
    """One refresh per transaction, however many saves it queued."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(cb[1] is request_refresh for cb in conn.run_on_commit):
        return
    transaction.on_commit(request_refresh)


def queue_bills(ids) -> None:
    queue([f"bill:{i}" for i in ids])


def queue_settlement_months(ids) -> None:
    queue([f"sm:{i}" for i in ids])


def request_refresh() -> None:
    """Ask for a refresh; a failure here must never undo or fail the clerk's action that caused it."""
    try:
        from .tasks import refresh_statistics

        refresh_statistics.delay()
    except Exception:  # noqa: BLE001 - statistics lag behind rather than break a bill's approval
        log.exception("reporting: could not start a refresh (the queue keeps the changes)")


@contextmanager
def deferred():
    """Queue changes but ask for no refresh until the block ends (bulk loads, demo data)."""
    _state.deferred = getattr(_state, "deferred", 0) + 1
    try:
        yield
    finally:
        _state.deferred -= 1
    if not _state.deferred:
        _ask_after_commit()


def _bill_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        queue_bills([instance.pk])


def _decision_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        queue_bills([instance.bill_id])


def _month_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        queue_settlement_months([instance.pk])


def _line_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        queue_settlement_months([instance.settlement_month_id])


def _subsidy_run_saved(sender, instance, raw=False, **kwargs):
    if not raw and instance.status == "done":
        queue([f"subsidy:{instance.year}"])


def _history_row(subject_field: str, queue_fn):
    def saved(sender, instance, created=False, raw=False, **kwargs):
        if created and not raw:
            queue_fn([getattr(instance, f"{subject_field}_id")])

    return saved


def connect() -> None:
    from claims.models import Bill, Decision, SettlementLine, SettlementMonth
    from yfbz.core.workflow import history_models

    # a status move goes through yfbz.core.workflow.transition, which updates the status with a
    # conditional UPDATE (no post_save) and appends a history row: the row says the record moved
    for h in history_models():
        subject = h.subject_model()
        if subject in (Bill, SettlementMonth):
            fn = queue_bills if subject is Bill else queue_settlement_months
            post_save.connect(_history_row(h.SUBJECT, fn), sender=h, weak=False, dispatch_uid=f"reporting-{h.__name__}")
    post_save.connect(_bill_saved, sender=Bill, dispatch_uid="reporting-bill")
    from funding.models import SubsidyRun

    post_save.connect(_subsidy_run_saved, sender=SubsidyRun, dispatch_uid="reporting-subsidy-run")
    post_save.connect(_decision_saved, sender=Decision, dispatch_uid="reporting-decision")
    post_save.connect(_month_saved, sender=SettlementMonth, dispatch_uid="reporting-settlement-month")
    post_save.connect(_line_saved, sender=SettlementLine, dispatch_uid="reporting-settlement-line")
