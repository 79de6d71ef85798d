"""PDFs (WeasyPrint, Noto CJK fonts): the fund request form for the finance bureau and the month report.
Every amount through the display layer (yfbz.core.display): two decimals, thousands separators, totals
also in capital numerals (大写); every code (fund, spending, scheme) through its Chinese label."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from yfbz.core.display import to_decimal

ZERO = Decimal("0.00")


def _pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    context = {"BUREAU_NAME": getattr(settings, "YFBZ_BUREAU_NAME", ""), **context}
    return HTML(string=render_to_string(template, context)).write_pdf()


def _date(dt) -> str:
    if dt is None:
        return ""
    d = timezone.localdate(dt) if hasattr(dt, "tzinfo") and hasattr(dt, "hour") else dt
    return f"{d.year}年{d.month}月{d.day}日"


def _name(user) -> str:
    return (user.full_name or user.username) if user else ""


def request_form_context(req, summary: dict) -> dict:
    """What the form adds to the request's summary: totals per fund, per spending category and per
    scheme (codes kept for the labels), the grand total, and the sign-off block — 经办 (who drew it up,
    when), 审核 (who submitted it to the finance bureau, when: from its status history), 负责人 (signed
    by hand)."""
    from yfbz.core.workflow import history_of

    per_fund, per_spending, per_scheme = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    counts = defaultdict(int)
    rows = []
    for fund, group in summary["groups"].items():
        for r in group:
            total = to_decimal(r["total"]) or ZERO
            per_fund[fund] += total
            per_spending[(fund, r["spending"])] += total
            per_scheme[(fund, r["scheme"] or "")] += total
            counts[(fund, r["scheme"] or "")] += r["n"]
            rows.append({**r, "fund": fund, "total": total})
    submitted = next((h for h in history_of(req) if h.to_status == "submitted"), None)
    grand = sum(per_fund.values(), ZERO)
    return {
        "rows": rows,
        "per_fund": [{"fund": f, "total": t} for f, t in sorted(per_fund.items())],
        "per_spending": [{"fund": f, "spending": s, "total": t} for (f, s), t in sorted(per_spending.items())],
        "per_scheme": [{"fund": f, "scheme": s, "n": counts[(f, s)], "total": t} for (f, s), t in sorted(per_scheme.items())],
        "grand_total": grand,
        "signoff": [
            {"role": "经办", "name": _name(req.created_by), "date": _date(req.created_at)},
            {"role": "审核", "name": _name(submitted.by if submitted else req.approved_by),
             "date": _date(submitted.at) if submitted else ""},
            {"role": "负责人", "name": "", "date": ""},
        ],
        "printed_on": _date(timezone.localdate()),
    }


def fund_request_pdf(req, summary: dict) -> bytes:
    return _pdf("funding/pdf/fund_request.html", {"req": req, "summary": summary, "form": request_form_context(req, summary)})


def month_report_pdf(report: dict) -> bytes:
    return _pdf("funding/pdf/month_report.html", {"r": report})


def month_report_name(year: int, month: int) -> str:
    return f"医疗救助资金{year}年{month}月收支报表"


# --- the documents as jobs (yfbz.core.exports.register_document): built in a Celery worker, never in
# the web process, each read again through the scoped selector as the user who asked ---------------------
def request_pdf_for(user, params, full=False) -> tuple[bytes, str]:
    """The fund request form of ``params["pk"]`` as ``user`` reads it (their district's requests: 404
    otherwise), and its file's name."""
    from django.shortcuts import get_object_or_404

    from yfbz.core.downloads import download_name

    from . import selectors

    req = get_object_or_404(selectors.fund_requests(user).select_related("created_by", "approved_by"),
                            pk=int(params["pk"]))
    return (fund_request_pdf(req, selectors.request_summary(req)),
            download_name(f"{req.year}年{req.month}月医疗救助资金申请表", req.number, ext="pdf"))


def month_report_pdf_for(user, params, full=False) -> tuple[bytes, str]:
    """The month's funding report (``params`` year and month) and its file's name."""
    from django.http import Http404

    from yfbz.core.downloads import download_name

    from . import selectors
    from .forms import MonthForm

    form = MonthForm({"year": params.get("year"), "month": params.get("month")})
    if not form.is_valid():
        raise Http404("年度或月份有误")
    y, m = form.cleaned_data["year"], form.cleaned_data["month"]
    return month_report_pdf(selectors.month_report(y, m)), download_name(month_report_name(y, m), ext="pdf")


def register_documents() -> None:
    from urllib.parse import urlencode

    from django.urls import reverse

    from yfbz.core import exports

    exports.register_document(
        "funding.request_pdf", title="医疗救助资金申请表", permission="funding.view_fundrequest", build=request_pdf_for,
        back=lambda params: (reverse("funding:request-detail", args=[params["pk"]]), "资金申请"))
    exports.register_document(
        "funding.month_report_pdf", title="医疗救助资金收支报表", permission="funding.view_journalentry",
        build=month_report_pdf_for,
        back=lambda params: (f"{reverse('funding:report')}?{urlencode({'year': params['year'], 'month': params['month']})}",
                             "资金月报"))
