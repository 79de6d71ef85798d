"""One-stop settlement audit (一站式结算, 2号 三(三)): an institution's monthly file of settlements in
which it advanced the assistance is imported, every line decided again by the engine against the
database (identities on that date, caps used), and sorted into agreed and disputed lines.

- The same bytes are never imported twice (``SettlementFile.sha256`` unique); a line already
  imported for the institution (same 结算编号) is a DUPLICATE line and pays nothing
  (``settlement_line_once`` unique constraint on the non-duplicate lines).
- A file with a malformed line is refused whole, with every error naming the row and the field;
  nothing is half-imported (one transaction).
- Bulk path: people, identities, earlier lines and cap rows are read once per file (chunks of
  5,000); the engine runs in memory; lines are written with bulk_create and the cap rows with
  bulk_update, with one audit entry per bulk operation.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone

from beneficiaries.models import Category, CategoryAlias, Town
from yfbz.core import jobs
from yfbz.core.display import money
from yfbz.core.roles import Role
from yfbz.core.workflow import transition
from yfbz.files.cells import (
    DATE_FORMATS_ZH,
    MONTH_FORMATS_ZH,
    id_number_text,
    parse_amount,
    parse_date,
    parse_month,
)
from yfbz.files.formats import SETTLEMENT
from yfbz.files.reader import FileUnreadable, Table, cell_text, normalise_text, read_table
from yfbz.policy.inputs import (
    bill_for_engine,
    decide_bill,
    person_for_engine,
    persons_for_engine_by_id_number,
)
from yfbz.policy.selectors import policy_book
from yfbz.rules import SCHEME_ZH, Reason
from yfbz.rules.idcard import IdNumberError, parse_id_number

from . import caps
from .bulk import insert_rows
from .models import (
    ZERO,
    Adjustment,
    Bill,
    Institution,
    SettlementFile,
    SettlementFilePart,
    SettlementLine,
    SettlementMonth,
)
from .services import ClaimsError, log_bulk

L = SettlementLine
CHUNK = 5000

LABEL = SETTLEMENT.labels  # column → the header our template writes (docs/files.md)
KINDS = {"住院": "INPATIENT", "门诊": "OUTPATIENT", "INPATIENT": "INPATIENT", "OUTPATIENT": "OUTPATIENT"}
MAX_ERRORS = 50


def kind_of(text: str) -> str | None:
    """住院 / 门诊 as our template writes them, or the platform's 医保就诊类别 (普通住院, 普通门诊,
    门诊特殊疾病, 门诊慢特病 …): a wording holding 住院 is a stay, one holding 门诊 or 门特 a visit."""
    text = "".join(text.split()).upper()
    if text in KINDS:
        return KINDS[text]
    if "住院" in text:
        return "INPATIENT"
    if "门诊" in text or "门特" in text:
        return "OUTPATIENT"
    return None


class SettlementFileError(ClaimsError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        more = f"（另有{len(errors) - 10}处错误未列出）" if len(errors) > 10 else ""
        super().__init__("文件未导入：" + "；".join(errors[:10]) + more)


@dataclass(slots=True)
class Row:
    line_no: int
    settlement_no: str
    id_number: str
    name: str
    kind: str
    disease: str
    admitted_on: date | None
    settled_on: date
    total_cost: Decimal
    in_policy_cost: Decimal
    basic_paid: Decimal
    critical_paid: Decimal
    advanced: Decimal
    large_paid: Decimal = ZERO  # 职工大额医疗保险 (大额报销金额): a layer before assistance
    tilted_paid: Decimal = ZERO  # 倾斜救助: assistance paid outside our schemes, recorded and shown
    institution_code: str = ""
    institution_name: str = ""
    period: date | None = None  # the platform's 清算期 (first day of the month) when the file has it
    platform_identity: str = ""  # the platform's 救助身份, compared with ours on the settlement date


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


# --- reading (through the one reader, yfbz.files: docs/files.md) ---------------------------------
def _open(data: bytes) -> Table:
    try:
        return read_table(data, SETTLEMENT)
    except FileUnreadable as exc:
        raise SettlementFileError([str(exc)]) from None


def read_settlement_rows(table: Table, month: date, other_periods: list[Row] | None = None) -> list[Row]:
    """Parse and check every line of an opened settlement table (an institution's file or the city
    platform's settlement detail). Raises SettlementFileError listing each bad row and field, named
    by the spreadsheet's row number and the file's own header.

    **清算期** (the platform's settlement month of a line), when the file has it, says which month a
    line belongs to: a line of the month may have been settled before it (a stay settled on 2 月 27 日
    and cleared in 3 月), never after it. A line of another 清算期 is never mixed into the month: it is
    collected in ``other_periods`` when the caller passes that list (the platform's detail lists them
    on the upload), else it is an error naming the row."""
    col = table.columns
    errors: list[str] = []
    rows: list[Row] = []
    has_period = "clearing_period" in col
    for n, raw in table.rows:
        def cell(key, raw=raw):
            i = col.get(key)
            return raw[i] if i is not None and i < len(raw) else None

        def text(key, raw=raw):
            return normalise_text(cell_text(cell(key, raw)))

        def where(key, n=n):
            return f"第{n}行“{table.header_of(key)}”"

        def day(key, required, n=n):
            try:
                d = parse_date(cell(key))
            except ValueError as exc:
                errors.append(f"{where(key)}：日期格式错误“{exc}”（应为{DATE_FORMATS_ZH}）")
                return None
            if d is None and required:
                errors.append(f"{where(key)}：缺少日期")
            return d

        def amount(key, required):
            try:
                d = parse_amount(cell(key))
            except ValueError as exc:
                errors.append(f"{where(key)}：{exc}")
                return ZERO
            if d is None:
                if required:
                    errors.append(f"{where(key)}：缺少金额")
                return ZERO
            return d

        kind_raw = text("kind")
        kind = kind_of(kind_raw)
        if kind is None:
            errors.append(f"{where('kind')}：应为“住院”或“门诊”（或平台的普通住院、门诊慢特病等），不是“{kind_raw}”")
        settled = day("settled_on", True)
        period = None
        if has_period:
            try:
                period = parse_month(cell("clearing_period"))
            except ValueError as exc:
                errors.append(f"{where('clearing_period')}：清算期格式错误“{exc}”（应为{MONTH_FORMATS_ZH}）")
        if period is not None:
            if settled and settled > month_end(period):
                errors.append(f"{where('settled_on')}：{settled}晚于清算期{period:%Y年%m月}")
            elif period != month and other_periods is None:
                errors.append(f"{where('clearing_period')}：清算期为{period:%Y年%m月}，不是本次导入的{month:%Y年%m月}，"
                              "不能混入本月；请在该月导入")
        elif settled and (settled.year, settled.month) != (month.year, month.month):
            errors.append(f"{where('settled_on')}：{settled}不在{month:%Y年%m月}")
        admitted = day("admitted_on", False)
        if admitted and settled and admitted > settled:
            errors.append(f"{where('admitted_on')}：入院日期晚于结算日期")
        inpol = amount("in_policy_cost", True)
        total = amount("total_cost", False) or inpol
        basic = amount("basic_paid", True)
        crit = amount("critical_paid", False)
        large = amount("large_paid", False)
        adv = amount("advanced", True)
        tilted = amount("tilted_paid", False)
        if inpol > total:
            errors.append(f"{where('in_policy_cost')}：{inpol}大于医疗总费用{total}")
        if basic + crit + large > inpol:
            named = "基本医保与大病保险" + ("、职工大额医疗保险" if large else "")
            errors.append(f"{where('basic_paid')}：{named}之和{basic + crit + large}大于政策范围内费用{inpol}")
        sno = text("settlement_no")
        if not sno:
            errors.append(f"{where('settlement_no')}：缺少结算编号")
        try:
            idn = id_number_text(cell("id_number"))
        except ValueError as exc:
            errors.append(f"{where('id_number')}：{exc}")
            idn = ""
        else:
            if not idn:
                errors.append(f"{where('id_number')}：缺少公民身份号码")
        for f in ("settlement_no", "id_number", "name", "disease"):
            if "\x00" in cell_text(cell(f)):
                errors.append(f"{where(f)}：含有无法保存的空字符（NUL），请核对文件")
        # never silently cut (issue 9)
        for f, limit in (("settlement_no", 60), ("id_number", 40), ("name", 50), ("disease", 60),
                         ("institution_code", 30), ("institution_name", 120), ("platform_identity", 40)):
            if len(text(f)) > limit:
                errors.append(f"{where(f)}：超过{limit}个字符（共{len(text(f))}个），请核对")
        if len(errors) >= MAX_ERRORS:
            break
        line_no = n
        if "source_row" in col:  # a part split from the platform's detail keeps the platform file's rows
            try:
                line_no = int(text("source_row"))
            except ValueError:
                errors.append(f"{where('source_row')}：应为行号，不是“{text('source_row')}”")
        if settled is not None and kind is not None:
            row = Row(line_no, sno[:60], idn[:40], text("name")[:50], kind, text("disease")[:60], admitted,
                      settled, total, inpol, basic, crit, adv, large, tilted, text("institution_code")[:30],
                      text("institution_name")[:120], period, text("platform_identity")[:40])
            if period is None or period == month:
                rows.append(row)
            elif other_periods is not None:
                other_periods.append(row)
    if errors:
        raise SettlementFileError(errors)
    if not rows:
        if other_periods:
            months = "、".join(sorted({f"{r.period:%Y年%m月}" for r in other_periods}))
            raise SettlementFileError([f"文件中没有清算期为{month:%Y年%m月}的结算（{len(other_periods)}行的清算期为{months}），"
                                       "请核对所选月份"])
        raise SettlementFileError(["文件中没有结算数据"])
    return rows


def read_settlement_file(data: bytes, file_name: str, month: date) -> list[Row]:
    """Parse and check every line. Raises SettlementFileError listing each bad row and field."""
    return read_settlement_rows(_open(data), month)


# --- the platform's 救助身份 compared with ours on the settlement date -------------------------------
def _wording_key(text: str) -> str:
    return "".join(normalise_text(text or "").split())


def identity_wordings() -> dict[str, str]:
    """救助身份 wording → our category code: the category names and codes, and the rosters' category
    wordings (类别写法, editable by the administrator)."""
    out: dict[str, str] = {}
    for wording, code in CategoryAlias.objects.values_list("wording", "category__code"):
        out.setdefault(_wording_key(wording), code)
    for name, code in Category.objects.values_list("name", "code"):
        out[_wording_key(name)] = code
        out[_wording_key(code)] = code
    return out


def identity_note(platform: str, ours: tuple[str, ...], on: date, wordings: dict[str, str], names: dict[str, str]) -> str:
    """Empty when the platform's 救助身份 is one we hold on the settlement date; else why not, in words."""
    mapped = wordings.get(_wording_key(platform))
    ours_zh = "、".join(names.get(c, c) for c in ours)
    if mapped is None:
        return (f"平台救助身份“{platform}”对应不上我方的身份类别（可由系统管理员在“类别写法”中添加）；"
                + (f"我方结算日（{on}）身份为“{ours_zh}”" if ours else f"按我方记录结算日（{on}）没有救助身份"))
    if mapped in ours:
        return ""
    if not ours:
        return f"平台救助身份为“{platform}”，但按我方记录此人结算日（{on}）没有救助身份"
    return f"平台救助身份为“{platform}”，我方结算日（{on}）身份为“{ours_zh}”"


# --- uploading and importing ---------------------------------------------------------------------
def settlement_file_upload(*, institution: Institution, month: date, file_name: str, data: bytes, user) -> SettlementFile:
    """Store the file (once: the same bytes twice are refused) in its institution-month, QUEUED for
    ``settlement_file_import`` (tasks.settlement_import queues it after commit)."""
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise ClaimsError("只有区医保经办人员可以导入一站式结算文件。")
    month = month.replace(day=1)
    sha = hashlib.sha256(data).hexdigest()
    try:
        return _store_file(institution, month, file_name, data, sha, user)
    except IntegrityError:  # the same bytes sent twice at the same moment: the second is refused, not a 500
        raise ClaimsError("同一文件刚刚已由另一次上传导入（两次同时上传了相同的文件），不会重复导入和支付。") from None


def _store_file(institution, month, file_name, data, sha, user, reason: str = "上传") -> SettlementFile:
    with transaction.atomic():
        earlier = SettlementFile.objects.filter(sha256=sha).select_related("settlement_month__institution").first()
        if earlier is not None:
            raise ClaimsError(
                f"该文件已于{timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M}导入"
                f"（{earlier.settlement_month}，文件{earlier.pk}），不会重复导入和支付。"
            )
        sm, _ = SettlementMonth.objects.get_or_create(institution=institution, month=month)
        sm = SettlementMonth.objects.select_for_update().get(pk=sm.pk)
        if sm.status != SettlementMonth.Status.OPEN:
            raise ClaimsError(f"{sm}已{sm.get_status_display()}，不能再导入文件。")
        f = SettlementFile.objects.create(settlement_month=sm, file_name=file_name[:200], data=data, sha256=sha, uploaded_by=user)
        jobs.queue(f, by=user, reason=reason)
        return f


def _dispute(d, advanced: Decimal) -> tuple[str, str]:
    reasons = set(d.reasons)
    if d.scheme is None and reasons & {Reason.NO_IDENTITY_ON_DATE, Reason.NO_SCHEME_FOR_IDENTITY}:
        return L.Dispute.NOT_ELIGIBLE, "；".join(Reason(r).zh for r in d.reasons if r < 120)
    if reasons & {Reason.CAP_USED_UP, Reason.CAP_LIMITED} and advanced > d.amount:
        return L.Dispute.CAP_EXCEEDED, f"年度限额剩余{d.cap_left_before}元，核定{d.amount}元，垫付{advanced}元"
    ratio = f"{d.ratio:.2%}" if d.ratio is not None else "—"
    return L.Dispute.WRONG_RATIO, f"核定比例{ratio}，核定{d.amount}元，垫付{advanced}元"


def _decided_bills(institution_id: int, person_ids: list[int]) -> dict[tuple, tuple[int, str]]:
    """Hand-settled bills of these people at this institution whose money is decided (approved, paid,
    or the old system's), by (person, settled on, admitted on, in-policy cost)."""
    from .services import DECIDED_FOR_GOOD

    out = {}
    for i in range(0, len(person_ids), CHUNK):
        for b in Bill.objects.filter(institution_id=institution_id, person_id__in=person_ids[i : i + CHUNK],
                                     status__in=DECIDED_FOR_GOOD).order_by("pk"):
            out.setdefault((b.person_id, b.settled_on, b.admitted_on, b.in_policy_cost), (b.pk, b.get_status_display()))
    return out


# --- the audit, spread over workers (issue 14) ------------------------------------------------------
# The coordinator (``settlement_file_import``, the file's job) reads and checks every line, finds the
# duplicates of 结算编号 under the institution's lock, finds each line's person and cuts the file into
# parts by person (``SettlementFilePart``: all lines of a person in one part). A Celery chord of
# ``claims.settlement_part`` tasks decides the parts on whichever workers are free — each part's lines,
# cap additions and its "done" commit together — and ``claims.settlement_merge`` adds the parts up on
# the file and marks it imported, once. Without a broker (tasks inline) the coordinator runs the parts
# and the last step itself, in its own transaction: nothing is written unless everything is.
ROW_FIELDS = tuple(Row.__slots__)
_DATES = {"admitted_on", "settled_on", "period"}
_MONEY = {"total_cost", "in_policy_cost", "basic_paid", "critical_paid", "advanced", "large_paid", "tilted_paid"}


def _row_json(r: Row, duplicate: bool) -> list:
    """A line as read, for its part (JSON): dates as ISO text, amounts as text (exact), in ROW_FIELDS order."""
    return [r.line_no, r.settlement_no, r.id_number, r.name, r.kind, r.disease,
            r.admitted_on.isoformat() if r.admitted_on else None, r.settled_on.isoformat(), str(r.total_cost),
            str(r.in_policy_cost), str(r.basic_paid), str(r.critical_paid), str(r.advanced), str(r.large_paid),
            str(r.tilted_paid), r.institution_code, r.institution_name, r.period.isoformat() if r.period else None,
            r.platform_identity, duplicate]


def _row_of(values: list) -> tuple[Row, bool]:
    kw = {}
    for name, v in zip(ROW_FIELDS, values[: len(ROW_FIELDS)], strict=True):
        if v is not None and name in _DATES:
            v = date.fromisoformat(v)
        elif name in _MONEY:
            v = Decimal(v)
        kw[name] = v
    return Row(**kw), bool(values[len(ROW_FIELDS)])


def _part_lines() -> int:
    from django.conf import settings

    return max(1, int(getattr(settings, "SETTLEMENT_PART_LINES", 10000)))


def _inline() -> bool:
    from yfbz.celery import app

    return bool(app.conf.task_always_eager)


def _numbers_imported(institution_id: int, numbers: list[str], *, files: list[int] | None = None) -> set[str]:
    """The 结算编号 among ``numbers`` already imported for the institution (a non-duplicate line; only in
    ``files`` when given), in one statement: the numbers as an array joined to the lines (``= ANY(array)``
    was planned as a filter comparing every line with every number: 35 s for 20,000 lines; a
    20,000-placeholder IN list costs seconds to build and parse)."""
    if not numbers:
        return set()
    if connection.vendor != "postgresql":
        qs = L.objects.filter(institution_id=institution_id, duplicate=False)
        if files is not None:
            qs = qs.filter(file_id__in=files)
        return _already_imported_in(qs, numbers)
    sql = (f'SELECT l.settlement_no FROM unnest(%s::text[]) AS n(no) JOIN "{L._meta.db_table}" l '
           "ON l.institution_id = %s AND NOT l.duplicate AND l.settlement_no = n.no")
    params: list = [numbers, institution_id]
    if files is not None:
        sql += " AND l.file_id = ANY(%s)"
        params.append(files)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {r[0] for r in cur.fetchall()}


def _already_imported_in(qs, numbers: list[str]) -> set[str]:
    seen: set[str] = set()
    for i in range(0, len(numbers), CHUNK):
        seen.update(qs.filter(settlement_no__in=numbers[i : i + CHUNK]).values_list("settlement_no", flat=True))
    return seen


def _person_ids(numbers: list[str]) -> dict[str, int]:
    from beneficiaries.models import Person

    if connection.vendor != "postgresql":
        out = {}
        for i in range(0, len(numbers), CHUNK):
            out.update(Person.objects.filter(id_number__in=numbers[i : i + CHUNK]).values_list("id_number", "pk"))
        return out
    with connection.cursor() as cur:
        cur.execute(f'SELECT id_number, id FROM "{Person._meta.db_table}" WHERE id_number = ANY(%s)', [numbers])
        return dict(cur.fetchall())


def settlement_file_import(*, file_id: int, user=None, inline: bool | None = None) -> SettlementFile | None:
    """Import a QUEUED file (yfbz.core.jobs: claimed, and failed with the reason in Chinese on any
    error; a second call while it runs, or after it is done, does nothing and returns None). On a bad
    file: FAILED with the errors, no lines. With workers: the parts are sent as a chord and None is
    returned (the last step marks the file imported); inline (no broker, or ``inline=True``: the demo,
    the one-process bench): every part here, and the file, imported."""

    def work(token: str) -> SettlementFile | None:
        inline = _inline() if inline_arg is None else inline_arg
        with transaction.atomic():
            if not jobs.still_mine(SettlementFile, file_id, token):
                return None
            if not SettlementFilePart.objects.filter(file_id=file_id).exists():  # a rerun keeps the parts it has
                f = SettlementFile.objects.select_related("settlement_month").get(pk=file_id)
                rows = read_settlement_file(bytes(f.data), f.file_name, f.settlement_month.month)
                busy = _plan_parts(f, rows, inline=inline)
                if busy:
                    return _wait_for(busy, file_id, token)
            todo = list(SettlementFilePart.objects.filter(file_id=file_id, done_at__isnull=True)
                        .order_by("index").values_list("pk", flat=True))
            if inline:
                for pk in todo:
                    _part_work(pk, token, user)
                _merge_work(file_id, token, user)
            else:
                transaction.on_commit(lambda: _send_parts(file_id, todo, token))
        if not inline:
            return None
        return SettlementFile.objects.get(pk=file_id)

    inline_arg = inline
    return jobs.run(SettlementFile, file_id, work)


def _send_parts(file_id: int, part_ids: list[int], token: str) -> None:
    from celery import chord

    from .tasks import settlement_merge, settlement_part

    if part_ids:
        chord(settlement_part.si(pk, token) for pk in part_ids)(settlement_merge.si(file_id, token))
    else:
        settlement_merge.delay(file_id, token)


def _wait_for(busy: SettlementFile, file_id: int, token: str) -> None:
    """Another file of the institution is being decided in parts: its lines are not all written, so
    this file's 结算编号 cannot be told new or duplicate yet. The file goes back to the queue (the claim
    not counted as a try) and is sent again in a few seconds."""
    from .tasks import settlement_import

    jobs.requeue(SettlementFile, file_id, token, f"等待同一机构的文件“{busy.file_name}”导入完成后再导入",
                 job_tries=F("job_tries") - 1)
    transaction.on_commit(lambda: settlement_import.apply_async((file_id,), countdown=2))
    return None


def _plan_parts(f: SettlementFile, rows: list[Row], *, inline: bool) -> SettlementFile | None:
    """Under the institution's lock: which lines are duplicates by 结算编号, whose each line is, and the
    parts (all of a person's lines in one; about SETTLEMENT_PART_LINES lines each). Returns another
    file of the institution still being decided in parts (then nothing is planned) or None."""
    # one institution's files are told apart one at a time: two months' files carrying the same 结算编号
    # imported at once would otherwise both see it as new (the second now waits and finds it a duplicate)
    inst = Institution.objects.select_for_update().get(pk=f.settlement_month.institution_id)
    sm = SettlementMonth.objects.select_for_update().get(pk=f.settlement_month_id)
    if sm.status != SettlementMonth.Status.OPEN:
        raise ClaimsError(f"{sm}已{sm.get_status_display()}，不能再导入文件。")
    if not inline:
        others = (SettlementFile.objects.filter(settlement_month__institution_id=inst.pk, status=SettlementFile.Status.RUNNING,
                                                parts__done_at__isnull=True).exclude(pk=f.pk).distinct())
        for other in others:
            if jobs.alive(other):
                return other
    existing = _numbers_imported(inst.pk, sorted({r.settlement_no for r in rows}))
    pids = _person_ids(sorted({r.id_number for r in rows}))
    seen: set[str] = set()
    groups: dict[tuple, list] = defaultdict(list)
    for r in rows:
        dup = r.settlement_no in existing or r.settlement_no in seen
        if not dup:
            seen.add(r.settlement_no)
        pid = pids.get(r.id_number)
        groups[(0, pid, "") if pid is not None else (1, 0, r.id_number)].append(_row_json(r, dup))
    size = _part_lines()
    parts, current = [], []
    for key in sorted(groups):
        current.extend(groups[key])
        if len(current) >= size:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    # by COPY (bulk_create sends the JSON as arrays through UNNEST: seconds of escaping for 200,000 lines)
    insert_rows(SettlementFilePart, [{"file_id": f.pk, "index": i, "rows": p, "lines": len(p)} for i, p in enumerate(parts)])
    return None


def _file_held_by(file_id: int, token: str) -> bool:
    """Inside a part's transaction: the file is still claimed by ``token`` (its row locked FOR KEY SHARE:
    parts of a file do not wait for each other, a new claim waits for the parts in flight)."""
    return jobs.still_mine_shared(SettlementFile, file_id, token)


def settlement_part_run(*, part_id: int, token: str) -> bool:
    """A worker decides one part (the task ``claims.settlement_part``). Idempotent: a part done, or of a
    file no longer claimed by ``token`` (failed, rerun), is left alone; a second delivery waits for the
    first on the part's row and then finds it done. A part tried ``jobs.MAX_TRIES`` times (it kills its
    worker) fails the file; any error fails the file with the reason in Chinese and "重新运行" then
    decides only the parts not done."""
    part = SettlementFilePart.objects.filter(pk=part_id).values("file_id", "index", "done_at").first()
    if part is None or part["done_at"] is not None:
        return False
    file_id = part["file_id"]
    if not SettlementFile.objects.filter(pk=file_id, status=SettlementFile.Status.RUNNING, job_token=token).exists():
        return False
    with jobs.helping(SettlementFile, file_id, token):  # the file is alive while its parts work
        SettlementFilePart.objects.filter(pk=part_id, done_at__isnull=True).update(tries=F("tries") + 1)
        tries = SettlementFilePart.objects.filter(pk=part_id).values_list("tries", flat=True).first() or 0
        try:
            if tries > jobs.MAX_TRIES:
                raise ClaimsError(f"第{part['index'] + 1}段（共若干段）已尝试{jobs.MAX_TRIES}次仍未完成（处理时工作进程异常退出），"
                                  "请联系系统管理员核查后重新运行。")
            return _part_work(part_id, token, None)
        except Exception as exc:  # noqa: BLE001 — recorded on the file in Chinese, offered "重新运行"
            jobs.fail(SettlementFile, file_id, token, exc)
            return False


def _part_work(part_id: int, token: str, user) -> bool:
    """Decide one part in one transaction: its lines written, its agreed amounts added to the caps
    (locked in the fixed order), the part marked done — together or not at all."""
    with transaction.atomic():
        part = SettlementFilePart.objects.select_for_update().get(pk=part_id)
        if part.done_at is not None or not _file_held_by(part.file_id, token):
            return False
        f = SettlementFile.objects.select_related("settlement_month").get(pk=part.file_id)
        sm = SettlementMonth.objects.raw(
            f'SELECT * FROM "{SettlementMonth._meta.db_table}" WHERE id = %s FOR SHARE', [f.settlement_month_id]
        )[0] if connection.vendor == "postgresql" else SettlementMonth.objects.get(pk=f.settlement_month_id)
        if sm.status != SettlementMonth.Status.OPEN:
            raise ClaimsError(f"{sm}已{sm.get_status_display()}，不能再导入文件。")
        rows = [_row_of(v) for v in part.rows]
        stats = _import_rows(f, sm, rows, user or f.uploaded_by)
        for k, v in stats.items():
            setattr(part, k, v)
        part.done_at = timezone.now()
        part.save(update_fields=[*stats, "done_at"])
        return True


def settlement_merge_run(*, file_id: int, token: str) -> bool:
    """The last step (``claims.settlement_merge``): once every part is done, add them up on the file and
    mark it imported — once, under the token that sent the parts (a failed part has failed the file
    already; a rerun sends its own last step)."""
    try:
        with jobs.helping(SettlementFile, file_id, token):
            return _merge_work(file_id, token, None)
    except Exception as exc:
        text = jobs.fail(SettlementFile, file_id, token, exc)
        raise jobs.JobError(text) from exc


def _merge_work(file_id: int, token: str, user) -> bool:
    with transaction.atomic():
        if not jobs.still_mine(SettlementFile, file_id, token):
            return False
        parts = SettlementFilePart.objects.filter(file_id=file_id)
        if parts.filter(done_at__isnull=True).exists():
            return False
        s = parts.aggregate(t=Sum("lines"), a=Sum("lines_agreed"), d=Sum("lines_disputed"), adv=Sum("advanced_total"),
                            agr=Sum("agreed_total"), c=Sum("caps_changed"))
        jobs.done(SettlementFile, file_id, token, lines_total=s["t"] or 0, lines_agreed=s["a"] or 0,
                  lines_disputed=s["d"] or 0, advanced_total=s["adv"] or ZERO, agreed_total=s["agr"] or ZERO, error="")
        f = SettlementFile.objects.get(pk=file_id)
        parts.update(rows=[])  # the lines are in the table now
        log_bulk(f, user or f.uploaded_by, {
            "导入明细行": f.lines_total, "无异议": f.lines_agreed, "有异议": f.lines_disputed,
            "无异议合计": str(f.agreed_total), "更新年度限额行": s["c"] or 0, "分段": parts.count(),
        })
        return True


def _import_rows(f: SettlementFile, sm: SettlementMonth, rows: list[tuple[Row, bool]], user) -> dict:
    """Decide one part's lines (every line of its people) in date order against the locked caps and write
    them. Returns the part's figures."""
    inst = f.settlement_month.institution
    # a file of the institution planned after this one (this one's rerun after a failure came later) may
    # have taken some of these numbers: then these lines are duplicates
    mine = SettlementFilePart.objects.filter(file_id=f.pk).aggregate(m=Max("pk"))["m"] or 0
    later = sorted(set(SettlementFilePart.objects.filter(file__settlement_month__institution_id=inst.pk, pk__gt=mine)
                       .exclude(file_id=f.pk).values_list("file_id", flat=True)))
    numbers = sorted({r.settlement_no for r, dup in rows if not dup})
    taken = _numbers_imported(inst.pk, numbers, files=later) if later else set()
    people = persons_for_engine_by_id_number({r.id_number for r, _ in rows})
    by_bill = _decided_bills(inst.pk, sorted({people[r.id_number][0] for r, _ in rows if r.id_number in people}))
    pairs = {(people[r.id_number][0], r.settled_on.year) for r, _ in rows if r.id_number in people}
    ledger = caps.lock(pairs)
    # a working copy: every line decided counts for the next ones of the file; only agreed lines are added
    used: dict[tuple[int, int], dict[str, Decimal]] = {pair: ledger.used(*pair) for pair in pairs}
    agreed_add: dict[tuple[int, int, str], Decimal] = defaultdict(lambda: ZERO)
    book = policy_book()
    town_ids = dict(Town.objects.values_list("code", "pk"))
    wordings = identity_wordings() if any(r.platform_identity for r, _ in rows) else {}
    cat_names = dict(Category.objects.values_list("code", "name")) if wordings else {}
    lines: list[dict] = []
    common = {"file_id": f.pk, "settlement_month_id": sm.pk, "institution_id": inst.pk}
    for r, dup in sorted(rows, key=lambda x: (x[0].settled_on, x[0].line_no)):
        line = {
            **common, "line_no": r.line_no, "settlement_no": r.settlement_no, "id_number": r.id_number, "name": r.name,
            "kind": r.kind, "disease": r.disease, "admitted_on": r.admitted_on, "settled_on": r.settled_on,
            "total_cost": r.total_cost, "in_policy_cost": r.in_policy_cost, "basic_paid": r.basic_paid,
            "critical_paid": r.critical_paid, "large_paid": r.large_paid, "tilted_paid": r.tilted_paid,
            "advanced": r.advanced, "outcome": L.Outcome.DISPUTED.value,
            "difference": r.advanced, "platform_identity": r.platform_identity,
        }
        lines.append(line)
        if dup or r.settlement_no in taken:
            line.update(duplicate=True, dispute=L.Dispute.DUPLICATE.value,
                        dispute_text=f"结算编号{r.settlement_no}已导入过，不重复支付")
            continue
        p = people.get(r.id_number)
        if p is None:
            line["dispute"] = L.Dispute.UNKNOWN_PERSON.value
            try:
                parse_id_number(r.id_number)
                line["dispute_text"] = "系统中没有此公民身份号码的人员"
            except IdNumberError as exc:
                line["dispute_text"] = f"公民身份号码有误：{exc}"
            continue
        pid, person = p
        line["person_id"] = pid
        line["town_id"] = town_ids.get(person.town_on(r.settled_on))  # the town the line is decided under
        if r.platform_identity:
            line["identity_note"] = identity_note(r.platform_identity, person.categories_on(r.settled_on), r.settled_on,
                                                  wordings, cat_names)
        bill = by_bill.get((pid, r.settled_on, r.admitted_on, r.in_policy_cost))
        if bill is not None:  # decided already as a hand-settled bill (issue 10, finding 3): not paid twice
            line.update(dispute=L.Dispute.DUPLICATE.value,
                        dispute_text=f"与手工报销票据{bill[0]}（{bill[1]}）相同，已核定，不重复支付")
            continue
        bill = bill_for_engine(r, institution=inst, ref=r.settlement_no)
        u = used[(pid, r.settled_on.year)]
        d, _ = decide_bill(person, bill, u, book=book)
        scheme = str(d.scheme) if d.scheme is not None else ""
        if scheme and d.amount:
            u[scheme] = u.get(scheme, ZERO) + d.amount
        line.update(scheme=scheme, category=d.category or "", ratio=d.ratio, decided=d.amount,
                    difference=r.advanced - d.amount, reasons=[int(x) for x in d.reasons],
                    policy_version=d.policy_version)
        if d.amount == r.advanced:
            line.update(outcome=L.Outcome.AGREED.value, payable=r.advanced)
            if scheme and d.amount:
                agreed_add[(pid, r.settled_on.year, scheme)] += d.amount
        else:
            line["dispute"], line["dispute_text"] = _dispute(d, r.advanced)
    insert_rows(L, lines)
    changed = ledger.add_many(agreed_add)
    agreed = [x for x in lines if x["outcome"] == L.Outcome.AGREED]
    return {
        "lines_agreed": len(agreed), "lines_disputed": len(lines) - len(agreed),
        "advanced_total": sum((x["advanced"] for x in lines), ZERO),
        "agreed_total": sum((x["payable"] for x in agreed), ZERO), "caps_changed": changed,
    }


# --- settling disputes and confirming the month ---------------------------------------------------
def _check_reviewer(user, sm: SettlementMonth) -> None:
    if not (user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER)):
        raise ClaimsError("只有区医保审核人员可以处理有异议的结算。")
    if sm.files.filter(uploaded_by=user).exists():
        raise ClaimsError("导入该月结算文件的人员不能处理异议或确认（经办与审核分离）。")


def settlement_line_resolve(*, line_id: int, user, resolution: str, note: str = "") -> SettlementLine:
    """A reviewer settles a disputed line: pay the engine's amount, pay what the institution
    advanced (a written reason required), or pay nothing. Duplicates and unknown people pay nothing.
    A line of a month already confirmed that a retroactive identity change disputed again may be
    settled too: the difference to what the institution was due is recovered from it or topped up."""
    if resolution not in (L.Resolution.ENGINE, L.Resolution.ADVANCED, L.Resolution.NONE):
        raise ClaimsError("请选择处理结果。")
    with transaction.atomic():
        line = L.objects.select_related("settlement_month").get(pk=line_id)
        sm = SettlementMonth.objects.select_for_update().get(pk=line.settlement_month_id)
        line = L.objects.select_for_update().get(pk=line_id)
        _check_reviewer(user, sm)
        reopened = line.prior_payable is not None
        if sm.status != SettlementMonth.Status.OPEN and not reopened:
            raise ClaimsError(f"{sm}已确认，不能再处理。")
        if line.outcome != L.Outcome.DISPUTED or line.resolution:
            raise ClaimsError(f"第{line.line_no}行不是待处理的异议行。")
        from yfbz.core.scoping import check_in_area

        check_in_area(user, name=line.name, town_id=line.town_id, on=line.settled_on, what="处理一站式结算异议")
        if line.dispute in (L.Dispute.DUPLICATE, L.Dispute.UNKNOWN_PERSON) and resolution != L.Resolution.NONE:
            raise ClaimsError(f"第{line.line_no}行{line.get_dispute_display()}，只能不予支付。")
        if resolution == L.Resolution.ADVANCED and not note.strip():
            raise ClaimsError("按机构垫付金额支付须写明理由。")
        pay, scheme = ZERO, line.scheme
        if resolution != L.Resolution.NONE and line.person_id:
            pay, scheme = _pay_within_cap(line, resolution)
        line.scheme = scheme
        line.resolution = resolution
        line.resolution_note = note.strip()
        line.resolved_by = user
        line.resolved_at = timezone.now()
        line.payable = pay
        line.save(update_fields=["resolution", "resolution_note", "resolved_by", "resolved_at", "payable", "scheme"])
        if reopened:
            _line_difference(line, sm, user)
        if line.retroactive_change_id:
            from .retro import change_advance

            change_advance(change_id=line.retroactive_change_id, user=user)
        return line


def _line_difference(line: SettlementLine, sm: SettlementMonth, user) -> None:
    """A reopened line of a confirmed month is settled: the institution was due ``prior_payable``;
    less now is recovered from it (a receivable), more is topped up to it (a payable of its own)."""
    from .models import Adjustment
    from .services import _open_receivable_for

    diff = line.payable - line.prior_payable
    if not diff:
        return
    kind = Adjustment.Kind.TOP_UP if diff > 0 else Adjustment.Kind.RECOVERY
    n = Adjustment.objects.filter(settlement_line=line).count() + 1
    adj = Adjustment.objects.create(
        settlement_line=line, person_id=line.person_id, town_id=line.town_id, payee_kind=Adjustment.Payee.INSTITUTION,
        fund="ASSISTANCE",
        kind=kind, amount=abs(diff), source_key=f"settlement-adj:{line.pk}:{n}",
        reason=(f"{sm}一站式结算{line.settlement_no}（{line.name}）重新审核：已确认{line.prior_payable}元，"
                f"应付{line.payable}元。{line.dispute_text}")[:300],
        created_by=user,
    )
    if kind == Adjustment.Kind.RECOVERY:
        adj.receivable_ref = _open_receivable_for(adj, debtor_name=line.institution.name, user=user)
        adj.save(update_fields=["receivable_ref"])


def settlement_line_recheck(*, line_id: int, change, user, reason: str) -> bool:
    """Decide a one-stop line again on today's identities, for a retroactive identity change. A line
    still to be settled gets the new figures and reason; an agreed or settled line whose amount
    changes becomes a disputed line again, with the reason, for a reviewer to settle (its amount
    leaves the cap meanwhile). Returns whether the line waits for a reviewer."""
    from .retro import counted

    with transaction.atomic():
        line = L.objects.select_related("settlement_month").get(pk=line_id)
        sm = SettlementMonth.objects.select_for_update().get(pk=line.settlement_month_id)
        line = L.objects.select_for_update(of=("self",)).select_related("institution", "person").get(pk=line_id)
        pid, year = line.person_id, line.settled_on.year
        ledger = caps.lock({(pid, year)})
        was = counted(line)
        if was:
            ledger.add(pid, year, line.scheme, -was)
        used = ledger.used(pid, year)
        d, _ = decide_bill(person_for_engine(line.person), bill_for_engine(line, ref=line.settlement_no), used)
        scheme = str(d.scheme) if d.scheme is not None else ""
        pending = line.pending
        if not pending and d.amount == was and (scheme == line.scheme or not was):
            if was:
                ledger.add(pid, year, line.scheme, was)
            return False
        dispute, text = _dispute(d, line.advanced)
        if not pending and d.amount == line.advanced:
            dispute, text = L.Dispute.WRONG_RATIO, f"核定{d.amount}元，此前确认{was}元"
        line.outcome = L.Outcome.DISPUTED
        line.dispute, line.dispute_text = dispute, f"{reason}；重新核定：{text}"[:2000]
        line.scheme, line.category, line.ratio = scheme, d.category or "", d.ratio
        line.decided, line.difference = d.amount, line.advanced - d.amount
        line.reasons, line.policy_version = [int(x) for x in d.reasons], d.policy_version
        line.retroactive_change = change
        if not pending:
            if sm.status != SettlementMonth.Status.OPEN:
                line.prior_payable = was  # what the institution is due until the reviewer settles the line
            line.resolution, line.resolution_note, line.resolved_by, line.resolved_at = "", "", None, None
            line.payable = ZERO
        line.save()
        return True


def _pay_within_cap(line: SettlementLine, resolution: str) -> tuple[Decimal, str]:
    """What a settled disputed line pays, decided again NOW under the person's locked cap rows:
    caps may have been used since the file was imported, and no payment, the reviewer's included,
    may take a scheme past its annual cap (POLICY.md §5–§7a, D3)."""
    pid, year = line.person_id, line.settled_on.year
    ledger = caps.lock({(pid, year)})
    used = ledger.used(pid, year)
    bill = bill_for_engine(line, ref=line.settlement_no)
    d, _ = decide_bill(person_for_engine(line.person), bill, used)
    if resolution == L.Resolution.ENGINE:
        pay, scheme = d.amount, str(d.scheme) if d.scheme is not None else ""
    else:
        scheme = line.scheme or (str(d.scheme) if d.scheme is not None else "")
        option = next((c for c in d.considered if str(c.scheme) == scheme and c.category is not None), None)
        if not scheme or option is None:
            raise ClaimsError(
                f"第{line.line_no}行按系统记录在结算日不符合任何救助方案，不能按垫付金额支付；"
                "如身份确有遗漏，请先更正身份记录，再重新导入该结算。"
            )
        left = option.cap_left_before
        if left is not None and line.advanced > left:
            raise ClaimsError(
                f"第{line.line_no}行按垫付金额{line.advanced}元支付将超过{SCHEME_ZH.get(scheme, scheme)}年度限额"
                f"（本年剩余{left}元），不能支付。"
            )
        pay = line.advanced
    if pay and scheme:
        ledger.add(pid, year, scheme, pay)
    return pay, scheme


class _TryOnly(Exception):
    pass


def resolution_options(line: SettlementLine) -> tuple[list[tuple[str, str]], str]:
    """The resolutions the reviewer can choose for a disputed line, and why "按机构垫付金额支付" is not
    offered when settlement_line_resolve would refuse it (a duplicate or an unknown person pays nothing;
    no scheme on that date, or the annual cap left, refuses the advanced amount). The check is the
    resolve's own, run in a savepoint that is rolled back."""
    choices = [(v, label) for v, label in L.Resolution.choices if v]
    if line.dispute in (L.Dispute.DUPLICATE, L.Dispute.UNKNOWN_PERSON) or not line.person_id:
        return [c for c in choices if c[0] == L.Resolution.NONE], f"{line.get_dispute_display()}，只能不予支付"
    refusal = ""
    try:
        with transaction.atomic():
            _pay_within_cap(line, L.Resolution.ADVANCED)
            raise _TryOnly
    except _TryOnly:
        pass
    except ClaimsError as exc:
        refusal = str(exc)
    if refusal:
        choices = [c for c in choices if c[0] != L.Resolution.ADVANCED]
    return choices, refusal


def settlement_month_confirm(*, month_id: int, user) -> SettlementMonth:
    """Fix the agreed total of an institution-month once no disputed line is pending: it becomes payable."""
    with transaction.atomic():
        sm = SettlementMonth.objects.select_for_update().select_related("institution").get(pk=month_id)
        _check_reviewer(user, sm)
        if sm.status != SettlementMonth.Status.OPEN:
            raise ClaimsError(f"{sm}已{sm.get_status_display()}。")
        if sm.files.exclude(status=SettlementFile.Status.DONE).exclude(status=SettlementFile.Status.FAILED).exists():
            raise ClaimsError("还有文件在导入中，请稍后再确认。")
        partly = sm.files.filter(status=SettlementFile.Status.FAILED, parts__done_at__isnull=False).first()
        if partly is not None:  # some of its parts were decided before it failed: finish it first
            raise ClaimsError(f"文件“{partly.file_name}”只导入了一部分（导入失败），请先重新运行该文件，再确认。")
        pending = sm.lines.filter(outcome=L.Outcome.DISPUTED, resolution="").count()
        if pending:
            raise ClaimsError(f"还有{pending}条有异议的结算未处理，不能确认。")
        sm.agreed_total = sm.lines.aggregate(t=Sum("payable"))["t"] or ZERO
        sm.confirmed_by = user
        sm.confirmed_at = timezone.now()
        transition(sm, SettlementMonth.Status.CONFIRMED, by=user, reason=f"确认应付机构{money(sm.agreed_total)}元",
                   update_fields=["agreed_total", "confirmed_by", "confirmed_at"])
        return sm


def settlement_month_reopen(*, month_id: int, user, reason: str) -> SettlementMonth:
    """A reviewer reopens a confirmed month, with a reason (a file was missing, a line was wrong): its
    payable leaves the fund request it waits on (withdrawn, the money held if already transferred),
    files and disputes can be handled again, and the next confirmation is a new payable (``…:r<n>``),
    requested in the month it is confirmed. Refused once the bank has the payment or paid it, and
    when lines of the month were settled again after confirmation (their top-ups and recoveries
    stand on the confirmed total)."""
    from funding.models import PayableLine
    from funding.services import payable_lines_withdraw

    reason = (reason or "").strip()
    with transaction.atomic():
        sm = SettlementMonth.objects.select_for_update().select_related("institution").get(pk=month_id)
        _check_reviewer(user, sm)
        if sm.status != SettlementMonth.Status.CONFIRMED:
            raise ClaimsError(f"{sm}当前为“{sm.get_status_display()}”，只有已确认待支付的月份可以重新打开。")
        if not reason:
            raise ClaimsError("请填写重新打开的原因。")
        key = sm.source_key
        line = PayableLine.objects.filter(source_key=key).exclude(status=PayableLine.Status.CANCELLED).first()
        if line is not None and line.status in (PayableLine.Status.IN_BATCH, PayableLine.Status.PAID):
            raise ClaimsError(f"{sm}的应付款已{line.get_status_display()}，不能重新打开。")
        if Adjustment.objects.filter(settlement_line__settlement_month=sm).exists():
            raise ClaimsError(f"{sm}已有确认后重新审核的结算（补付或追回），不能重新打开。")
        if line is not None and line.status == PayableLine.Status.PENDING:
            payable_lines_withdraw(source_keys=[key], reason=f"{sm}重新打开：{reason}", user=user)
        sm.reopened += 1
        sm.agreed_total, sm.confirmed_by, sm.confirmed_at = ZERO, None, None
        transition(sm, SettlementMonth.Status.OPEN, by=user, reason=reason,
                   update_fields=["reopened", "agreed_total", "confirmed_by", "confirmed_at"])
        return sm


def settlement_lines_pending(sm: SettlementMonth):
    return sm.lines.filter(Q(outcome=L.Outcome.DISPUTED) & Q(resolution=""))
