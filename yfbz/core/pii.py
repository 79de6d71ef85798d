"""Personal data shown on purpose only (PIPL; docs/security.md "PII").

ID numbers and phone numbers are masked everywhere by default: the first 6 and the last 4
characters stay (500112********0436, 138*0000 for a short number keeps what it can). A full
number is shown or exported only when a member of staff asks for it with a reason, and every
such view or export is an ACCESS entry in the audit trail naming who, which record or file, and
why (`record_access`). A full-number export says so in its file name (`FULL_NUMBERS_SUFFIX`).
"""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

FULL_NUMBERS_SUFFIX = "含完整号码"

# why a full number is needed: what staff choose from (a free text is added to the entry)
REASONS = {
    "verify": "核对身份（与证件或其他系统比对）",
    "payment": "办理支付或参保（银行、税务系统需要完整号码）",
    "department": "向认定部门或上级报送",
    "audit": "审计检查",
    "other": "其他（须说明）",
}


def mask(value: str | None) -> str:
    """First 6 + last 4 visible; anything of 10 characters or fewer keeps its first 3 and last 2 at most."""
    if not value:
        return ""
    value = str(value)
    n = len(value)
    if n > 10:
        return value[:6] + "*" * (n - 10) + value[-4:]
    if n > 5:
        return value[:3] + "*" * (n - 5) + value[-2:]
    return "*" * n


def record_access(*, user, what: str, obj=None, model=None, reason: str, detail: str = "") -> LogEntry:
    """One ACCESS entry: who saw full numbers, of which record (``obj``) or file (``what``), and why."""
    changes = {"查看内容": [None, what], "原因": [None, reason]}
    if detail:
        changes["说明"] = [None, detail]
    if obj is not None:
        return LogEntry.objects.log_create(obj, force_log=True, action=LogEntry.Action.ACCESS, actor=user, changes=changes)
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="export",
        object_repr=what[:200],
        action=LogEntry.Action.ACCESS,
        changes=changes,
        actor=user,
    )
