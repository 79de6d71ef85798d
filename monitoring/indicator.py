"""The indicator (issue 12 item 5; 004 seed: 合理控制贫困群众政策范围内自付费用比例) and the dashboard's
monitoring sections (registered with ``reporting.hooks`` in ``MonitoringConfig.ready``).

- Recipients' in-policy self-pay ratio before and after assistance, from the city platform's monthly
  high-cost export (``HighCostRow`` rows of recipients: an identity on the settlement date, so the engine
  chose a category): Σ in-policy self-pay ÷ Σ in-policy cost, by month, category and town. The
  statistics pages keep their own ratio over the bureau's decisions and one-stop lines (docs/statistics.md);
  this one covers every high-cost settlement of a recipient, wherever it was settled.
- Open warnings and applications per town, totals only (the leadership sees no person)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from beneficiaries.models import Category, Town
from yfbz.core.display import money, pct

from .models import Alert, Application, HighCostRow, Referral

CUTS = {"month": "月份", "category": "身份类别", "town": "镇街"}


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if whole else None


def recipients_rows(user, year: int, months: tuple[int, ...] = tuple(range(1, 13))):
    """The recipients' high-cost rows the user may see (a town clerk: their own town's)."""
    qs = HighCostRow.objects.visible_to(user) if not _totals_only(user) else HighCostRow.objects.all()
    return qs.filter(year=year).exclude(category="").annotate(m=ExtractMonth("settled_on")).filter(m__in=months)


def _totals_only(user) -> bool:
    """The leadership (局领导) reads totals of every town and no row (docs/statistics.md): the figures
    here are sums, like the statistics' aggregates."""
    from yfbz.core.roles import Role

    return user.has_role(Role.LEADERSHIP) and not (user.is_superuser or user.sees_everything)


def self_pay(user, year: int, by: str | None, months: tuple[int, ...] = tuple(range(1, 13))) -> dict:
    """{"rows": [{label, settlements, in_policy, before, after, ratio_before, ratio_after}], "total": {...}}."""
    qs = recipients_rows(user, year, months)
    sums = {"settlements": Count("pk"), "in_policy": Sum("in_policy_cost"), "before": Sum("self_pay_before"),
            "after": Sum("self_pay_after")}
    field = {"month": "m", "category": "category", "town": "town_id"}.get(by or "")
    names: dict = {}
    if by == "category":
        names = dict(Category.objects.values_list("code", "name"))
    elif by == "town":
        names = dict(Town.objects.values_list("pk", "name"))
    rows = []
    if field:
        for r in qs.values(field).annotate(**sums).order_by(field):
            key = r[field]
            label = f"{year}年{key}月" if by == "month" else names.get(key, "（未知）")
            rows.append(_row(label, r))
    total = _row("合计", qs.aggregate(**sums))
    return {"rows": rows, "total": total}


def _row(label: str, r: dict) -> dict:
    inpol, before, after = (r.get(k) or Decimal("0.00") for k in ("in_policy", "before", "after"))
    return {"label": label, "settlements": r.get("settlements") or 0, "in_policy": inpol, "before": before, "after": after,
            "ratio_before": _ratio(before, inpol), "ratio_after": _ratio(after, inpol)}


def open_work_by_town(user, today: date | None = None) -> list[dict]:
    """Per town: open warnings (late), referrals waiting, applications in progress (late)."""
    today = today or timezone.localdate()
    alerts = Alert.objects.all() if _totals_only(user) else Alert.objects.visible_to(user)
    apps = Application.objects.all() if _totals_only(user) else Application.objects.visible_to(user)
    refs = Referral.objects.all() if _totals_only(user) else Referral.objects.visible_to(user)
    out: dict = defaultdict(lambda: defaultdict(int))
    open_q = Q(status__in=Alert.OPEN_STATUSES)
    for r in alerts.values("town_id").annotate(open=Count("pk", filter=open_q),
                                               late=Count("pk", filter=open_q & Q(due_on__lt=today))):
        out[r["town_id"]].update(alerts=r["open"], alerts_late=r["late"])
    for r in refs.filter(status=Referral.Status.WAITING).values("town_id").annotate(n=Count("pk")):
        out[r["town_id"]]["referrals"] = r["n"]
    app_open = Q(status__in=Application.OPEN_STATUSES)
    app_late = app_open & Q(due_on__lt=today) & ~Q(status=Application.Status.REFERRED)
    for r in apps.values("town_id").annotate(open=Count("pk", filter=app_open), late=Count("pk", filter=app_late)):
        out[r["town_id"]].update(apps=r["open"], apps_late=r["late"])
    names = dict(Town.objects.filter(pk__in=list(out)).values_list("pk", "name"))
    rows = [{"town": names.get(t, "—"), **v} for t, v in out.items()]
    rows.sort(key=lambda r: r["town"])
    return rows


# --- the leadership dashboard's sections (reporting.hooks.register_dashboard_section) ---------------
def dashboard_open_work(user, period) -> dict | None:
    rows = open_work_by_town(user)
    total = defaultdict(int)
    for r in rows:
        for k in ("alerts", "alerts_late", "referrals", "apps", "apps_late"):
            total[k] += r.get(k, 0)
    table = [[r["town"], r.get("alerts", 0), r.get("alerts_late", 0), r.get("referrals", 0), r.get("apps", 0),
              r.get("apps_late", 0)] for r in rows]
    table.append(["合计", total["alerts"], total["alerts_late"], total["referrals"], total["apps"], total["apps_late"]])
    return {"title": "高额费用监测预警与依申请救助（当前待处理，按镇街）",
            "columns": ["镇街", "待跟进预警", "其中已超期", "待部门认定", "办理中的救助申请", "其中已超期"], "rows": table}


def dashboard_self_pay(user, period) -> dict | None:
    data = self_pay(user, period.year, "month", period.months)
    rows = [[r["label"], r["settlements"], money(r["in_policy"]), pct(r["ratio_before"]), pct(r["ratio_after"])]
            for r in data["rows"] + [data["total"]]]
    return {"title": f"{period.zh}救助对象政策范围内自付比例（高额医疗费用明细，救助前→后）",
            "columns": ["月份", "结算笔数", "政策范围内费用（元）", "救助前自付比例", "救助后自付比例"], "rows": rows}
