"""Pressing a document's button (issue 14: the return's PDF, the fund request form, the month report as PDF are
built by a Celery task, never in the web process) and reading the PDF back from the job's page, as a user does:
POST → the job's page (the task runs inline when the request's transaction commits) → 下载 PDF."""

from __future__ import annotations

import re

from django.urls import reverse

from yfbz.core.models import ExportJob


def press(client, url: str, capture, data: dict | None = None):
    """POST the button's form; returns (the response, its job). ``capture``: django_capture_on_commit_callbacks."""
    with capture(execute=True):
        resp = client.post(url, data or {})
    assert resp.status_code == 302, (url, resp.status_code)
    found = re.fullmatch(r"/exports/(\d+)/", resp["Location"])
    assert found, resp["Location"]
    return resp, ExportJob.objects.get(pk=int(found.group(1)))


def download(client, job: ExportJob):
    """The job's page offers 下载 PDF; the file it leads to."""
    page = client.get(reverse("export-detail", args=[job.pk]))
    assert page.status_code == 200, page.status_code
    html = page.content.decode()
    link = reverse("export-download", args=[job.pk])
    assert "已完成" in html and f'href="{link}"' in html and "下载 PDF" in html, html[:2000]
    resp = client.get(link)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf", resp.status_code
    return resp


def pdf_of(client, url: str, capture, data: dict | None = None) -> bytes:
    """Press the button and download the PDF: its bytes."""
    _, job = press(client, url, capture, data)
    return download(client, job).content
