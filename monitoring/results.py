"""Assistance results shared with the certifying departments (2号 五(二); docs/monitoring.md "Results").

Each month a department's officer downloads the results of the people their department certified —
their own people only: the people come from ``Person.objects.visible_to(user)`` (a department officer
sees the people certified by their department, yfbz.core.scoping) — with the warnings and referrals
concerning them. Written through the formula-safe writer (``SafeWorkbook``), named in Chinese."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from beneficiaries.models import Category, Identity, Person
from claims.models import Bill, Decision, SettlementLine
from funding.models import SelfPaidReport, SubsidyResult, SubsidyRoute, SubsidyRun
from yfbz.core.pii import mask
from yfbz.core.roles import Role
from yfbz.core.scoping import scope_q
from yfbz.core.spreadsheets import SafeWorkbook

from .models import Alert, Application, Referral

RESULTS_HEADER = ["姓名", "公民身份号码", "所属镇街", "本部门认定身份", "救助方式", "救助方案", "结算日期", "医疗机构",
                  "医疗总费用", "政策范围内费用", "医疗救助金额", "优抚补助金额", "审批（结算）日期", "状态"]
SUBSIDY_HEADER = ["姓名", "公民身份号码", "所属镇街", "本部门认定身份", "年度", "资助方式", "资助身份", "参保类型", "资助金额",
                  "核定日期", "状态"]
CONCERNS_HEADER = ["姓名", "公民身份号码", "所属镇街", "事项", "类型", "产生日期", "状态", "说明"]


def _month_end(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


#: rows of each section shown on the page; the whole month is in the xlsx
PAGE_ROWS = 100  # (200 took ~90 ms of a view to draw at a million people; issue 14)
#: a month's rows (decisions, one-stop lines, subsidy results) built in the request within ~150 ms at a million
#: people (measured 165 µs a row on a month of 24,013 rows, plus the month's dozen queries: docs/scaling.md
#: "Exports"); more is a job
EXPORT_INLINE_ROWS = 500
#: the page counts each part exactly up to this many rows, then says “以上” (the xlsx has them all): counting
#: 10,000 decisions through their bills took 0.25 s of each view at a million people, 1,000 takes ~25 ms (issue 14)
EXACT_UP_TO = 1000


def _bounded(qs, *, walk: tuple[str, ...] = ()) -> tuple[int, bool]:
    """(rows, more): ``qs`` counted up to ``EXACT_UP_TO`` rows (a count over ``LIMIT EXACT_UP_TO + 1``), and
    whether it holds more — a large department's month is hundreds of thousands of rows, which the page
    never counts (issue 14: counting them took 8 s at a million people). ``walk``: an order an index gives,
    so that PostgreSQL stops after the first rows it finds there rather than join whole tables for them."""
    n = qs.order_by(*walk)[:EXACT_UP_TO + 1].count()
    return min(n, EXACT_UP_TO), n > EXACT_UP_TO


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def people_of(user, department_id: int):
    """The people the department certified (an identity of one of its categories), of those the user may see
    (a semi-join: no DISTINCT over a million people).

    The department's own officer sees every person their department certified (``scope_q``: "people
    certified by them", any identity at any time — the same set), so their scope is not applied a second
    time: nested in every count and list of the page it made PostgreSQL check each decision's person
    twice, through the person table and the categories (0.34 s of the page at a million people, 0.12 s
    without; issue 14). Anyone else — district staff, an officer of another department — is filtered by
    their own scope. The department's categories are a hashed subplan, so each check is one probe of the identity index
    (person, category)."""
    categories = Category.objects.filter(department_id=department_id).values("pk")  # a hashed subplan: no query of its own
    certified = Person.objects.filter(Exists(Identity.objects.filter(person_id=OuterRef("pk"), category_id__in=categories)))
    if _certifies_for(user, department_id):
        return certified
    return certified.filter(scope_q(Person, user))


def _certifies_for(user, department_id: int) -> bool:
    """The user's scope holds every person the department certified: the city level (no filter), or an active
    officer of the department who is not also district staff (district staff are kept to their district)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.sees_every_district:
        return True
    return user.department_id == department_id and user.has_role(Role.DEPT_OFFICER) and not user.sees_everything


def _held(department_id: int, person_ids: set[int], start: date, end: date) -> dict[int, set[str]]:
    """The department's identities each of ``person_ids`` held in the month (read for the rows shown only)."""
    held: dict[int, set[str]] = {}
    ids = sorted(person_ids)
    for i in range(0, len(ids), 10_000):
        for pid, name in (Identity.objects.filter(person_id__in=ids[i:i + 10_000], category__department_id=department_id)
                          .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start), valid_from__lt=end)
                          .values_list("person_id", "category__name")):
            held.setdefault(pid, set()).add(name)
    return held


@contextmanager
def _one_process():
    """The page's queries without parallel workers: each count stops at its 1,001st row and each list at its
    100th, which parallel workers do not speed up, and starting two of them took ~30 ms of a 40 ms count at a
    million people (more when the cores are busy: issue 14). One setting for the whole page, in its own
    transaction (SET LOCAL)."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), conn.cursor() as cur:
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def results(user, department_id: int, month: date, *, limit: int | None = None) -> dict:
    """The month's results (see ``_results``); the page's (``limit``) in one process."""
    if limit is None:
        return _results(user, department_id, month, limit=None)
    with _one_process():
        return _results(user, department_id, month, limit=limit)


def _results(user, department_id: int, month: date, *, limit: int | None = None) -> dict:
    """The month's rows (hand-settled decisions approved in the month, one-stop lines settled in it) and
    the warnings, referrals and applications concerning the same people, of the department's people.

    With ``limit`` (the page) each section holds its first ``limit`` rows by name and ``counts`` says
    how many the month has (a large department's month is tens of thousands of rows: the page shows the
    beginning and the totals, the xlsx everything)."""
    start, end = month.replace(day=1), _month_end(month)
    people = people_of(user, department_id)
    ids = people.values("pk")
    rows = []
    # the month as a range of instants (the local midnights), not ``reviewed_at::date``: the index on
    # (is_current, reviewed_at) answers it
    decisions = (Decision.objects.filter(person_id__in=ids, is_current=True, reviewed_at__gte=_midnight(start),
                                         reviewed_at__lt=_midnight(end),
                                         bill__status__in=(Bill.Status.APPROVED, Bill.Status.PAID, Bill.Status.REFUSED))
                 .select_related("person", "person__town", "bill", "bill__institution").order_by("person__name", "settled_on", "pk"))
    lines = (SettlementLine.objects.filter(person_id__in=ids, settled_on__gte=start, settled_on__lt=end, duplicate=False)
             .order_by("person__name", "settled_on", "pk"))
    counts = {"rows": None, "subsidies": None, "concerns": None}
    more = {"rows": False, "subsidies": False, "concerns": False, "people": False}
    by_time = False
    if limit is not None:
        # the decisions along the (is_current, reviewed_at) index: without an order PostgreSQL merge-joined the
        # current decisions and the bills in bill order (0.12 s at a million people), with it ~1,000 lookups
        (nd, d_more), (nl, l_more) = _bounded(decisions, walk=("reviewed_at",)), _bounded(lines)
        counts["rows"], more["rows"] = nd + nl, d_more or l_more
        if more["rows"]:  # sorting hundreds of thousands of rows by name for a page of 200: the month's first ones instead
            by_time = True
            decisions, lines = decisions.order_by("reviewed_at", "pk"), lines.order_by("settled_on", "pk")
        decisions, lines = decisions[:limit], lines[:limit]
    for d in decisions:
        p = d.person
        rows.append({
            "person_id": p.pk, "name": p.name, "id_number": p.id_number, "town": p.town.name if p.town_id else "—",
            "route": "手工报销",
            "scheme": d.scheme_label, "settled_on": d.settled_on, "institution": d.bill.institution.name,
            "total_cost": d.bill.total_cost, "in_policy_cost": d.bill.in_policy_cost, "assistance": d.assistance,
            "youfu": d.youfu_subsidy, "on": d.reviewed_at.date(), "status": d.bill.get_status_display(),
        })
    R = SettlementLine.Resolution
    schemes = {k: str(v) for k, v in SettlementLine._meta.get_field("scheme").flatchoices}
    # the month's lines as values, not four model instances each (a month of 24,013 lines spent a third of its
    # time building lines, people, towns and institutions: issue 14)
    for ln in lines.values("person_id", "person__name", "person__id_number", "person__town__name", "scheme", "settled_on",
                           "institution__name", "total_cost", "in_policy_cost", "outcome", "resolution", "advanced",
                           "decided"):
        if ln["outcome"] == SettlementLine.Outcome.AGREED or ln["resolution"] == R.ADVANCED:
            amount, status = ln["advanced"], "已结算"
        elif ln["resolution"] == R.ENGINE:
            amount, status = ln["decided"], "按核定金额支付"
        elif ln["resolution"] == R.NONE:
            amount, status = ln["advanced"] - ln["advanced"], "不予支付"
        else:
            amount, status = ln["advanced"], "有异议，待处理"
        rows.append({
            "person_id": ln["person_id"], "name": ln["person__name"], "id_number": ln["person__id_number"],
            "town": ln["person__town__name"] or "—", "route": "一站式结算",
            "scheme": schemes.get(ln["scheme"], ln["scheme"]) if ln["scheme"] else "—", "settled_on": ln["settled_on"],
            "institution": ln["institution__name"], "total_cost": ln["total_cost"], "in_policy_cost": ln["in_policy_cost"],
            "assistance": amount, "youfu": None, "on": ln["settled_on"], "status": status,
        })
    rows.sort(key=(lambda r: (r["on"], r["name"], r["settled_on"])) if by_time else (lambda r: (r["name"], r["settled_on"])))
    rows = rows[:limit] if limit is not None else rows
    subsidies, counts["subsidies"], more["subsidies"] = _subsidies(ids, start, end, limit)
    concerns = []
    alerts = (Alert.objects.filter(person_id__in=ids).filter(Q(status__in=Alert.OPEN_STATUSES) | Q(created_at__date__gte=start, created_at__date__lt=end))
              .select_related("person", "town").order_by("name", "pk"))
    referrals = (Referral.objects.filter(department_id=department_id, person_id__in=ids)
                 .filter(Q(status=Referral.Status.WAITING) | Q(referred_on__gte=start, referred_on__lt=end) | Q(decided_on__gte=start, decided_on__lt=end))
                 .select_related("town").order_by("name", "pk"))
    applications = (Application.objects.filter(person_id__in=ids)
                    .filter(Q(status__in=Application.OPEN_STATUSES) | Q(registered_on__gte=start, registered_on__lt=end) | Q(decided_on__gte=start, decided_on__lt=end))
                    .select_related("person", "town").order_by("person__name", "pk"))
    if limit is not None:
        counted = [_bounded(q) for q in (alerts, referrals, applications)]
        counts["concerns"], more["concerns"] = sum(n for n, _ in counted), any(m for _, m in counted)
        alerts, referrals, applications = alerts[:limit], referrals[:limit], applications[:limit]
    for a in alerts:
        concerns.append({"name": a.name, "id_number": a.id_number, "town": a.town.name, "what": "高额费用监测预警",
                         "kind": a.get_kind_display(), "on": a.created_at.date(), "status": a.get_status_display(),
                         "note": f"{a.year}年个人负担{a.burden:,.2f}元"})
    for r in referrals:
        concerns.append({"name": r.name, "id_number": r.id_number, "town": r.town.name, "what": "转部门认定",
                         "kind": "来自依申请救助" if r.application_id else "来自监测预警", "on": r.referred_on,
                         "status": r.get_status_display(), "note": r.outcome_reason or r.note})
    for ap in applications:
        concerns.append({"name": ap.person.name, "id_number": ap.person.id_number, "town": ap.town.name, "what": "依申请救助",
                         "kind": "委托代办" if ap.on_behalf else "本人申请", "on": ap.registered_on,
                         "status": ap.get_status_display(), "note": ap.reason})
    concerns = concerns[:limit] if limit is not None else concerns
    held = _held(department_id, {r["person_id"] for r in rows + subsidies}, start, end)
    for r in rows + subsidies:
        r["categories"] = "、".join(sorted(held.get(r["person_id"], ()))) or "—"
    for key, shown in (("rows", rows), ("subsidies", subsidies), ("concerns", concerns)):
        if counts[key] is None:
            counts[key] = len(shown)
    # the page says how many people the department certified; the file does not (counting a department's
    # 650,000 people took longer than building a small month's file)
    n_people = None
    if limit is not None:
        n_people, more["people"] = _bounded(people)
    return {"rows": rows, "subsidies": subsidies, "concerns": concerns, "people": n_people, "counts": counts,
            "more": more, "by_time": by_time, "limit": limit, "limit_exact": f"{EXACT_UP_TO:,}",
            "cut": any(counts[k] > len(v) for k, v in (("rows", rows), ("subsidies", subsidies), ("concerns", concerns)))}


def _subsidies(ids, start: date, end: date, limit: int | None) -> tuple[list[dict], int | None, bool]:
    """Contribution subsidies (资助参保) of the department's people decided in the month: route (a), the
    year's list — a result the subsidy run finished in the month made or changed, with an amount — and
    route (b), a self-paid report the district approved in the month (or since paid)."""
    names = dict(Category.objects.values_list("code", "name"))
    out = []
    runs = SubsidyRun.objects.filter(status=SubsidyRun.Status.DONE, finished_at__date__gte=start, finished_at__date__lt=end)
    self_paid = SubsidyRoute.objects.filter(route=SubsidyRoute.Route.SELF_PAID, person_id=OuterRef("person_id"), year=OuterRef("year"))
    listed = (SubsidyResult.objects.filter(person_id__in=ids, run__in=runs.values("pk"), amount__gt=0)
              .exclude(Exists(self_paid))  # paid to the person who paid themselves: route (b) below, not twice
              .select_related("person", "person__town", "run").order_by("person__name", "year", "pk"))
    reports = (SelfPaidReport.objects.filter(person_id__in=ids, decided_on__gte=start, decided_on__lt=end,
                                             status__in=(SelfPaidReport.Status.APPROVED, SelfPaidReport.Status.PAID))
               .select_related("person", "person__town").order_by("person__name", "year", "pk"))
    total, more = None, False
    if limit is not None:
        (nl, l_more), (nr, r_more) = _bounded(listed), _bounded(reports)
        total, more = nl + nr, l_more or r_more
        listed, reports = listed[:limit], reports[:limit]
    for r in listed:
        p = r.person
        out.append({
            "person_id": p.pk, "name": p.name, "id_number": p.id_number, "town": p.town.name if p.town_id else "—",
            "year": r.year, "route": "资助参保（代缴）",
            "category": names.get(r.category, r.category) or "—", "enrolment": r.get_enrolment_display() or "—",
            "amount": r.amount, "on": r.run.finished_at.date(), "status": f"已列入{r.year}年度资助名单",
        })
    for rep in reports:
        p = rep.person
        out.append({
            "person_id": p.pk, "name": p.name, "id_number": p.id_number, "town": p.town.name if p.town_id else "—",
            "year": rep.year, "route": "资助参保（个人缴费后补助）",
            "category": "—", "enrolment": rep.get_enrolment_display(), "amount": rep.amount, "on": rep.decided_on,
            "status": rep.get_status_display(),
        })
    out.sort(key=lambda r: (r["name"], r["year"], r["route"]))
    return (out[:limit] if limit is not None else out), total, more


def results_xlsx(data: dict, *, title: str, full: bool = False) -> bytes:
    wb = SafeWorkbook()
    ws = wb.create_sheet("救助结果")
    ws.append([title])
    ws.append(RESULTS_HEADER)
    for r in data["rows"]:
        ws.append([r["name"], r["id_number"] if full else mask(r["id_number"]), r["town"], r["categories"], r["route"],
                   r["scheme"], r["settled_on"], r["institution"], r["total_cost"], r["in_policy_cost"], r["assistance"],
                   r["youfu"], r["on"], r["status"]])
    ws3 = wb.create_sheet("资助参保")
    ws3.append(SUBSIDY_HEADER)
    for r in data["subsidies"]:
        ws3.append([r["name"], r["id_number"] if full else mask(r["id_number"]), r["town"], r["categories"], r["year"],
                    r["route"], r["category"], r["enrolment"], r["amount"], r["on"], r["status"]])
    ws2 = wb.create_sheet("预警转介与申请")
    ws2.append(CONCERNS_HEADER)
    for c in data["concerns"]:
        ws2.append([c["name"], c["id_number"] if full else mask(c["id_number"]), c["town"], c["what"], c["kind"], c["on"],
                    c["status"], c["note"]])
    return wb.to_bytes()


# --- the month's results of a department as a request asks them (page, xlsx, export job) -------------
def department_and_month(user, params) -> tuple:
    """(department, month) a request asks for: a department officer always their own department; district
    staff the one named (else the first). Raises PermissionDenied for anyone else."""
    from datetime import timedelta

    from django.core.exceptions import PermissionDenied
    from django.utils import timezone

    from beneficiaries.models import Department
    from yfbz.core.params import parse_month
    from yfbz.core.roles import Role

    from .nav import results_open_to

    if not results_open_to(user):
        raise PermissionDenied("部门救助结果仅供认定部门和区医保局查看。")
    today = timezone.localdate()
    default = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month = parse_month(params["month"]) if params.get("month") else default
    if user.has_role(Role.DEPT_OFFICER) and not (user.is_superuser or user.sees_everything):
        department = Department.objects.filter(pk=user.department_id).first()
    else:
        code = params.get("department", "")
        department = Department.objects.filter(code=code).first() if "\x00" not in code else None
        department = department or Department.objects.order_by("code").first()
    if department is None:
        raise PermissionDenied("您的账号没有所属认定部门。")
    return department, month


def _export_rows(user, params):
    """What makes a month's results large: its decisions, one-stop lines and subsidy results (their ids,
    counted by the export's limit over LIMIT n + 1).

    Each part unordered (a part keeping its model's default order sorted all 257,000 decisions of a
    month to count 5,001 of them) and the month as a range of local midnights, which the (is_current,
    reviewed_at) index answers (``reviewed_at::date`` read the whole table): 1.5–4.9 s → milliseconds."""
    department, month = department_and_month(user, params)
    start, end = month.replace(day=1), _month_end(month)
    ids = people_of(user, department.pk).values("pk")
    decisions = Decision.objects.filter(person_id__in=ids, is_current=True, reviewed_at__gte=_midnight(start),
                                        reviewed_at__lt=_midnight(end)).values("pk").order_by()
    lines = SettlementLine.objects.filter(person_id__in=ids, settled_on__gte=start, settled_on__lt=end,
                                          duplicate=False).values("pk").order_by()
    runs = SubsidyRun.objects.filter(status=SubsidyRun.Status.DONE, finished_at__gte=_midnight(start),
                                     finished_at__lt=_midnight(end))
    subsidies = SubsidyResult.objects.filter(person_id__in=ids, run__in=runs.values("pk"), amount__gt=0).values("pk").order_by()
    # each part cut at the limit along an index's order: unordered, PostgreSQL hash-joined the department's
    # 400,000 people with the month's decisions to find 501 of them (1.1 s of the request at a million people)
    # (SQLite, ./dev serve's database, takes no ORDER BY or LIMIT inside a UNION: there the parts stay whole)
    from django.db import connection

    from yfbz.core.exports import inline_limit

    if not connection.features.supports_slicing_ordering_in_compound:
        return decisions.union(lines, subsidies, all=True)
    cap = inline_limit("monitoring.results") + 1
    return decisions.order_by("reviewed_at")[:cap].union(lines.order_by("settled_on")[:cap], subsidies[:cap], all=True)


def results_title(department, month) -> str:
    return f"{department.name}认定人员{month:%Y年%m月}医疗救助结果"


def _export_file(user, params, full):
    from yfbz.core.downloads import download_name

    department, month = department_and_month(user, params)
    data = results_xlsx(results(user, department.pk, month), title=results_title(department, month), full=full)
    return data, download_name(department.name, f"{month:%Y年%m月}医疗救助结果", ext="xlsx", full=full)


def register_exports() -> None:
    from yfbz.core import exports

    exports.register("monitoring.results", title="认定部门医疗救助结果", permission="monitoring.view_referral",
                     rows=_export_rows, build=_export_file, inline_rows=EXPORT_INLINE_ROWS)
