"""PDFs (WeasyPrint, Noto CJK fonts): the fund request form for the finance bureau and the month report."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string


def _pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    context = {"BUREAU_NAME": getattr(settings, "YFBZ_BUREAU_NAME", ""), **context}
    return HTML(string=render_to_string(template, context)).write_pdf()


def fund_request_pdf(req, summary: dict) -> bytes:
    return _pdf("funding/pdf/fund_request.html", {"req": req, "summary": summary})


def month_report_pdf(report: dict) -> bytes:
    return _pdf("funding/pdf/month_report.html", {"r": report})
