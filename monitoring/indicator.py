"""The indicator (issue 12 item 5; 004 seed: 合理控制贫困群众政策范围内自付费用比例) and the dashboard's
monitoring sections (registered with ``reporting.hooks`` in ``MonitoringConfig.ready``).

- Recipients' in-policy self-pay ratio before and after assistance, from the city platform's monthly
  high-cost export (``HighCostRow`` rows of recipients: an identity on the settlement date, so the engine
  chose a category): Σ in-policy self-pay ÷ Σ in-policy cost, by month, category and town. Pages read
  the month totals (``SelfPayMonth``) each import adds to (``add_import``), not a year of rows. The
  statistics pages keep their own ratio over the bureau's decisions and one-stop lines (docs/statistics.md);
  this one covers every high-cost settlement of a recipient, wherever it was settled.
- Open warnings and applications per town, totals only (the leadership sees no person)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from beneficiaries.models import Category, Town
from yfbz.core.display import money, pct

from .models import Alert, Application, HighCostRow, Referral, SelfPayMonth

ZERO = Decimal("0.00")

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


def _by_department(user) -> bool:
    """A department officer sees the rows of the people their department certified, wherever they live:
    not a set of towns, so their figures are summed from the rows they may see (few: their people's)."""
    from yfbz.core.roles import Role

    return user.has_role(Role.DEPT_OFFICER) and not (user.is_superuser or user.sees_everything)


def _month_totals(user, year: int, months: tuple[int, ...]):
    qs = SelfPayMonth.objects.all() if _totals_only(user) else SelfPayMonth.objects.visible_to(user)
    return qs.filter(year=year, month__in=months)


SUMS_ROWS = {"settlements": Count("pk"), "in_policy": Sum("in_policy_cost"), "before": Sum("self_pay_before"),
             "after": Sum("self_pay_after")}
SUMS_MONTHS = {"settlements": Sum("settlements"), "in_policy": Sum("in_policy_cost"), "before": Sum("self_pay_before"),
               "after": Sum("self_pay_after")}


def self_pay(user, year: int, by: str | None, months: tuple[int, ...] = tuple(range(1, 13))) -> dict:
    """{"rows": [{label, settlements, in_policy, before, after, ratio_before, ratio_after}], "total": {...}}.

    Read from the month totals (``SelfPayMonth``, a few hundred cells a year) scoped like the rows
    (by town); a department officer's from the rows they may see."""
    if _by_department(user):
        qs, sums = recipients_rows(user, year, months), SUMS_ROWS
        field = {"month": "m", "category": "category", "town": "town_id"}.get(by or "")
    else:
        qs, sums = _month_totals(user, year, months), SUMS_MONTHS
        field = {"month": "month", "category": "category", "town": "town_id"}.get(by or "")
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


def _cells(rows) -> list[tuple]:
    """(year, month, category, town_id, settlements, in_policy, before, after) per cell of ``rows``."""
    cells = (rows.exclude(category="").annotate(m=ExtractMonth("settled_on"))
             .values("year", "m", "category", "town_id").annotate(**SUMS_ROWS).order_by("year", "m", "category", "town_id"))
    return [(c["year"], c["m"], c["category"], c["town_id"], c["settlements"], c["in_policy"] or ZERO, c["before"] or ZERO,
             c["after"] or ZERO) for c in cells]


def add_import(imp, cells: list[tuple] | None = None) -> int:
    """Add an import's recipients' rows to the month totals, in the import's transaction: one statement
    per cell that inserts it or adds to it (two imports at once add, neither overwrites). Returns the
    number of cells touched. ``cells``: the import's own sums of the rows it wrote (``importing.month_cells``,
    in ``_cells``' form and order), else they are read from its rows."""
    if cells is None:
        cells = _cells(HighCostRow.objects.filter(high_cost_import=imp))
    if not cells:
        return 0
    table = connection.ops.quote_name(SelfPayMonth._meta.db_table)
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ("settlements", "in_policy_cost", "self_pay_before", "self_pay_after"))
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (year, month, category, town_id, settlements, in_policy_cost, self_pay_before, self_pay_after) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (year, month, category, town_id) DO UPDATE SET {added}",
            cells)
    return len(cells)


@transaction.atomic
def rebuild_months() -> int:
    """The month totals made again from every row (``python manage.py rebuild_self_pay``)."""
    SelfPayMonth.objects.all().delete()
    made = [SelfPayMonth(year=y, month=m, category=c, town_id=t, settlements=n, in_policy_cost=i, self_pay_before=b,
                         self_pay_after=a) for y, m, c, t, n, i, b, a in _cells(HighCostRow.objects.all())]
    SelfPayMonth.objects.bulk_create(made, batch_size=1000)
    return len(made)


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
