"""What may be uploaded, judged by the bytes (never by the name or the browser's content type).

- Scanned papers (票据扫描件): PDF, JPEG or PNG only, each at most ``SCAN_MAX`` (10 MB). An HTML page
  or an SVG sent as a "scan" (issue 9, finding 1: stored XSS) is refused.
- Data files: xlsx or CSV only (``sniff_data``), each kind with its own limit (``DATA_LIMITS``), and
  checked by ``yfbz.core.spreadsheets.check_spreadsheet`` before any reader opens them.
- Every stored file is served back as a download (``attachment_response``: Content-Disposition
  attachment, the sniffed type, nosniff), never rendered inline from our origin.
Each upload form states its limit (``DataFileField``/``ScanFileField`` put it in the help text).
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.http import HttpResponse

from .spreadsheets import SpreadsheetRefused, check_spreadsheet

MB = 1024 * 1024
SCAN_MAX = 10 * MB
DATA_LIMITS = {
    "roster": 200 * MB,  # a district's monthly roster: up to ~1,000,000 rows
    "settlement": 100 * MB,
    "enrolment": 100 * MB,
    "bank_return": 20 * MB,
    "reference": 20 * MB,  # towns, category wordings, institutions in the admin
}

SCAN_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
DATA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


class UploadRefused(ValueError):
    """The file is refused; the message names why, in Chinese."""


def _size_text(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n / 1024:.0f} KB"


def sniff_scan(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def check_scan(file_name: str, data: bytes) -> str:
    """The content type to store for a scanned paper, or UploadRefused."""
    if not data:
        raise UploadRefused(f"“{file_name}”是空文件。")
    if len(data) > SCAN_MAX:
        raise UploadRefused(f"“{file_name}”有{_size_text(len(data))}，扫描件每个不能超过{_size_text(SCAN_MAX)}。")
    kind = sniff_scan(data)
    if kind is None:
        raise UploadRefused(f"“{file_name}”不是PDF、JPEG或PNG文件（按文件内容判断），扫描件只接受这三种格式。")
    return SCAN_TYPES[kind]


def _looks_like_text(data: bytes) -> bool:
    head = data[:65536]
    if b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            # a multibyte character cut at the end of the sample is still text
            if exc.start >= len(head) - 4:
                return True
    return False


def sniff_data(data: bytes) -> str | None:
    if data[:4] == b"PK\x03\x04":
        import io
        import zipfile

        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        return "xlsx" if "xl/workbook.xml" in names or "[Content_Types].xml" in names else None
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf16"
    return "csv" if _looks_like_text(data) else None


def check_data(file_name: str, data: bytes, kind: str, *, allow_csv: bool = True) -> str:
    """Refuse a data upload that is empty, too large, not xlsx/CSV, or a hostile spreadsheet.
    Returns "xlsx" or "csv"."""
    limit = DATA_LIMITS[kind]
    if not data or not data.strip():
        raise UploadRefused(f"“{file_name}”是空文件。")
    if len(data) > limit:
        raise UploadRefused(f"“{file_name}”有{_size_text(len(data))}，超过此类文件的上限{_size_text(limit)}，请拆分后再上传。")
    sniffed = sniff_data(data)
    wanted = "Excel（.xlsx）或CSV" if allow_csv else "Excel（.xlsx）"
    if sniffed == "xls":
        raise UploadRefused(f"“{file_name}”是旧版Excel（.xls）文件：请在Excel中另存为.xlsx后再上传。")
    if sniffed == "utf16":
        raise UploadRefused(f"“{file_name}”是UTF-16编码的文本：请另存为UTF-8或GBK编码的CSV，或.xlsx。")
    if sniffed is None or (sniffed == "csv" and not allow_csv):
        raise UploadRefused(f"“{file_name}”不是{wanted}文件（按文件内容判断）。")
    try:
        check_spreadsheet(data)
    except SpreadsheetRefused as exc:
        raise UploadRefused(f"“{file_name}”：{exc}") from None
    return sniffed


class _LimitedFileField(forms.FileField):
    def __init__(self, *args, limit: int, formats: str, **kwargs):
        self.limit = limit
        kwargs.setdefault("help_text", f"{formats}，不超过{_size_text(limit)}")
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        f = super().clean(data, initial)
        if f and f.size > self.limit:
            raise forms.ValidationError(f"文件有{_size_text(f.size)}，超过上限{_size_text(self.limit)}，请拆分后再上传。")
        return f


class DataFileField(_LimitedFileField):
    """An xlsx/CSV upload of one kind (DATA_LIMITS); the bytes are checked by ``check_data``."""

    def __init__(self, *args, kind: str, allow_csv: bool = True, **kwargs):
        self.kind, self.allow_csv = kind, allow_csv
        formats = "Excel（.xlsx）或CSV（UTF-8或GBK）" if allow_csv else "Excel（.xlsx）"
        accept = ".xlsx,.csv" if allow_csv else ".xlsx"
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": accept}))
        super().__init__(*args, limit=DATA_LIMITS[kind], formats=formats, **kwargs)

    def clean(self, data, initial=None):
        f = super().clean(data, initial)
        if f:
            content = f.read()
            f.seek(0)
            try:
                check_data(f.name, content, self.kind, allow_csv=self.allow_csv)
            except UploadRefused as exc:
                raise forms.ValidationError(str(exc)) from None
            # the bytes may read as CSV, but a .txt (or any other name) is refused here with a clear
            # message rather than accepted and left to fail in the background job (issue 11)
            suffix = f.name.rsplit(".", 1)[-1].lower() if "." in f.name else ""
            allowed = ("xlsx", "csv") if self.allow_csv else ("xlsx",)
            if suffix and suffix not in allowed:  # a name without a suffix is judged by its bytes alone
                raise forms.ValidationError(
                    f"“{f.name}”是.{suffix}文件，不能上传：请上传{'Excel（.xlsx）或CSV（.csv）' if self.allow_csv else 'Excel（.xlsx）'}"
                    "文件。文本文件请在Excel中打开后另存为.xlsx或.csv。"
                )
        return f


def content_disposition(file_name: str, disposition: str = "attachment") -> str:
    """A Content-Disposition naming the file in Chinese (RFC 6266/5987) with an ASCII fallback."""
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in file_name)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


def attachment_response(data: bytes, *, file_name: str, content_type: str) -> HttpResponse:
    """A stored file, always as a download: the browser never renders it from our origin."""
    resp = HttpResponse(bytes(data), content_type=content_type or "application/octet-stream")
    resp["Content-Disposition"] = content_disposition(file_name)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp
