"""The audit trail is tamper-evident: each entry sealed into a hash chain, a command that verifies it,
an export for auditors, and nothing in the product that deletes it."""

import io
import json

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from yfbz.core.auditchain import seal_pending, verify
from yfbz.core.models import AuditSeal

pytestmark = pytest.mark.django_db


def _run():
    out = io.StringIO()
    try:
        call_command("verify_audit_chain", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def _raw(sql, params):
    """What someone with the database's owner rights could do, going around the triggers."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")  # triggers off for this transaction
        cur.execute(sql, params)


def test_every_entry_is_sealed_and_the_chain_verifies(people, staff):
    code, out = _run()
    assert code == 0 and out["ok"] and out["entries_in_chain"] == LogEntry.objects.count() > 0
    assert len(out["head"]) == 64
    # new entries continue the chain
    people["slh"].village = "新村"
    people["slh"].save()
    assert seal_pending() == 1
    assert verify().ok


def test_an_entry_changed_after_sealing_is_found(people):
    seal_pending()
    entry = LogEntry.objects.order_by("pk").first()
    _raw("UPDATE auditlog_logentry SET object_repr = %s WHERE id = %s", ["改写过的", entry.pk])
    code, out = _run()
    assert code == 1
    assert any(f"审计记录{entry.pk}" in p and "修改" in p for p in out["problems"])


def test_a_deleted_entry_is_found(people):
    seal_pending()
    entry = LogEntry.objects.order_by("pk").last()
    _raw("DELETE FROM auditlog_logentry WHERE id = %s", [entry.pk])
    report = verify()
    assert not report.ok and any("已不存在" in p for p in report.problems)


def test_a_seal_removed_from_the_middle_is_found(people, staff):
    people["hx"].village = "x"
    people["hx"].save()
    seal_pending()
    middle = AuditSeal.objects.order_by("seq")[1]
    _raw("DELETE FROM core_auditseal WHERE seq = %s", [middle.seq])
    report = verify()
    assert not report.ok and any("缺失" in p or "不符" in p for p in report.problems)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_the_database_refuses_to_change_a_seal(people):
    from django.db import DatabaseError, transaction

    seal_pending()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditSeal.objects.filter(seq=1).update(hash="0" * 64)


def test_auditors_export_the_trail_and_the_export_is_recorded(people, staff, login):
    resp = login(staff["auditor"]).get(reverse("audit-export"), {"object": "张双龙"})
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment;")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "时间", "操作人", "动作") and any("张双龙" in str(r[5]) for r in rows[1:])
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_repr="导出审计日志", actor=staff["auditor"]).exists()
    assert login(staff["sysadmin"]).get(reverse("audit-export")).status_code == 403


def test_nothing_in_the_product_deletes_audit_entries():
    from pathlib import Path

    from django.conf import settings

    offenders = []
    for app in ("beneficiaries", "claims", "funding", "yfbz", "reporting", "adoption", "areas"):
        for path in Path(settings.BASE_DIR, app).rglob("*.py"):
            text = path.read_text()
            if "migrations" in path.parts:
                continue
            if "LogEntry.objects" in text and (".delete(" in text or "auditlogflush" in text):
                offenders.append(str(path))
    assert offenders == []
