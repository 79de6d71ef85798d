"""A tamper-evident audit trail (等保2.0 level 3, 8.1.4.3: 审计记录应进行保护，避免受到未预期的删除、修改或覆盖).

Every django-auditlog entry gets a seal (``AuditSeal``): its position in one chain, a hash of the
entry's content, and the hash of the seal before it::

    seal[n].hash = SHA-256( seal[n-1].hash | entry id | time | actor | action | object | changes … )

Entries are sealed in the order they are sealed (not by id: a long transaction may commit an entry
with a lower id later), by ``seal_pending()`` — run by Celery beat every minute and by
``python manage.py verify_audit_chain`` before it checks. Sealing is one process at a time (a
database lock), so writers of entries never wait for the chain.

``verify()`` walks the chain and reports every break: an entry changed after it was sealed, a sealed
entry deleted, a seal changed or removed from the middle, an entry left unsealed for longer than
``STALE_AFTER``. On PostgreSQL triggers also refuse UPDATE and DELETE of entries and seals (migration
core.0003 and core.0006); the chain is what shows it if someone with the database owner's rights
goes around them. The head hash is printed by the command: a deployment ships it to its log store
(docs/security.md), so that cutting the tail of the chain is detectable too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta

from auditlog.models import LogEntry
from django.db import connection, transaction
from django.utils import timezone

GENESIS = "0" * 64
STALE_AFTER = timedelta(minutes=10)
_LOCK_KEY = 0x79666278  # "yfbx": one sealer at a time


def entry_digest(entry: LogEntry, prev: str) -> str:
    changes = entry.changes
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            pass
    payload = json.dumps([
        prev, entry.pk, entry.timestamp.isoformat(), entry.actor_id, int(entry.action), entry.content_type_id,
        entry.object_pk, entry.object_id, entry.object_repr, changes, entry.remote_addr,
        getattr(entry, "additional_data", None),
    ], ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _unsealed():
    from django.db.models import Exists, OuterRef

    from .models import AuditSeal

    return LogEntry.objects.filter(~Exists(AuditSeal.objects.filter(entry_pk=OuterRef("pk"))))


def seal_pending(limit: int = 50_000) -> int:
    """Seal every entry not sealed yet, in id order, continuing the chain. Returns how many."""
    from .models import AuditSeal

    sealed = 0
    while True:
        with transaction.atomic():
            _lock()
            last = AuditSeal.objects.order_by("-seq").first()
            prev, seq = (last.hash, last.seq) if last else (GENESIS, 0)
            pending = list(_unsealed().order_by("pk")[: min(limit - sealed, 5000)])
            if not pending:
                return sealed
            seals = []
            for entry in pending:
                seq += 1
                digest = entry_digest(entry, prev)
                seals.append(AuditSeal(seq=seq, entry_pk=entry.pk, prev_hash=prev, hash=digest))
                prev = digest
            AuditSeal.objects.bulk_create(seals)
            sealed += len(seals)
        if sealed >= limit:
            return sealed


@dataclass
class ChainReport:
    sealed: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(*, max_problems: int = 50) -> ChainReport:
    from .models import AuditSeal

    report = ChainReport()
    prev, expected_seq = GENESIS, 1
    seals = AuditSeal.objects.order_by("seq").values_list("seq", "entry_pk", "prev_hash", "hash")
    chunk: list[tuple] = []

    def check(rows):
        nonlocal prev, expected_seq
        found = LogEntry.objects.in_bulk([r[1] for r in rows])
        for seq, entry_pk, prev_hash, digest in rows:
            if seq != expected_seq:
                report.problems.append(f"第{expected_seq}至{seq - 1}号封记缺失（封记被删除）")
            expected_seq = seq + 1
            if prev_hash != prev:
                report.problems.append(f"第{seq}号封记的前一哈希与链不符（封记被改写或删除）")
            entry = found.get(entry_pk)
            if entry is None:
                report.problems.append(f"第{seq}号封记对应的审计记录{entry_pk}已不存在（被删除）")
            elif entry_digest(entry, prev_hash) != digest:
                report.problems.append(f"审计记录{entry_pk}（第{seq}号封记）的内容在封记后被修改")
            prev = digest
            report.sealed += 1

    for row in seals.iterator(chunk_size=5000):
        chunk.append(row)
        if len(chunk) == 5000:
            check(chunk)
            chunk = []
    if chunk:
        check(chunk)
    report.head = prev
    stale = _unsealed().filter(timestamp__lt=timezone.now() - STALE_AFTER).count()
    if stale:
        report.problems.append(f"有{stale}条审计记录超过{STALE_AFTER.seconds // 60}分钟未封记（可能是封记任务未运行，或记录被绕过系统写入）")
    report.problems = report.problems[:max_problems]
    return report
