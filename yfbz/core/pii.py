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


def full_numbers_requested(request, *, what: str, model, obj=None) -> bool:
    """Whether this export/page shows full numbers: only with ``full=1`` and a reason chosen from
    REASONS (``reason``, plus ``note`` for 其他). Each such request is an ACCESS entry naming who,
    which record or file, and why. A missing reason is refused with a message (BadParameter)."""
    if request.GET.get("full") != "1":
        return False
    from .params import BadParameter

    reason = request.GET.get("reason", "")
    note = request.GET.get("note", "").strip()[:200]
    if reason not in REASONS or (reason == "other" and not note):
        raise BadParameter("查看或导出完整的身份证号、电话号码须选择原因（选“其他”时须说明），本次操作将记入审计日志。")
    filters = "&".join(f"{k}={v}" for k, v in request.GET.items() if k not in ("full", "reason", "note"))[:300]
    record_access(user=request.user, what=what, obj=obj, model=model, reason=REASONS[reason],
                  detail="；".join(x for x in (note, f"筛选：{filters}" if filters else "") if x))
    return True


def file_name(base: str, full: bool) -> str:
    """An export's name says when it holds full numbers: 人员-20260301-含完整号码.xlsx."""
    stem, dot, ext = base.rpartition(".")
    return f"{stem}-{FULL_NUMBERS_SUFFIX}{dot}{ext}" if full else base
