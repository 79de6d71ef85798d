"""The city platform's settlement detail (结算明细, issue 18): one file for all institutions of a
month, read as it comes (title rows, the platform's headers: docs/files.md) and split by institution
into one ``SettlementFile`` each, which the one-stop settlement audit (``claims.settlement``) then
imports and decides exactly as an institution's own file.

- Every line is checked first; a file with a bad line is refused whole, naming row and field (the
  platform file's own row numbers, which the split parts keep in their lines).
- Institutions are matched by code when the file has one, else by name (full-width, spaces and
  brackets aside). An institution we do not know is listed on the upload (name, lines, advanced)
  for the administrator to add with its level; its lines wait, undecided, until the clerk splits the
  file again (``platform_file_resplit``: its job reads the file again), which imports the parts of
  the institutions now known.
- The same bytes are never taken twice (``PlatformSettlementFile.sha256``); a settlement already
  imported from another file is a duplicate line as always (``settlement_line_once``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from yfbz.core import jobs, workflow
from yfbz.core.roles import Role
from yfbz.files.reader import header_key

from .models import ZERO, Institution, PlatformSettlementFile, SettlementFile
from .services import ClaimsError, log_bulk
from .settlement import LABEL, Row, _open, _store_file, read_settlement_rows

#: the columns of a split part (our template's headers, and the platform file's row of each line)
PART_COLUMNS = ("settlement_no", "id_number", "name", "kind", "disease", "admitted_on", "settled_on", "total_cost",
                "in_policy_cost", "basic_paid", "critical_paid", "large_paid", "advanced", "tilted_paid",
                "institution_code", "institution_name", "platform_identity", "clearing_period", "source_row")
KIND_ZH = {"INPATIENT": "住院", "OUTPATIENT": "门诊"}


def name_key(name: str) -> str:
    """An institution's name as compared: 重庆医科大学附属第一医院 / 重庆医科大学附属第一医院（本部） differ,
    but full-width letters, spaces and bracket widths do not count."""
    return header_key(name or "")


class Institutions:
    """The institutions by code and by name (one query)."""

    def __init__(self):
        self.by_code: dict[str, Institution] = {}
        self.by_name: dict[str, Institution] = {}
        for inst in Institution.objects.all():
            self.by_code[inst.code.strip().upper()] = inst
            self.by_name.setdefault(name_key(inst.name), inst)

    def match(self, code: str, name: str) -> Institution | None:
        if code and code.strip().upper() in self.by_code:
            return self.by_code[code.strip().upper()]
        return self.by_name.get(name_key(name)) if name else None


def content_digest(month: date, rows: list[Row]) -> str:
    """The lines' content whatever their order, row numbers and title rows (every field read)."""
    h = hashlib.sha256(f"{month:%Y-%m}\n".encode())
    for key in sorted(tuple("" if v is None else str(v) for v in (
            r.settlement_no, r.id_number, r.name, r.kind, r.disease, r.admitted_on, r.settled_on, r.total_cost,
            r.in_policy_cost, r.basic_paid, r.critical_paid, r.advanced, r.large_paid, r.tilted_paid,
            r.institution_code, name_key(r.institution_name), r.period, r.platform_identity)) for r in rows):
        h.update(("\t".join(key) + "\n").encode())
    return h.hexdigest()


def other_periods(others: list[Row]) -> list[dict]:
    """The lines of another 清算期 than the upload's month, per 清算期: flagged on the upload, not
    split, not decided (they belong to that month's detail)."""
    out: dict[date, dict] = {}
    for r in sorted(others, key=lambda r: r.line_no):
        o = out.setdefault(r.period, {"period": f"{r.period:%Y-%m}", "rows": 0, "advanced": ZERO, "first_row": r.line_no,
                                      "row_numbers": []})
        o["rows"] += 1
        o["advanced"] += r.advanced
        if len(o["row_numbers"]) < 20:
            o["row_numbers"].append(r.line_no)
    return [{**o, "advanced": str(o["advanced"])} for _, o in sorted(out.items())]


def _check_clerk(user) -> None:
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise ClaimsError("只有区医保经办人员可以导入一站式结算文件。")


def _part_bytes(pf: PlatformSettlementFile, inst: Institution, rows: list[Row]) -> bytes:
    """A part as a CSV in our template's shape, under a title row naming where it came from (so two
    platform files never give the same bytes)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([f"平台结算明细“{pf.file_name}”（第{pf.pk}号，{pf.month:%Y年%m月}）拆分：{inst.name}（{inst.code}）"])
    w.writerow([LABEL[k] for k in PART_COLUMNS])
    for r in rows:
        values = {
            **{k: getattr(r, k) for k in PART_COLUMNS if k not in ("kind", "source_row", "clearing_period")},
            "kind": KIND_ZH[r.kind], "source_row": r.line_no,
            "clearing_period": f"{r.period:%Y%m}" if r.period else "",
        }
        w.writerow(["" if values[k] is None else (v.isoformat() if isinstance(v := values[k], date) else str(v))
                    for k in PART_COLUMNS])
    return buf.getvalue().encode("utf-8")


def _split(pf: PlatformSettlementFile, rows: list[Row], user) -> list[SettlementFile]:
    """Store a part for every known institution not split off yet; list the unknown ones."""
    known = Institutions()
    groups: dict[int, list[Row]] = defaultdict(list)
    insts: dict[int, Institution] = {}
    unknown: dict[tuple[str, str], dict] = {}
    for r in rows:
        inst = known.match(r.institution_code, r.institution_name)
        if inst is None:
            key = (r.institution_code.strip().upper(), name_key(r.institution_name))
            u = unknown.setdefault(key, {"name": r.institution_name, "code": r.institution_code, "rows": 0,
                                         "advanced": ZERO, "first_row": r.line_no})
            u["rows"] += 1
            u["advanced"] += r.advanced
            continue
        groups[inst.pk].append(r)
        insts[inst.pk] = inst
    done = {p["code"] for p in pf.parts}
    created = []
    for pk, part in groups.items():
        inst = insts[pk]
        if inst.code in done:
            continue
        data = _part_bytes(pf, inst, part)
        f = _store_file(inst, pf.month, f"{pf.file_name}（{inst.name}）"[:200], data, hashlib.sha256(data).hexdigest(), user,
                        reason=f"由平台结算明细“{pf.file_name}”拆分")
        pf.parts.append({"code": inst.code, "name": inst.name, "file": f.pk, "rows": len(part)})
        created.append(f)
    pf.unknown = [{**u, "advanced": str(u["advanced"])} for u in unknown.values()]
    pf.save(update_fields=["parts", "unknown"])
    if created:
        log_bulk(pf, user, {"拆分机构": len(created), "拆分行数": sum(len(groups[f.settlement_month.institution_id]) for f in created),
                            "待添加机构": len(pf.unknown)})
    return created


def platform_file_queue(*, month: date, file_name: str, data: bytes, user, send: bool = True) -> PlatformSettlementFile:
    """The page's part: store the platform's detail of a month and queue its reading and split (the
    task after commit). The same bytes as an earlier upload are refused here, naming it."""
    _check_clerk(user)
    month = month.replace(day=1)
    sha = hashlib.sha256(data).hexdigest()
    earlier = PlatformSettlementFile.objects.defer("data").filter(sha256=sha).first()
    if earlier is not None:
        if earlier.status == PlatformSettlementFile.Status.FAILED:
            raise ClaimsError(f"该平台结算明细已于{timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M}上传（{earlier}），"
                              f"拆分失败：{earlier.error[:200]}。文件有误请改正后上传；原因已排除的，请在该文件处点“重新运行”。")
        raise ClaimsError(f"该平台结算明细已于{timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M}导入"
                          f"（{earlier}），不会重复导入和支付。")
    try:
        with transaction.atomic():
            pf = PlatformSettlementFile.objects.create(month=month, file_name=file_name[:200], data=data, sha256=sha,
                                                       uploaded_by=user)
            jobs.queue(pf, by=user, reason="上传")
            log_bulk(pf, user, {"上传待拆分": pf.file_name, "大小（字节）": len(data)})
            if send:
                from .tasks import platform_split

                transaction.on_commit(lambda: platform_split.delay(pf.pk))
    except IntegrityError:
        raise ClaimsError("同一文件刚刚已由另一次上传导入（两次同时上传了相同的文件），不会重复导入和支付。") from None
    return pf


def platform_file_run(*, platform_file_id: int, queue_parts: bool = True) -> list[SettlementFile] | None:
    """The task's part (yfbz.core.jobs): read the detail, check every line, refuse the same lines of
    the month as an earlier file, split it (one QUEUED ``SettlementFile`` per known institution, their
    imports queued after commit when ``queue_parts``) and mark it done in the same transaction — or
    failed with the reason in Chinese, nothing split. A bad line refuses the whole file; a closed
    month of any institution too."""

    def work(token: str) -> list[SettlementFile] | None:
        pf = PlatformSettlementFile.objects.select_related("uploaded_by").get(pk=platform_file_id)
        data = bytes(PlatformSettlementFile.objects.filter(pk=pf.pk).values_list("data", flat=True)[0])
        table = _open(data)
        others: list[Row] = []
        rows = read_settlement_rows(table, pf.month, others)
        if not (table.has("institution_code") or table.has("institution_name")):
            raise ClaimsError("平台结算明细须有“就诊医疗机构名称”或“医疗机构编码”列，才能按机构拆分；"
                              "单个机构的结算文件请选择医疗机构后上传。")
        digest = content_digest(pf.month, rows + others)
        with transaction.atomic():
            if not jobs.still_mine(PlatformSettlementFile, pf.pk, token):
                return None
            same = (PlatformSettlementFile.objects.defer("data").select_related("uploaded_by")
                    .filter(month=pf.month, content_sha256=digest).exclude(pk=pf.pk)
                    .exclude(status=PlatformSettlementFile.Status.FAILED).order_by("pk").first())
            if same is not None:
                raise ClaimsError(
                    f"该平台结算明细的{len(rows):,}行与{timezone.localtime(same.uploaded_at):%Y-%m-%d %H:%M}由{same.uploaded_by}"
                    f"导入的第{same.pk}号平台结算明细“{same.file_name}”（{same.month:%Y年%m月}）内容完全相同，不会重复导入和支付。")
            pf.content_sha256, pf.reading, pf.lines_total = digest, table.reading, len(rows)
            pf.other_periods = other_periods(others)
            pf.save(update_fields=["content_sha256", "reading", "lines_total", "other_periods"])
            files = _split(pf, rows, pf.uploaded_by)
            jobs.done(PlatformSettlementFile, pf.pk, token, error="")
            if queue_parts:
                from .tasks import settlement_import

                for f in files:
                    transaction.on_commit(lambda pk=f.pk: settlement_import.delay(pk, pf.uploaded_by_id))
        return files

    return jobs.run(PlatformSettlementFile, platform_file_id, work)


def platform_file_upload(*, month: date, file_name: str, data: bytes, user) -> tuple[PlatformSettlementFile, list[SettlementFile]]:
    """Queue and run at once in this process (the demo data, tests): the page's job, the parts left
    QUEUED for the caller to import. A refusal raises (the row is left failed with the reason)."""
    pf = platform_file_queue(month=month, file_name=file_name, data=data, user=user, send=False)
    files = platform_file_run(platform_file_id=pf.pk, queue_parts=False) or []
    pf.refresh_from_db()
    return pf, files


def platform_file_resplit(*, platform_file_id: int, user, send: bool = True) -> PlatformSettlementFile:
    """The page's "重新拆分" after the administrator added institutions: the file goes back to the
    queue and its job reads it again (never in the request: the file may be hundreds of MB), storing
    and importing the parts of the institutions now known; those split before are left alone. Who
    asked is in the audit trail; the new parts are the uploader's, as the first ones."""
    from yfbz.core.audit import audit_bulk

    _check_clerk(user)
    with transaction.atomic():
        pf = PlatformSettlementFile.objects.defer("data").select_for_update().get(pk=platform_file_id)
        if pf.status != PlatformSettlementFile.Status.DONE:
            raise ClaimsError(f"平台结算明细“{pf.file_name}”{pf.get_status_display()}，拆分完成后才能重新拆分。")
        workflow.transition(pf, PlatformSettlementFile.Status.QUEUED, by=user, reason="重新拆分",
                            also={"job_tries": 0, "job_token": "", "error": ""})
        audit_bulk(actor=user, what="重新拆分", summary={"待添加机构": len(pf.unknown)}, obj=pf)
        if send:
            transaction.on_commit(lambda: jobs.send(PlatformSettlementFile, pf.pk))
    pf.refresh_from_db()
    return pf


def platform_file_split(*, platform_file_id: int, user) -> list[SettlementFile]:
    """Split again in this process (tests, the demo): the page's move, then the job at once; the
    parts now known are returned QUEUED for the caller to import."""
    platform_file_resplit(platform_file_id=platform_file_id, user=user, send=False)
    return platform_file_run(platform_file_id=platform_file_id, queue_parts=False) or []


def unknown_institutions(limit: int = 20) -> list[dict]:
    """The institutions named by recent platform files that we do not know, with the file waiting on
    them (for the settlement page and the administrator)."""
    out = []
    for pf in PlatformSettlementFile.objects.defer("data").exclude(unknown=[])[:limit]:
        for u in pf.unknown:
            out.append({**u, "advanced": Decimal(u["advanced"]), "file": pf})
    return out



def other_period_lines(limit: int = 20) -> list[dict]:
    """Recent platform files' lines of another 清算期 than the file's month (for the settlement page)."""
    out = []
    for pf in PlatformSettlementFile.objects.defer("data").exclude(other_periods=[])[:limit]:
        for o in pf.other_periods:
            out.append({**o, "advanced": Decimal(o["advanced"]), "file": pf})
    return out
