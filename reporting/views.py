"""Pages of the statistics (docs/statistics.md): the statistics over any period and cut, the
leadership dashboard, the statutory returns, budgets and the fund risk warning.

Figures come from reporting.selectors (aggregate rows only). They are totals, never people: a
town clerk sees their own town's totals, the district and the leadership (局领导) every town's.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from beneficiaries.models import Town
from yfbz.core.middleware import read_only_allowed
from yfbz.core.roles import Role

from . import selectors
from .cuts import DIMENSIONS, Period
from .models import Aggregate

VIEW_STATS = "reporting.view_aggregate"
PERIOD_CHOICES = [("Y", "全年")] + [(f"Q{q}", f"第{'一二三四'[q - 1]}季度") for q in range(1, 5)] + [
    (f"M{m:02d}", f"{m}月") for m in range(1, 13)
]


def forced_town(user) -> Town | None:
    """A town clerk sees only their own town's figures (None: every town may be chosen)."""
    if user.is_superuser or user.sees_everything or user.has_role(Role.LEADERSHIP):
        return None
    if user.has_role(Role.TOWN_CLERK) and user.town_id:
        return user.town
    raise PermissionDenied("无权查看统计数据")


def years_available() -> list[int]:
    years = set(Aggregate.objects.values_list("year", flat=True).distinct())
    years.add(timezone.localdate().year)
    return sorted(years, reverse=True)


def _choice(request, name, allowed, default):
    value = request.GET.get(name, default)
    return value if value in allowed else default


def period_from_request(request) -> tuple[Period, list[str]]:
    """The period asked for; a bad parameter falls back to a default and is said so, never a 500."""
    problems = []
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        problems.append(f"无法识别的年度：{request.GET.get('year')}，已显示{today.year}年")
        year = today.year
    code = request.GET.get("period", "Y")
    if code not in dict(PERIOD_CHOICES):
        problems.append(f"无法识别的期间：{code}，已显示全年")
        code = "Y"
    return Period.from_code(year, code), problems


@login_required
@permission_required(VIEW_STATS, raise_exception=True)
def statistics(request):
    user = request.user
    own_town = forced_town(user)
    period, problems = period_from_request(request)
    by = _choice(request, "by", list(DIMENSIONS) + [""], "scheme") or None
    town = own_town
    towns = list(Town.objects.order_by("code")) if own_town is None else [own_town]
    if own_town is None and request.GET.get("town"):
        town = next((t for t in towns if t.code == request.GET["town"]), None)
        if town is None:
            problems.append(f"无法识别的镇街：{request.GET['town']}，已显示全区")
    if own_town is not None and by == "town":
        by = None
    keys = selectors.Keys()
    table = selectors.table(period, by, town, keys=keys)
    sub_by_category = selectors.subsidy_table(period.year, "category", town, keys=keys)
    sub_by_enrolment = selectors.subsidy_table(period.year, "enrolment", town, keys=keys)
    return render(request, "reporting/statistics.html", {
        "period": period, "by": by, "town": town, "towns": towns, "own_town": own_town, "table": table,
        "by_label": selectors.DIMENSION_ZH.get(by, "合计"), "dimensions": selectors.DIMENSION_ZH,
        "years": years_available(), "periods": PERIOD_CHOICES, "problems": problems,
        "sub_category": sub_by_category, "sub_enrolment": sub_by_enrolment,
        "today": date.today(),
    })


# --- identity changes by what made them ---------------------------------------------------------
@login_required
@permission_required(VIEW_STATS, raise_exception=True)
def identity_changes(request):
    user = request.user
    own_town = forced_town(user)
    period, problems = period_from_request(request)
    towns = list(Town.objects.order_by("code")) if own_town is None else [own_town]
    town = own_town
    if own_town is None and request.GET.get("town"):
        town = next((t for t in towns if t.code == request.GET["town"]), None)
        if town is None:
            problems.append(f"无法识别的镇街：{request.GET['town']}，已显示全区")
    rows, total = selectors.identity_change_rows(period.year, user=user, town=town)
    return render(request, "reporting/identity_changes.html", {
        "year": period.year, "years": years_available(), "towns": towns, "town": town, "own_town": own_town,
        "kinds": [name for _, name in selectors.IDENTITY_CHANGE_KINDS], "rows": rows, "total": total, "problems": problems,
    })


# --- the leadership dashboard -------------------------------------------------------------------
def dashboard_charts(period: Period, keys=None, *, funds=None, state=None, parts=("months", "cuts", "funds")):
    """The leadership's charts: the year by month, the period by scheme, category and town, the funds.
    ``funds`` (the positions, when the caller has them) and ``parts`` spare a page the queries of what it
    does not draw (issue 14: no page over 30 queries)."""
    from . import charts
    from .funds import positions

    keys = keys or selectors.Keys()
    state = state or selectors.status()
    out = []
    if "months" in parts:
        out.append(charts.months_chart(period.year, selectors.months_of_year(period.year, state=state)))
    if "cuts" in parts:
        for key, title in (("scheme", "按救助方案"), ("category", "按身份类别"), ("town", "按镇街")):
            out.append(charts.cut_chart(key, f"{period.zh}{title}", selectors.table(period, key, keys=keys, state=state),
                                        horizontal=True))
    if "funds" in parts:
        out.append(charts.funds_chart(period.year, funds if funds is not None
                                      else positions(period.year, timezone.localdate())))
    return out


@login_required
@permission_required(VIEW_STATS, raise_exception=True)
def dashboard(request):
    from . import hooks
    from .funds import positions

    if not (request.user.is_superuser or request.user.sees_everything or request.user.has_role(Role.LEADERSHIP)):
        raise PermissionDenied("领导驾驶舱显示全区数据，镇街经办员请使用统计查询。")
    period, problems = period_from_request(request)
    keys = selectors.Keys()
    state = selectors.status()
    total = selectors.table(period, None, keys=keys, state=state)
    funds = positions(period.year, timezone.localdate())
    return render(request, "reporting/dashboard.html", {
        "period": period, "problems": problems, "years": years_available(), "periods": PERIOD_CHOICES,
        "charts": dashboard_charts(period, keys, funds=funds, state=state), "total": total, "funds": funds,
        "sections": hooks.dashboard_sections(request.user, period),
        "indicator": hooks.self_pay_indicator(period, total),
    })


# --- statutory returns ------------------------------------------------------------------------------
@login_required
@permission_required("reporting.view_statreturn", raise_exception=True)
def return_list(request):
    from .models import StatReturn

    qs = StatReturn.objects.select_related("prepared_by", "approved_by").order_by("-year", "-period", "kind", "-version")
    if request.user.has_role(Role.LEADERSHIP) and not request.user.sees_everything:
        qs = qs.filter(status__in=[StatReturn.Status.APPROVED, StatReturn.Status.SUPERSEDED])
    return render(request, "reporting/returns.html", {
        "returns": qs[:200], "kinds": StatReturn.Kind.choices, "years": years_available(),
        "periods": [p for p in PERIOD_CHOICES if p[0] != "Y"], "today": timezone.localdate(),
    })


@login_required
@permission_required("reporting.add_statreturn", raise_exception=True)
def return_new(request):
    from django.contrib import messages
    from django.shortcuts import redirect

    from .returns import ReturnError, return_prepare

    if request.method != "POST":
        return redirect("reporting:returns")
    period, problems = period_from_request(_QueryFromPost(request))
    try:
        if problems:
            raise ReturnError("；".join(problems))
        ret = return_prepare(kind=request.POST.get("kind", ""), period=period, user=request.user,
                             correction_note=request.POST.get("correction_note", ""))
    except ReturnError as exc:
        messages.error(request, str(exc))
        return redirect("reporting:returns")
    messages.success(request, f"已编制{ret}。勾稽核对{'通过' if ret.tie_out_ok else '未通过'}，请另一人审核。")
    return redirect("reporting:return-detail", ret.pk)


class _QueryFromPost:
    """period_from_request reads request.GET: hand it the posted form instead."""

    def __init__(self, request):
        self.GET = request.POST


def _return_for(request, pk):
    from django.shortcuts import get_object_or_404

    from .models import StatReturn

    ret = get_object_or_404(StatReturn.objects.select_related("prepared_by", "approved_by", "previous"), pk=pk)
    if request.user.has_role(Role.LEADERSHIP) and not request.user.sees_everything and ret.status not in (
        StatReturn.Status.APPROVED, StatReturn.Status.SUPERSEDED
    ):
        from django.http import Http404

        raise Http404("报表尚未审核")
    return ret


@login_required
@permission_required("reporting.view_statreturn", raise_exception=True)
def return_detail(request, pk):
    from yfbz.core.workflow import history_of

    from .exports import display_value, header_rows

    ret = _return_for(request, pk)
    groups, subs, single = header_rows(ret.figures.get("columns", []))
    from .exports import _group_single

    user = request.user
    can_approve = (ret.status == ret.Status.PREPARED and user.has_perm("reporting.change_statreturn")
                   and user.pk != ret.prepared_by_id)
    return render(request, "reporting/return_detail.html", {
        "ret": ret, "groups": list(zip([g for g, _ in groups], [s for _, s in groups], _group_single(groups, single), strict=True)),
        "subs": [s for s in subs if s],
        "rows": [{"label": r["label"], "values": [display_value(v) for v in r["values"]]} for r in ret.figures.get("rows", [])],
        "changes": [{**c, "before": display_value(c["before"]), "after": display_value(c["after"])} for c in ret.changes],
        "history": history_of(ret), "can_approve": can_approve,
        "can_cancel": ret.status == ret.Status.PREPARED and (user.has_perm("reporting.add_statreturn") or user.has_perm("reporting.change_statreturn")),
        "can_correct": ret.status == ret.Status.APPROVED and user.has_perm("reporting.add_statreturn"),
    })


@login_required
@permission_required("reporting.view_statreturn", raise_exception=True)
def return_act(request, pk, action):
    from django.contrib import messages
    from django.shortcuts import redirect

    from yfbz.core.errors import YfbzError

    from .returns import ReturnError, return_approve, return_cancel

    _return_for(request, pk)
    if request.method != "POST":
        return redirect("reporting:return-detail", pk)
    try:
        if action == "approve":
            return_approve(return_id=pk, user=request.user, responsible=request.POST.get("responsible", ""))
            messages.success(request, "已审核，报表已锁定。")
        else:
            if not request.POST.get("reason", "").strip():
                raise ReturnError("作废须写明原因。")
            return_cancel(return_id=pk, user=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, "已作废。")
    except YfbzError as exc:
        messages.error(request, str(exc))
    return redirect("reporting:return-detail", pk)


def _return_name(ret) -> str:
    return f"{ret.unit}-{ret.get_kind_display()}-{ret.period_zh}-第{ret.version}版"


@read_only_allowed  # the auditor's press of 下载 PDF asks for a PDF to read: a job row of their own, nothing else
@login_required
@permission_required("reporting.view_statreturn", raise_exception=True)
def return_file(request, pk, fmt):
    """The return as xlsx (built in the request: a sheet of a few dozen cells) or as PDF (issue 14: laid out by
    WeasyPrint with its charts, so built by a Celery worker — a POST queues it (a second press while it waits
    is the same job) and leads to the job's page; a GET of the PDF's address only leads to the return's page)."""
    from django.http import Http404, HttpResponseNotAllowed
    from django.shortcuts import redirect

    if fmt not in ("xlsx", "pdf"):
        raise Http404("未知的文件格式")
    ret = _return_for(request, pk)
    if fmt == "pdf":
        if request.method != "POST":
            return redirect("reporting:return-detail", ret.pk)
        from yfbz.core.exports import document_job

        job = document_job(user=request.user, key="reporting.return_pdf", params={"pk": ret.pk},
                           title=f"{ret.get_kind_display()} {ret.period_zh} 第{ret.version}版")
        return redirect("export-detail", job.pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    from yfbz.core.downloads import download

    from .exports import return_xlsx

    return download(return_xlsx(ret), _return_name(ret), ext="xlsx")


def return_pdf_for(user, params, full=False) -> tuple[bytes, str]:
    """The return ``params["pk"]`` as PDF with its charts, read as ``user`` reads it (``_return_for``: the
    局领导 only an approved one), in a Celery worker (yfbz.core.exports.register_document)."""
    from yfbz.core.downloads import download_name
    from yfbz.core.exports import Asked

    from .exports import return_pdf

    ret = _return_for(Asked(user, params), int(params["pk"]))
    period = Period.from_code(ret.year, ret.period)
    charts = (dashboard_charts(period, parts=("months", "cuts")) if ret.kind == "ASSISTANCE" else
              dashboard_charts(period, parts=("funds",)) if ret.kind == "FUNDS" else [])
    return return_pdf(ret, charts), download_name(_return_name(ret), ext="pdf")


def register_documents() -> None:
    from django.urls import reverse

    from yfbz.core import exports

    exports.register_document("reporting.return_pdf", title="统计报表", permission="reporting.view_statreturn",
                              build=return_pdf_for,
                              back=lambda params: (reverse("reporting:return-detail", args=[params["pk"]]), "统计报表"))


# --- budgets and the fund risk warning ------------------------------------------------------------------
@login_required
@permission_required("reporting.view_fundbudget", raise_exception=True)
def budget(request):
    from decimal import Decimal, InvalidOperation

    from django.contrib import messages
    from django.shortcuts import redirect

    from .funds import budget_save, positions
    from .models import FundBudget
    from .returns import ReturnError

    period, problems = period_from_request(request)
    year = period.year
    if request.method == "POST":
        if not request.user.has_perm("reporting.change_fundbudget"):
            raise PermissionDenied("只有财务人员可以录入预算。")
        amounts, errors = {}, []
        for line, label in FundBudget.Line.choices:
            raw = request.POST.get(line, "").strip().replace(",", "")
            if not raw:
                amounts[line] = None
                continue
            try:
                amounts[line] = Decimal(raw).quantize(Decimal("0.01"))
                if not amounts[line].is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors.append(f"“{label}”：金额格式错误（{raw}）")
        try:
            if errors:
                raise ReturnError("；".join(errors))
            year = int(request.POST.get("year", year))
            budget_save(year=year, amounts=amounts, note=request.POST.get("note", ""), user=request.user)
            messages.success(request, f"{year}年预算已保存。")
        except (ReturnError, ValueError) as exc:
            messages.error(request, str(exc))
        return redirect(f"{request.path}?year={year}")
    current = {b.line: b for b in FundBudget.objects.filter(year=year)}
    return render(request, "reporting/budget.html", {
        "year": year, "years": years_available(), "problems": problems,
        "lines": [(code, label, current.get(code)) for code, label in FundBudget.Line.choices],
        "funds": positions(year, timezone.localdate()),
        "can_edit": request.user.has_perm("reporting.change_fundbudget"),
    })
