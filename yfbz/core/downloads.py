"""Every file the site hands out is named in Chinese, through this one helper: what it is, for whom and
for when, e.g. ``双龙湖街道-2025年资助参保税务名单.xlsx`` or ``2025年3月医疗救助资金申请表-ZJ202503-01.pdf``; never
an English word or a database id standing for a town. A file with full ID and phone numbers says so
(yfbz.core.pii.FULL_NUMBERS_SUFFIX)."""

from __future__ import annotations

import re

from django.http import HttpResponse

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
_UNSAFE = re.compile(r'[\\/:*?"<>|\r\n\t]+')


def download_name(*parts, ext: str, full: bool = False) -> str:
    """The parts (empty ones dropped) joined by '-', the full-numbers mark when ``full``, then the extension."""
    from .pii import FULL_NUMBERS_SUFFIX

    words = [_UNSAFE.sub("_", str(p)).strip() for p in parts if p not in (None, "")]
    if full:
        words.append(FULL_NUMBERS_SUFFIX)
    return f"{'-'.join(w for w in words if w)}.{ext}"


def download(data: bytes, *parts, ext: str, full: bool = False, inline: bool = False,
             content_type: str | None = None) -> HttpResponse:
    """A response carrying ``data`` as a file named by ``download_name`` (RFC 6266/5987, ASCII fallback).
    PDFs may open in the browser (``inline``); other files always download."""
    from .uploads import content_disposition

    resp = HttpResponse(bytes(data), content_type=content_type or CONTENT_TYPES.get(ext, "application/octet-stream"))
    resp["Content-Disposition"] = content_disposition(download_name(*parts, ext=ext, full=full),
                                                      "inline" if inline else "attachment")
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


def town_name(town_id) -> str:
    """The town's name for a file name ('全区' for no town)."""
    if not town_id:
        return "全区"
    from django.apps import apps

    Town = apps.get_model("beneficiaries", "Town")  # core imports no app
    return Town.objects.filter(pk=town_id).values_list("name", flat=True).first() or "全区"
