"""Data files imported off the web request (issue 9, finding 10): enrolment exports and bank returns.

The page stores the file as a ``FileImport`` row and queues ``funding.tasks.file_import``; the task
(yfbz.core.jobs) reads, checks and applies it in one transaction, and marks it done in that same
transaction — or failed, with the reason, and nothing applied. The page polls the row's status."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from yfbz.core import jobs
from yfbz.core.audit import audit_bulk

from ..models import FileImport


def file_import_queue(*, kind: str, file_name: str, data: bytes, user, **params) -> FileImport:
    """Store the file and queue its import (after commit)."""
    from ..tasks import file_import

    with transaction.atomic():
        row = FileImport.objects.create(kind=kind, file_name=file_name[:200], data=data, file_size=len(data),
                                        created_by=user, params=params)
        jobs.queue(row, by=user, reason="上传")
        audit_bulk(actor=user, what="上传待导入", summary={"文件": row.file_name, "大小（字节）": len(data), **params}, obj=row)
        transaction.on_commit(lambda: file_import.delay(row.pk))
    return row


def file_import_run(*, import_id: int) -> FileImport | None:
    return jobs.run(FileImport, import_id, lambda token: _work(import_id, token))


def _work(import_id: int, token: str) -> FileImport | None:
    row = FileImport.objects.select_related("created_by").get(pk=import_id)
    with transaction.atomic():
        if not jobs.still_mine(FileImport, import_id, token):
            return None
        result = _apply(row)
        jobs.done(FileImport, import_id, token, result=result, finished_at=timezone.now())
    row.refresh_from_db()
    return row


def _apply(row: FileImport) -> str:
    data, user, p = bytes(row.data), row.created_by, row.params
    if row.kind == FileImport.Kind.ENROLMENT:
        from yfbz.files.reader import describe

        from .imports import enrolment_import

        done = enrolment_import(year=int(p["year"]), data=data, user=user, source=row.file_name)
        kept = (f"；其中{done.kept_self_paid}人的自行缴费资助已审核，仍按已自行缴费处理（不列入税务代缴名单）"
                if getattr(done, "kept_self_paid", 0) else "")
        return f"已导入 {done.count} 条{int(p['year'])}年参保数据（{describe(done.reading)}）{kept}"
    from .requests import bank_return_parse, payment_batch_confirm

    failures = bank_return_parse(batch_id=int(p["batch_id"]), data=data)
    batch = payment_batch_confirm(batch_id=int(p["batch_id"]), paid_on=date.fromisoformat(p["paid_on"]),
                                  failures=failures, user=user)
    return f"批次 {batch.number} 已按银行回单确认（支付失败 {len(failures)} 笔）"
