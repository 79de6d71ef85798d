"""Importing the monthly high-cost export and raising the alerts (POLICY.md §15, docs/monitoring.md).

One pass: the file is read through the one reader (``yfbz.files``, format ``high_cost``), each row
checked (errors name row and field); then, with a few queries per 5,000 people, the people and
their identities, the caps already used, the year-to-date burdens and the alerts already raised
are read; every row of a recipient is decided by the engine as a one-stop line
(``yfbz.policy.inputs.decide_bill``) in settlement-date order; the alerts follow. With ``apply``
the rows go in by COPY, the burdens and alerts by COPY / bulk_update; nothing is half-applied (one
transaction). Without ``apply`` nothing is written and the summary says what would be raised.

On a machine with a second core (POSIX ``fork``, one thread), a big CSV's second part is read and
checked by a forked process (``_OtherHalf``) and every other recipient's lines are decided by one
(``_EngineHalf``); neither uses the database, and what they hand back is what one pass makes (tests).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import itertools
import marshal
import os
import re
import select
import signal
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import attrgetter
from unicodedata import normalize as _nfkc

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from beneficiaries.models import Town
from beneficiaries.rosters.checking import Checked, _check_id
from claims.bulk import insert_rows
from claims.models import CapUsage, Institution
from yfbz.core.audit import audit_bulk
from yfbz.core.lookups import Many  # and registers ``__any`` (one array parameter instead of an IN list)
from yfbz.core.workflow import NEW, record_start_many
from yfbz.files.cells import DATE_FORMATS_ZH, parse_amount, parse_date
from yfbz.files.formats import HIGH_COST
from yfbz.files.reader import (
    FileUnreadable,
    _data_rows,
    _delimiter,
    _encoding,
    cell_text,
    is_excel,
    normalise_text,
    read_table,
)
from yfbz.policy.inputs import bill_for_engine, decide_bill, persons_for_engine_by_id_number, policy_for
from yfbz.policy.selectors import policy_book
from yfbz.rules import SCHEME_ZH
from yfbz.rules.idcard import IdNumberError, _birth, check_character

from .indicator import add_import
from .models import (
    CENT,
    ZERO,
    Alert,
    AlertKind,
    AlertStatusChange,
    HighCostImport,
    HighCostRow,
    PersonYearBurden,
)
from .thresholds import Thresholds

CHUNK = 5000
BIG_CHUNK = 50_000  # lookups by one array parameter (``__any``): a chunk is one value, not 50,000 parameters
LABEL = HIGH_COST.labels
KINDS = {
    "住院": "INPATIENT", "门诊": "OUTPATIENT", "普通门诊": "OUTPATIENT", "门诊特殊疾病": "OUTPATIENT",
    "门诊慢特病": "OUTPATIENT", "门诊特病": "OUTPATIENT", "门诊慢性病": "OUTPATIENT",
}
AMOUNTS = ("total_cost", "in_policy_cost", "basic_paid", "critical_paid", "large_paid", "assistance_paid", "tilted_paid",
           "youfu_paid", "charity_paid", "commercial_paid", "account_paid", "cash_paid")
REQUIRED_AMOUNTS = {"total_cost", "in_policy_cost", "basic_paid"}
PAYERS = ("basic_paid", "critical_paid", "large_paid", "assistance_paid", "tilted_paid", "youfu_paid", "charity_paid", "commercial_paid")
LEVELS = {"0": 0, "1": 1, "2": 2, "3": 3, "未定级": 0, "一级": 1, "二级": 2, "三级": 3}
DUPLICATE = "重复的结算编号，已跳过"
MAX_MESSAGES = 1000  # errors and warnings listed in the summary at most (counts stay exact)


class Unreadable(FileUnreadable):
    pass


@dataclass(slots=True)
class Line:
    """A valid row of the file (the fields ``bill_for_engine`` reads, and the rest). The amounts are
    plain slots, not a dict per row: a million rows are held between reading and writing."""

    row_number: int
    settlement_no: str
    id_number: str
    name: str
    town_id: int
    settled_on: date
    institution_id: int | None
    institution_text: str
    level: int
    designated: bool
    kind: str
    disease: str
    total_cost: Decimal
    in_policy_cost: Decimal
    basic_paid: Decimal
    critical_only: Decimal  # the file's 大病保险支付
    large: Decimal  # employees' large-amount insurance (大额)
    assistance: Decimal  # assistance incl. tilted (倾斜救助)
    youfu_paid: Decimal
    other_paid: Decimal  # charity + 渝快保
    burden: Decimal
    self_pay_before: Decimal
    self_pay_after: Decimal
    person_id: int | None = None
    engine_assistance: Decimal = ZERO
    scheme: str = ""
    category: str = ""
    admitted_on: None = None

    # --- what bill_for_engine reads (it asks ``large_paid`` with getattr: none here, it is in critical_paid)
    @property
    def critical_paid(self):  # employees' large-amount insurance is a layer before assistance, like critical illness
        return self.critical_only + self.large


class _Institution:
    """What the engine asks of an institution: its level and whether it is designated on a date."""

    __slots__ = ("designated", "level")

    def __init__(self, level: int, designated: bool):
        self.level, self.designated = level, designated

    def designated_on(self, day) -> bool:
        return self.designated


@dataclass
class Summary:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    people: int = 0
    alerts: dict = field(default_factory=lambda: {k: 0 for k in AlertKind.values})
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    #: seconds per phase (read and check, plan, write …, commit): printed by bench/monitoring.py, not in the JSON
    timings: dict = field(default_factory=dict)

    def timed(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - since
        return now

    def error(self, row: int, f: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_MESSAGES:
            self.errors.append({"row": row, "field": LABEL.get(f, f), "message": message})

    def warn(self, row: int, f: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_MESSAGES:
            self.warnings.append({"row": row, "field": LABEL.get(f, f), "message": message})

    def as_json(self) -> dict:
        return {"rows": self.rows, "valid": self.valid, "invalid": self.invalid, "duplicates": self.duplicates,
                "people": self.people, "alerts": dict(self.alerts), "errors": self.errors, "warnings": self.warnings}


# --- reading --------------------------------------------------------------------------------------
class _Reference:
    def __init__(self):
        self.towns: dict[str, int] = {}
        self.town_codes: dict[str, int] = {}
        for town in Town.objects.filter(active=True):
            self.towns[town.name] = town.pk
            self.towns.setdefault(town.short_name, town.pk)
            self.town_codes[town.code] = town.pk
        self.amounts = _Amounts()
        self.columns: dict = {}
        self.ids: dict = {}
        self.texts: dict = {}
        self.dates: dict = {}

        self.by_code: dict[str, Institution] = {}
        self.by_name: dict[str, Institution] = {}
        for inst in Institution.objects.all():
            self.by_code[inst.code.upper()] = inst
            self.by_name.setdefault(normalise_text(inst.name), inst)

    def date(self, value):
        """``parse_date`` once per distinct cell (a month has some thirty settlement dates); errors are
        raised each time and not remembered."""
        if value.__class__ is not str:
            return parse_date(value)
        d = self.dates.get(value)
        if d is None:
            d = parse_date(value)
            if d is not None and len(self.dates) < _MEMO_MAX:
                self.dates[value] = d
        return d

    def id_number(self, value) -> tuple[str, tuple, tuple]:
        """An ID number cell checked as in rosters (check character, full-width, 15-digit legacy):
        (number, errors, warnings), once per distinct cell (a person's settlements repeat it)."""
        key = value if value.__class__ is str else None
        hit = self.ids.get(key) if key is not None else None
        if hit is not None:
            return hit
        checked = Checked(0, [])
        _check_id(checked, value)
        hit = (checked.id_number, tuple(e["message"] for e in checked.errors), tuple(w["message"] for w in checked.warnings))
        if key is not None and len(self.ids) < _MEMO_MAX * 5:
            self.ids[key] = hit
        return hit


_PLAIN_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
_CENTS_AMOUNT = re.compile(r"\d{1,12}\.\d\d")
_MEMO_MAX = 200_000
_MISS = object()


class _Amounts:
    """Amount cells parsed once per distinct value (a month's export repeats the same few hundred
    thousand values — 0, blanks, round sums — across twelve amount columns): plain digits go straight
    to ``Decimal``; anything else (separators, 元, full-width digits, floats from xlsx) through
    ``yfbz.files.cells.parse_amount``, which also says what is wrong. Errors are not remembered."""

    __slots__ = ("memo",)

    def __init__(self):
        self.memo: dict = {}

    def parse(self, value) -> Decimal | None:
        key = value if value.__class__ is str else (value.__class__, value)
        try:
            return self.memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable cell: never from the reader, but never a 500 either
            return parse_amount(value)
        return self.parse_new(value, key)

    def parse_new(self, value, key=None) -> Decimal | None:
        """A cell not in the memo (the caller looked): no second look-up, no KeyError raised per miss
        (most amounts of a month are distinct: the exception cost more than the parsing)."""
        if value.__class__ is str:
            if _CENTS_AMOUNT.fullmatch(value):  # the platform's own form, 12345.67: already to the fen
                d = Decimal(value)
            elif _PLAIN_AMOUNT.fullmatch(value):
                d = Decimal(value).quantize(CENT)
            else:
                d = parse_amount(value)
            key = value
        else:
            d = parse_amount(value)
            if key is None:
                key = (value.__class__, value)
        if len(self.memo) < _MEMO_MAX:
            try:
                self.memo[key] = d
            except TypeError:  # unhashable
                pass
        return d


def _columns(ref: _Reference, table) -> dict:
    cols = ref.columns.get(id(table))
    if cols is None:
        cols = ref.columns[id(table)] = {f: table.columns.get(f) for f in (*TEXT_FIELDS, *AMOUNTS)}
    return cols


TEXT_FIELDS = ("settlement_no", "id_number", "name", "town", "settled_on", "kind", "institution_code", "institution_name",
               "institution_level", "disease")


def _check(ref: _Reference, table, n: int, cells: list, summary: Summary) -> Line | None:
    """One row checked by the file's compiled checker (``_checker``)."""
    return _checker(ref, table, summary)(n, cells)


def _check_reference(ref: _Reference, table, n: int, cells: list, summary: Summary) -> Line | None:
    """The row check written plainly, one field after the other: what ``_checker`` must say, error for
    error (tests/monitoring/test_import.py runs both over every kind of bad row), and the per-row
    baseline of bench/monitoring.py."""
    cols = _columns(ref, table)
    width = len(cells)
    errors_before = summary.error_count

    def raw(f):
        i = cols[f]
        return cells[i] if i is not None and i < width else None

    def text(f):
        i = cols[f]
        return normalise_text(cell_text(cells[i] if i is not None and i < width else None))

    def short(f):  # a column of few distinct values (town, kind, institution, level): normalised once per value
        i = cols[f]
        v = cells[i] if i is not None and i < width else None
        key = v if v.__class__ is str else (v.__class__, v)
        try:
            return memo[key]
        except KeyError:
            t = normalise_text(cell_text(v))
            if len(memo) < _MEMO_MAX:
                memo[key] = t
            return t
        except TypeError:
            return normalise_text(cell_text(v))

    memo = ref.texts

    sno = "".join(text("settlement_no").split())
    if not sno:
        summary.error(n, "settlement_no", "结算编号为空")
    elif len(sno) > 60:
        summary.error(n, "settlement_no", f"超过60个字符（共{len(sno)}个），请核对")
    id_number, id_errors, id_warnings = ref.id_number(raw("id_number"))  # as in rosters
    for e in id_errors:
        summary.error(n, "id_number", e)
    for w in id_warnings:
        summary.warn(n, "id_number", w)
    name = text("name")
    if not name:
        summary.error(n, "name", "姓名为空")
    elif len(name) > 50:
        summary.error(n, "name", f"超过50个字符（共{len(name)}个），请核对")
    town_text = "".join(short("town").split())
    town_id = ref.towns.get(town_text)
    if not town_text:
        summary.error(n, "town", "所属镇街为空")
    elif town_id is None:
        summary.error(n, "town", f"未知的镇街：「{town_text}」")
    try:
        settled = ref.date(raw("settled_on"))
        if settled is None:
            summary.error(n, "settled_on", "结算日期为空")
        elif not 1900 <= settled.year <= 2100:
            summary.error(n, "settled_on", f"日期{settled}不在1900至2100年之间")
            settled = None
    except ValueError as exc:
        settled = None
        summary.error(n, "settled_on", f"无法识别的日期：「{exc}」（可写作{DATE_FORMATS_ZH}）")
    kind_text = short("kind")
    kind = KINDS.get(kind_text.replace(" ", ""))
    if kind is None:
        summary.error(n, "kind", f"应为“住院”或“门诊”，不是“{kind_text}”" if kind_text else "就诊类型为空")
    amounts = {}
    amount_memo = ref.amounts.memo  # not ``memo``: short() below reads the texts' memo (an amount's memo gave "" → None)
    for f in AMOUNTS:
        i = cols[f]
        if i is None:
            v = None
        else:
            cell = cells[i] if i < width else None
            v = amount_memo.get(cell, _MISS) if cell.__class__ is str else _MISS  # most cells: one dict lookup
            if v is _MISS:
                try:
                    v = ref.amounts.parse(cell)
                except ValueError as exc:
                    summary.error(n, f, str(exc))
                    amounts[f] = ZERO
                    continue
        if v is None:
            if f in REQUIRED_AMOUNTS:
                summary.error(n, f, "金额为空")
            v = ZERO
        amounts[f] = v
    if summary.error_count == errors_before:
        total, inpol = amounts["total_cost"], amounts["in_policy_cost"]
        if amounts["basic_paid"] + amounts["critical_paid"] > inpol:
            summary.error(n, "basic_paid", f"基本医保与大病保险支付之和{amounts['basic_paid'] + amounts['critical_paid']:,.2f}"
                                           f"大于政策范围内费用{inpol:,.2f}")
        if inpol > total:
            summary.error(n, "in_policy_cost", f"政策范围内费用{inpol:,.2f}大于医疗总费用{total:,.2f}")
        paid = _paid(amounts)
        if paid > total:
            summary.error(n, "total_cost", f"各项支付合计{paid:,.2f}大于医疗总费用{total:,.2f}")
    # the institution: by code, else by name; the level from the file, else the institution's, else D5
    code = "".join(short("institution_code").split()).upper()
    inst_name = short("institution_name")
    inst = ref.by_code.get(code) if code else None
    if inst is None and inst_name:
        inst = ref.by_name.get(inst_name)
    if not code and not inst_name:
        summary.error(n, "institution_code", "医疗机构编码和名称均为空")
    level_text = short("institution_level")
    level = None
    if level_text:
        level = LEVELS.get(level_text)
        if level is None:
            level = LEVELS.get(level_text.replace("甲等", "").replace("乙等", "").replace("丙等", "").replace("级医院", "级"))
        if level is None:
            summary.error(n, "institution_level", f"无法识别的机构等级：「{level_text}」（应为0、1、2、3或未定级、一级、二级、三级）")
    if summary.error_count > errors_before:
        return None
    if level is None:
        if inst is not None:
            level = inst.level
        else:
            level = 0
            summary.warn(n, "institution_code", f"未找到医疗机构「{code or inst_name}」且未填等级，按未定级（一级）计算（D5）")
    designated = inst.designated_on(settled) if inst is not None else True
    burden = _burden(amounts, cols["account_paid"] is not None and cols["cash_paid"] is not None
                     and raw("account_paid") not in (None, "") and raw("cash_paid") not in (None, ""))
    critical = amounts["critical_paid"] + amounts["large_paid"]
    assistance = amounts["assistance_paid"] + amounts["tilted_paid"]
    before = max(amounts["in_policy_cost"] - amounts["basic_paid"] - critical, ZERO)
    after = max(before - assistance - amounts["youfu_paid"], ZERO)
    return Line(n, sno, id_number, name, town_id, settled, inst.pk if inst else None,
                (code or inst_name)[:120], level, designated, kind, text("disease")[:60], amounts["total_cost"],
                amounts["in_policy_cost"], amounts["basic_paid"], amounts["critical_paid"], amounts["large_paid"], assistance,
                amounts["youfu_paid"], amounts["charity_paid"] + amounts["commercial_paid"], burden, before, after)


# --- the fast path: one closure per file, per-distinct-cell work only ---------------------------------
_ID_TAIL = "0123456789X"


def _id_fast(v: str):
    """An 18-character ASCII ID number with a right check character: (number, (), ()) without the
    roster checker's normalising and exceptions; anything else (spaces, a lower-case x, 15 digits, an
    error) returns None and goes through ``_check_id``, which names the problem."""
    if len(v) == 18 and v.isascii() and v[:17].isdigit() and v[17] in _ID_TAIL:
        try:
            birth = _birth(v[6:14])
        except IdNumberError:
            return None
        if birth.year >= 1850 and check_character(v[:17]) == v[17]:
            return (v, (), ())
    return None


def _key(v):
    """A memo key for a cell: the text itself, else (type, value) — 1, 1.0 and True read differently."""
    return v if v.__class__ is str else (v.__class__, v)


def _checker(ref: _Reference, table, summary: Summary):
    """``check(n, cells) → Line | None``, compiled once per file: the columns resolved once, each
    distinct ID number, date, town, kind, institution and amount cell read once (``ref``'s memos), and
    per line only dictionary look-ups, the amounts' sums and one ``Line``. It says exactly what
    ``_check_reference`` says, in the same order (tests/monitoring/test_import.py compares them)."""
    cols = _columns(ref, table)
    width_needed = 1 + max(i for i in cols.values() if i is not None)
    pad = [None] * width_needed

    def col(f):
        return cols[f]

    i_sno, i_id, i_name, i_town, i_date, i_kind = (col(f) for f in ("settlement_no", "id_number", "name", "town", "settled_on", "kind"))
    i_code, i_iname, i_level, i_disease = (col(f) for f in ("institution_code", "institution_name", "institution_level", "disease"))
    amount_cols = tuple((k, f, cols[f], f in REQUIRED_AMOUNTS) for k, f in enumerate(AMOUNTS) if cols[f] is not None)
    i_account, i_cash = cols["account_paid"], cols["cash_paid"]
    person_paid_columns = i_account is not None and i_cash is not None
    ids, dates, texts, towns = ref.ids, ref.dates, ref.texts, ref.towns
    amounts_memo, parse_amount_cell, parse_new_amount = ref.amounts.memo, ref.amounts.parse, ref.amounts.parse_new
    places: dict = {}  # (code cell, name cell, level cell) → the institution part of a line
    town_cells: dict = {}  # town cell → (its text, the town's id or None)
    kind_cells: dict = {}  # kind cell → (its text, INPATIENT / OUTPATIENT or None)
    n_amounts = len(AMOUNTS)

    def text_of(v) -> str:
        if v.__class__ is str:
            if v.isascii():
                return " ".join(v.split())
            return " ".join(_nfkc("NFKC", v).split())
        return normalise_text(cell_text(v))

    def short(v) -> str:  # few distinct values (town, kind, institution, level, disease): once per value
        key = _key(v)
        try:
            return texts[key]
        except KeyError:
            t = normalise_text(cell_text(v))
            if len(texts) < _MEMO_MAX:
                texts[key] = t
            return t
        except TypeError:
            return normalise_text(cell_text(v))

    def place(code_cell, name_cell, level_cell):
        """(institution, code, name, errors, level) of an institution's three cells, once per distinct trio."""
        key = (_key(code_cell), _key(name_cell), _key(level_cell))
        try:
            return places[key]
        except KeyError:
            pass
        except TypeError:
            key = None
        code = "".join(short(code_cell).split()).upper()
        inst_name = short(name_cell)
        inst = ref.by_code.get(code) if code else None
        if inst is None and inst_name:
            inst = ref.by_name.get(inst_name)
        errors = []
        if not code and not inst_name:
            errors.append(("institution_code", "医疗机构编码和名称均为空"))
        level_text = short(level_cell)
        level = None
        if level_text:
            level = LEVELS.get(level_text)
            if level is None:
                level = LEVELS.get(level_text.replace("甲等", "").replace("乙等", "").replace("丙等", "").replace("级医院", "级"))
            if level is None:
                errors.append(("institution_level",
                               f"无法识别的机构等级：「{level_text}」（应为0、1、2、3或未定级、一级、二级、三级）"))
        hit = (inst, code, inst_name, tuple(errors), level)
        if key is not None and len(places) < _MEMO_MAX:
            places[key] = hit
        return hit

    def check(n: int, cells: list) -> Line | None:
        if len(cells) < width_needed:  # a short row: the missing cells are empty
            cells = [*cells, *pad[len(cells):]]
        errors = []
        # 结算编号
        v = cells[i_sno]
        sno = "".join(v.split()) if v.__class__ is str and v.isascii() else "".join(text_of(v).split())
        if not sno:
            errors.append(("settlement_no", "结算编号为空"))
        elif len(sno) > 60:
            errors.append(("settlement_no", f"超过60个字符（共{len(sno)}个），请核对"))
        # 身份证号: once per distinct cell
        v = cells[i_id]
        hit = ids.get(v) if v.__class__ is str else None
        if hit is None:
            hit = _id_fast(v) if v.__class__ is str else None
            if hit is None:
                hit = ref.id_number(v)
            elif len(ids) < _MEMO_MAX * 5:
                ids[v] = hit
        id_number, id_errors, id_warnings = hit
        for e in id_errors:
            errors.append(("id_number", e))
        # 姓名
        v = cells[i_name]
        name = (" ".join(v.split()) if v.isascii() else " ".join(_nfkc("NFKC", v).split())) if v.__class__ is str else text_of(v)
        if not name:
            errors.append(("name", "姓名为空"))
        elif len(name) > 50:
            errors.append(("name", f"超过50个字符（共{len(name)}个），请核对"))
        # 所属镇街
        v = cells[i_town]
        hit = town_cells.get(v) if v.__class__ is str else None
        if hit is None:
            town_text = "".join(short(v).split())
            hit = (town_text, towns.get(town_text))
            if v.__class__ is str and len(town_cells) < _MEMO_MAX:
                town_cells[v] = hit
        town_text, town_id = hit
        if not town_text:
            errors.append(("town", "所属镇街为空"))
        elif town_id is None:
            errors.append(("town", f"未知的镇街：「{town_text}」"))
        # 结算日期
        v = cells[i_date]
        settled = dates.get(v) if v.__class__ is str else None
        if settled is None:
            try:
                settled = ref.date(v)
                if settled is None:
                    errors.append(("settled_on", "结算日期为空"))
                elif not 1900 <= settled.year <= 2100:
                    errors.append(("settled_on", f"日期{settled}不在1900至2100年之间"))
                    settled = None
            except ValueError as exc:
                settled = None
                errors.append(("settled_on", f"无法识别的日期：「{exc}」（可写作{DATE_FORMATS_ZH}）"))
        elif not 1900 <= settled.year <= 2100:
            errors.append(("settled_on", f"日期{settled}不在1900至2100年之间"))
            settled = None
        # 就诊类型
        v = cells[i_kind]
        hit = kind_cells.get(v) if v.__class__ is str else None
        if hit is None:
            kind_text = short(v)
            hit = (kind_text, KINDS.get(kind_text.replace(" ", "")))
            if v.__class__ is str and len(kind_cells) < _MEMO_MAX:
                kind_cells[v] = hit
        kind_text, kind = hit
        if kind is None:
            errors.append(("kind", f"应为“住院”或“门诊”，不是“{kind_text}”" if kind_text else "就诊类型为空"))
        # amounts: one look-up per cell, parsed once per distinct value
        a = [ZERO] * n_amounts
        for k, f, i, required in amount_cols:
            v = cells[i]
            d = amounts_memo.get(v, _MISS) if v.__class__ is str else _MISS
            if d is _MISS:
                try:
                    d = parse_amount_cell(v) if v.__class__ is not str else parse_new_amount(v)
                except ValueError as exc:
                    errors.append((f, str(exc)))
                    continue
            if d is None:
                if required:
                    errors.append((f, "金额为空"))
                continue
            a[k] = d
        total, inpol, basic, crit, large, assist, tilted, youfu, charity, commercial, account, cash = a
        if not errors:
            if basic + crit > inpol:
                errors.append(("basic_paid", f"基本医保与大病保险支付之和{basic + crit:,.2f}大于政策范围内费用{inpol:,.2f}"))
            if inpol > total:
                errors.append(("in_policy_cost", f"政策范围内费用{inpol:,.2f}大于医疗总费用{total:,.2f}"))
            paid = basic + crit + large + assist + tilted + youfu + charity + commercial
            if paid > total:
                errors.append(("total_cost", f"各项支付合计{paid:,.2f}大于医疗总费用{total:,.2f}"))
        # the institution: by code, else by name; the level from the file, else the institution's, else D5
        inst, code, inst_name, place_errors, level = place(cells[i_code] if i_code is not None else None,
                                                           cells[i_iname] if i_iname is not None else None,
                                                           cells[i_level] if i_level is not None else None)
        if errors or place_errors:
            for f, message in errors:
                summary.error(n, f, message)
            for f, message in place_errors:
                summary.error(n, f, message)
            for w in id_warnings:  # warned before the errors in the reference; the lists are per kind
                summary.warn(n, "id_number", w)
            return None
        for w in id_warnings:
            summary.warn(n, "id_number", w)
        if level is None:
            if inst is not None:
                level = inst.level
            else:
                level = 0
                summary.warn(n, "institution_code", f"未找到医疗机构「{code or inst_name}」且未填等级，按未定级（一级）计算（D5）")
        if person_paid_columns and cells[i_account] not in (None, "") and cells[i_cash] not in (None, ""):
            burden = account + cash
        else:
            burden = total - paid
            if burden < ZERO:
                burden = ZERO
        critical = crit + large
        assistance = assist + tilted
        before = inpol - basic - critical
        if before < ZERO:
            before = ZERO
        after = before - assistance - youfu
        if after < ZERO:
            after = ZERO
        disease = short(cells[i_disease]) if i_disease is not None else ""
        return Line(n, sno, id_number, name, town_id, settled, inst.pk if inst else None, (code or inst_name)[:120], level,
                    inst.designated_on(settled) if inst is not None else True, kind, disease[:60], total, inpol, basic, crit,
                    large, assistance, youfu, charity + commercial, burden, before, after)

    return check


def _burden(amounts: dict, person_paid_given: bool) -> Decimal:
    """D10: what the person paid (account + cash) when the file gives both; else total − every payer."""
    if person_paid_given:
        return amounts["account_paid"] + amounts["cash_paid"]
    return max(amounts["total_cost"] - _paid(amounts), ZERO)


def _paid(a: dict) -> Decimal:
    """Every payer of the file together (PAYERS)."""
    return (a["basic_paid"] + a["critical_paid"] + a["large_paid"] + a["assistance_paid"] + a["tilted_paid"] + a["youfu_paid"]
            + a["charity_paid"] + a["commercial_paid"])


def read_lines(data: bytes, summary: Summary) -> tuple[list[Line], dict]:
    try:
        table = read_table(data, HIGH_COST)
    except FileUnreadable as exc:
        raise Unreadable(str(exc)) from None
    ref = _Reference()
    check = _checker(ref, table, summary)
    lines: list[Line] = []
    append = lines.append
    rows = 0
    split = _split_point(data)
    if split is not None and split[1] <= table.header_row + 1:  # the header (and what is above it) are ours
        split = None
    if split is None:
        for n, cells in table.rows:
            rows += 1
            line = check(n, cells)
            if line is not None:
                append(line)
    else:  # a big CSV: its second part read and checked by a forked process meanwhile (the second core)
        offset, records = split
        other = _OtherHalf(data, offset, records, ref, table)
        try:
            held = None
            for n, cells in table.rows:
                if n > records:  # the other process's first row: kept in case it fails
                    held = (n, cells)
                    break
                rows += 1
                line = check(n, cells)
                if line is not None:
                    append(line)
            got = other.result(lines) if held is not None else None
        finally:
            other.close()
        if got is not None:  # its rows, counts, messages (in row order after ours) and 合计 rows
            more_rows, errors, warnings, error_count, warning_count, skipped = got
            rows += more_rows
            summary.errors.extend(errors[:max(MAX_MESSAGES - len(summary.errors), 0)])
            summary.warnings.extend(warnings[:max(MAX_MESSAGES - len(summary.warnings), 0)])
            summary.error_count += error_count
            summary.warning_count += warning_count
            table.skipped[:] = [s for s in table.skipped if s <= records] + skipped
        elif held is not None:  # it failed (or could not start): the rest read here, exactly as without it
            for n, cells in itertools.chain([held], table.rows):
                rows += 1
                line = check(n, cells)
                if line is not None:
                    append(line)
    summary.rows += rows
    summary.valid += len(lines)
    summary.invalid += rows - len(lines)
    return lines, table.reading


# --- the second core: a big CSV's second part read by a forked process --------------------------------
SPLIT_MIN_BYTES = 8 << 20  # ~80,000 lines of the platform's export: below that a process costs more than it saves
SPLIT_SHARE = 0.45  # of the bytes read here: rebuilding the other part's lines costs a quarter of checking them
_CHUNK_LINES = 25_000
CHILD_PATIENCE = 600  # seconds between two chunks of the other process (a chunk takes well under one)


def _may_fork() -> bool:
    """A second process only where ``os.fork`` exists and this process runs one thread (a forked child keeps
    only the thread that forked: a lock another thread held would stay held in it)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _split_point(data: bytes) -> tuple[int, int] | None:
    """(offset, records before it) of a line start near ``SPLIT_SHARE`` of a CSV, or None (read in one
    process): only a CSV with no quote character and no lone carriage return, where every line ending
    ends a record (a quoted cell may hold a line break), and only where ``os.fork`` exists."""
    if len(data) < SPLIT_MIN_BYTES or not _may_fork() or is_excel(data):
        return None
    if b'"' in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    offset = data.find(b"\n", int(len(data) * SPLIT_SHARE))
    if offset < 0 or offset + 1 >= len(data):
        return None
    offset += 1
    return offset, data.count(b"\n", 0, offset)  # a record per line: the one reader's row numbers


class _Forked:
    """A forked helper process that writes its results to a temporary file and says so through a pipe.
    ``work(write_end)`` runs in the child, which uses nothing of the database and leaves by ``os._exit``
    (exit code 0 when ``work`` returned); if the fork fails, ``pid`` stays None and the caller does the
    work itself. ``close`` kills and reaps the child (a hung one too) and frees the file and the pipe."""

    pid: int | None = None

    def _start(self, work) -> None:
        self.file = tempfile.TemporaryFile()
        self.pipe, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(write_end)
            return
        if pid == 0:  # the child
            code = 1
            try:
                os.close(self.pipe)
                work(write_end)
                code = 0
            except BaseException:  # noqa: BLE001 - reported by the exit code and the pipe's silence: the parent does the work itself
                pass
            finally:
                os._exit(code)
        os.close(write_end)
        self.pid = pid

    def close(self) -> None:
        try:
            os.close(self.pipe)
        except OSError:
            pass
        self.file.close()
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None


class _OtherHalf(_Forked):
    """A forked process reading and checking a CSV's lines from ``offset`` on (rows numbered from
    ``records + 1``, as the one reader numbers them) with the same compiled check, handing back its
    lines as compact tuples (``marshal``: strings, ints, the amounts as their text) in chunks through a
    temporary file while this process reads the first part, then its counts, messages and 合计 rows. It
    uses nothing of the database (the reference data was read before the fork) and leaves by
    ``os._exit``. Any failure of it — or of the fork — and the caller reads the rest itself."""

    def __init__(self, data: bytes, offset: int, records: int, ref: _Reference, table):
        self._start(lambda write_end: _read_other_half(data, offset, records, ref, table, self.file, write_end))

    def result(self, lines: list[Line]):
        """Its lines appended to ``lines`` as they come; (rows, errors, warnings, error count, warning
        count, 合计 rows) at the end, or None when it failed (nothing appended then)."""
        if self.pid is None:
            return None
        start = len(lines)
        dates: dict = {}
        while True:
            ready, _, _ = select.select([self.pipe], [], [], CHILD_PATIENCE)
            note = _read_exactly(self.pipe, 17) if ready else b""
            if len(note) < 17:  # it died (or hangs: ``close`` kills it)
                del lines[start:]
                return None
            kind, at, size = note[:1], int.from_bytes(note[1:9], "little"), int.from_bytes(note[9:17], "little")
            block = marshal.loads(os.pread(self.file.fileno(), size, at))
            if kind == b"L":
                _lines_from(block, dates, lines)
            else:
                return tuple(block)


def _read_exactly(fd: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        got = os.read(fd, n - len(out))
        if not got:
            break
        out += got
    return out


def _read_other_half(data, offset, records, ref, table, file, notes) -> None:
    """The child's part (see ``_OtherHalf``): the one reader's CSV rules on the bytes from ``offset``."""
    summary = Summary()
    check = _checker(ref, table, summary)
    encoding = _encoding(data)
    text = io.TextIOWrapper(io.BytesIO(data[offset:]), encoding="utf-8" if encoding == "utf-8-sig" else encoding, newline="")
    skipped: list[int] = []
    rows = 0
    at = 0
    block: list[tuple] = []

    def send(kind: bytes, value) -> None:
        nonlocal at
        payload = marshal.dumps(value)
        os.pwrite(file.fileno(), payload, at)
        note = kind + at.to_bytes(8, "little") + len(payload).to_bytes(8, "little")
        at += len(payload)
        os.write(notes, note)

    for n, cells in _data_rows(enumerate(csv.reader(text, delimiter=_delimiter(data)), records + 1), skipped):
        rows += 1
        x = check(n, cells)
        if x is not None:  # the amounts as their text, 0.00 as None (half of a line's amounts)
            block.append((x.row_number, x.settlement_no, x.id_number, x.name, x.town_id, x.settled_on.toordinal(), x.institution_id,
                          x.institution_text, x.level, x.designated, x.kind, x.disease,
                          *[None if a == "0.00" else a for a in map(str, (
                              x.total_cost, x.in_policy_cost, x.basic_paid, x.critical_only, x.large, x.assistance, x.youfu_paid,
                              x.other_paid, x.burden, x.self_pay_before, x.self_pay_after))]))
            if len(block) >= _CHUNK_LINES:
                send(b"L", block)
                block = []
    if block:
        send(b"L", block)
    send(b"S", (rows, summary.errors, summary.warnings, summary.error_count, summary.warning_count, skipped))


def _lines_from(block: list[tuple], dates: dict, lines: list[Line]) -> None:
    """The child's tuples as ``Line``: the same values (a Decimal from its own text is the same Decimal)."""
    append, new, D, from_ordinal, zero = lines.append, Line, Decimal, date.fromordinal, ZERO
    for r in block:
        day = dates.get(r[5])
        if day is None:
            day = dates[r[5]] = from_ordinal(r[5])
        a = [zero if v is None else D(v) for v in r[12:]]
        append(new(r[0], r[1], r[2], r[3], r[4], day, r[6], r[7], r[8], r[9], r[10], r[11], *a))


# --- the alerts -----------------------------------------------------------------------------------
def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _earlier_numbers(numbers: list[str]) -> set[str]:
    seen: set[str] = set()
    for part in _chunks(numbers, BIG_CHUNK):
        seen.update(HighCostRow.objects.filter(settlement_no__any=Many(part)).values_list("settlement_no", flat=True))
    return seen


def _caps_used(pids: list[int], years: list[int]) -> dict[tuple[int, int], dict[str, Decimal]]:
    out: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(dict)
    for part in _chunks(sorted(pids), BIG_CHUNK):
        for pid, year, scheme, used in CapUsage.objects.filter(person_id__any=Many(part), year__in=years).values_list(
                "person_id", "year", "scheme", "used"):
            out[(pid, year)][scheme] = used
    return out


def _earlier_burdens(keys: list[str], years: list[int]) -> dict[tuple[str, int], PersonYearBurden]:
    out = {}
    for part in _chunks(keys, BIG_CHUNK):
        for b in PersonYearBurden.objects.filter(id_number__any=Many(part), year__in=years):
            out[(b.id_number, b.year)] = b
    return out


def _earlier_alerts(keys: list[str], years: list[int]) -> dict[tuple[str, str, int], Alert]:
    out = {}
    for part in _chunks(keys, BIG_CHUNK):
        for a in Alert.objects.filter(id_number__any=Many(part), year__in=years).exclude(kind=AlertKind.YJWJ):
            out[(a.kind, a.id_number, a.year)] = a
    return out


def _bills_burden(pids: list[int], years: list[int]) -> dict[tuple[int, int], Decimal]:
    """D11: the burden of every hand-settled bill approved in the software (its current decision):
    total cost less basic, critical-illness, the bureau's employees' pooling, assistance and the
    veterans' subsidy."""
    from claims.models import Bill, Decision

    out: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for part in _chunks(sorted(pids), BIG_CHUNK):
        rows = Decision.objects.filter(
            person_id__any=Many(part), year__in=years, is_current=True,
            bill__status__in=[Bill.Status.APPROVED, Bill.Status.PAID],
        ).values_list("person_id", "year", "bill__total_cost", "bill__basic_paid", "bill__critical_paid", "pooling_paid",
                      "assistance", "youfu_subsidy")
        for pid, year, total, basic, crit, pooling, assist, youfu in rows:
            out[(pid, year)] += max(total - basic - crit - pooling - assist - youfu, ZERO)
    return out


def _held_in_year(person, year: int, until: date | None) -> bool:
    """An identity valid on any day of ``year`` (up to ``until`` when given)."""
    start, end = date(year, 1, 1), until or date(year, 12, 31)
    return any(i.valid_from <= end and (i.valid_to is None or i.valid_to >= start) for i in person.identities)


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


@dataclass
class Plan:
    """What an import writes: its lines, the year burdens, the new alerts and the updated ones."""

    lines: list[Line]
    burdens_new: list[tuple]  # BURDEN_COLUMNS without updated_at
    burdens_changed: list[PersonYearBurden]
    alerts_new: list[dict]
    alerts_changed: list[Alert]
    rows_left: list[Line] | None = None  # the lines still to write (None: all; [] when they went in during the plan)


_by_date_and_row = attrgetter("settled_on", "row_number")


def plan(lines: list[Line], summary: Summary, *, imp: HighCostImport | None = None) -> Plan:
    """The rows kept, what the engine would pay on recipients' rows, the year burdens and the alerts.
    With ``imp`` (``--apply``), the rows of people not on our rosters (four in five: nothing of theirs
    is decided) are final once the people are read: they go in by COPY while the engine decides the
    others — the server ingests them on the second core meanwhile (``_CopyInBackground``) — and the
    recipients' rows join the same COPY once decided, while the year burdens are computed; the plan
    asks the database nothing more until it has finished."""
    # duplicates: in the file or in an earlier import (warned, skipped, counted valid)
    earlier = _earlier_numbers(list({x.settlement_no for x in lines}))  # no order needed (a million strings sorted: ~1 s)
    seen: set[str] = set()
    kept: list[Line] = []
    for x in lines:
        if x.settlement_no in earlier or x.settlement_no in seen:
            summary.duplicates += 1
            summary.warn(x.row_number, "settlement_no", DUPLICATE)
            continue
        seen.add(x.settlement_no)
        kept.append(x)
    lines = kept
    ids = sorted({x.id_number for x in lines})
    summary.people = len(ids)
    years = sorted({x.settled_on.year for x in lines})
    people = persons_for_engine_by_id_number(ids)
    pids = [p for p, _ in people.values()]
    used = _caps_used(pids, years)
    book = policy_book()
    thresholds = Thresholds()
    towns = dict(Town.objects.values_list("code", "pk"))
    inst_names = dict(Institution.objects.values_list("pk", "name"))  # alerts name institutions, never by code
    before = _earlier_burdens(ids, years)
    bills = _bills_burden(pids, years)
    raised = _earlier_alerts(ids, years)
    known = [x for x in lines if x.id_number in people]  # only people on our rosters need the engine (a fifth)
    # half of them decided by a second process (forked now: no COPY thread runs yet)
    engine = _EngineHalf(known, people, used, book, towns, inst_names) if len(known) >= ENGINE_SPLIT_MIN and _may_fork() else None
    background = decided = None
    try:
        if imp is not None and connection.vendor == "postgresql":
            background = _CopyInBackground(HighCostRow, ROW_COLUMNS, NORMALISED)
            background.add(_row_values(imp.pk, [x for x in lines if x.id_number not in people]))

            def decided(xs):
                background.add(_row_values(imp.pk, xs))
        p = _decide(lines, known, summary, people, used, book, thresholds, towns, inst_names, before, bills, raised,
                    decided=decided, engine=engine)
    except BaseException as exc:
        if background is not None:
            background.finish(exc)  # abandons the COPY: the transaction rolls back
        raise
    finally:
        if engine is not None:
            engine.close()
    if background is not None:
        background.finish()
    return p


def _decide_lines(xs: list[Line], people, used, book, towns, inst_names) -> dict[int, dict]:
    """Recipients' lines (in settlement-date order) decided by the engine as one-stop lines, the caps carried
    over per person and year; their 应救未救 alerts by row number."""
    alerts: dict[int, dict] = {}
    policies: dict = {}  # (date, town) → policy_for's choice (the same for every person of the town that day)
    for x in xs:
        pid, person = people[x.id_number]
        x.person_id = pid
        if not person.categories_on(x.settled_on):
            continue
        town = person.town_on(x.settled_on)
        policy = policies.get((x.settled_on, town))
        if policy is None:
            policy = policies[(x.settled_on, town)] = policy_for(x.settled_on, person=person, book=book)
        d, _ = decide_bill(person, bill_for_engine(x, institution=_Institution(x.level, x.designated), ref=x.settlement_no),
                           used[(pid, x.settled_on.year)], policy=policy)
        x.engine_assistance = d.amount
        x.scheme = str(d.scheme) if d.scheme is not None else ""
        x.category = d.category or ""
        caps = used[(pid, x.settled_on.year)]
        paid = x.assistance
        if x.scheme:  # what was (or should have been) paid uses the cap of the scheme the engine chose
            caps[x.scheme] = caps.get(x.scheme, ZERO) + (paid if paid else d.amount)
        if d.amount > 0 and paid == 0:
            ratio = f"{d.ratio * 100:.0f}%" if d.ratio is not None else "—"
            alerts[x.row_number] = {
                "kind": AlertKind.YJWJ, "settlement_no": x.settlement_no, "id_number": x.id_number, "name": x.name,
                "person_id": pid, "town_id": towns.get(town) or x.town_id, "year": x.settled_on.year,
                "burden": x.burden, "expected": d.amount, "threshold": None,
                "figures": {
                    "结算编号": x.settlement_no, "结算日期": x.settled_on.isoformat(),
                    "医疗机构": inst_names.get(x.institution_id) or f"{x.institution_text}（本系统未登记的机构）",
                    "医疗总费用": _money(x.total_cost),
                    "政策范围内费用": _money(x.in_policy_cost), "医疗救助支付": _money(paid),
                    "结算日身份": "、".join(d.category_names.get(c, c) for c in person.categories_on(x.settled_on)),
                    "按政策应付医疗救助": _money(d.amount), "救助方案": SCHEME_ZH.get(x.scheme, x.scheme), "救助比例": ratio,
                },
            }
    return alerts


ENGINE_SPLIT_MIN = 20_000  # recipients' lines: below that a second process costs more than it saves


class _EngineHalf(_Forked):
    """Half of the people on our rosters (every other one) — their lines decided by a forked process while this
    one decides the other half: the caps carry over per person, so the halves are independent and each line's
    decision is the one a single pass makes. It hands back, through a temporary file, each line's amount
    (as text), scheme and category, and its 应救未救 alerts (amounts as text); it uses nothing of the
    database and leaves by ``os._exit``. Forked before any COPY thread starts. If it fails, this process
    decides its half too (``result`` returns None)."""

    def __init__(self, known: list[Line], people, used, book, towns, inst_names):
        known = sorted(known, key=_by_date_and_row)
        numbers = sorted({x.id_number for x in known})
        theirs = set(numbers[1::2])
        self.mine = [x for x in known if x.id_number not in theirs]
        self.theirs = [x for x in known if x.id_number in theirs]

        def work(write_end: int) -> None:
            alerts = _decide_lines(self.theirs, people, used, book, towns, inst_names)
            decisions = [(str(x.engine_assistance), x.scheme, x.category) if x.category or x.scheme
                         or x.engine_assistance != ZERO else (None, "", "") for x in self.theirs]
            out = [(n, {**a, "kind": str(a["kind"]), "burden": str(a["burden"]), "expected": str(a["expected"])})
                   for n, a in alerts.items()]
            self.file.write(marshal.dumps((decisions, out)))
            self.file.flush()
            os.write(write_end, b"1")

        self._start(work)

    def result(self):
        """(decisions, alerts) of its half, or None when it failed."""
        try:
            if self.pid is None:
                return None
            ready, _, _ = select.select([self.pipe], [], [], CHILD_PATIENCE)
            if not ready or os.read(self.pipe, 1) != b"1":
                return None
            self.file.seek(0)
            return marshal.loads(self.file.read())
        finally:
            self.close()


def _decide(lines, known, summary, people, used, book, thresholds, towns, inst_names, before, bills, raised, *, decided=None,
            engine: _EngineHalf | None = None) -> Plan:
    """The plan's pure part: no query (a COPY may be under way on the connection). ``decided`` is given the
    recipients' lines once the engine has decided them (they join the background COPY while the year
    burdens and their alerts are computed)."""
    in_force: dict = {}  # (kind, date) → the threshold then (a month has some thirty settlement dates)

    # every row of a recipient decided as a one-stop line, in settlement-date order (caps carry over); half of the
    # people's rows decided by a forked process meanwhile (``_EngineHalf``), when there are many
    if engine is not None:
        mine, theirs = engine.mine, engine.theirs
    else:
        known = sorted(known, key=_by_date_and_row)
        mine, theirs = known, []
    alerts_by_row = _decide_lines(mine, people, used, book, towns, inst_names)
    if theirs:
        got = engine.result()
        if got is None:  # it failed: decided here, as without it
            alerts_by_row.update(_decide_lines(theirs, people, used, book, towns, inst_names))
        else:
            decisions, alerts = got
            D = Decimal
            for x, (amount, scheme, category) in zip(theirs, decisions, strict=True):
                x.person_id = people[x.id_number][0]
                if amount is not None:
                    x.engine_assistance, x.scheme, x.category = D(amount), scheme, category
            for n, a in alerts:
                a["kind"], a["burden"], a["expected"] = AlertKind.YJWJ, D(a["burden"]), D(a["expected"])
                alerts_by_row[n] = a
        known = sorted((*mine, *theirs), key=_by_date_and_row)
    else:
        known = mine
    alerts_new: list[dict] = [a for x in known if (a := alerts_by_row.get(x.row_number)) is not None]  # in the order raised
    summary.alerts[AlertKind.YJWJ] += len(alerts_new)

    if decided is not None:
        decided(known)
    # year-to-date burdens (D11) and the alerts on them (D12)
    per: dict[tuple[str, int], list[Line]] = defaultdict(list)
    for x in lines:
        per[(x.id_number, x.settled_on.year)].append(x)
    burdens_new, burdens_changed, alerts_changed = [], [], []
    for (idn, year), xs in per.items():
        hit = people.get(idn)
        pid, person = hit if hit else (None, None)
        old = before.get((idn, year))
        # one pass over the person's rows: the last settlement and the four sums
        last = xs[0]
        burden, before_, after_, inpol = (old.burden - old.bills_burden, old.self_pay_before, old.self_pay_after,
                                          old.in_policy_cost) if old else (ZERO, ZERO, ZERO, ZERO)
        for x in xs:  # in file order: on equal dates the later row is the last
            if x.settled_on >= last.settled_on:
                last = x
            burden += x.burden
            before_ += x.self_pay_before
            after_ += x.self_pay_after
            inpol += x.in_policy_cost
        town_id = (towns.get(person.town_on(last.settled_on)) if person else None) or last.town_id
        bills_now = bills.get((pid, year), ZERO) if pid else ZERO
        total = burden + bills_now
        settlements = (old.settlements if old else 0) + len(xs)
        if old is None:  # a tuple in BURDEN_COLUMNS' order (half a million of them: no dict each)
            burdens_new.append((idn, year, total, bills_now, before_, after_, inpol, settlements, last.name, pid, town_id))
        else:
            old.burden, old.bills_burden, old.self_pay_before, old.self_pay_after = total, bills_now, before_, after_
            old.in_policy_cost, old.settlements, old.name, old.person_id, old.town_id = inpol, settlements, last.name, pid, town_id
            burdens_changed.append(old)
        # which threshold: a recipient (an identity in the year up to the last settlement) or nobody's
        if person is not None and _held_in_year(person, year, last.settled_on):
            kind = AlertKind.FDZZ
        elif person is None or not _held_in_year(person, year, None):
            kind = AlertKind.YBZP
        else:
            continue
        hit = in_force.get((kind, last.settled_on))
        if hit is None:
            hit = in_force[(kind, last.settled_on)] = thresholds.of(kind, last.settled_on)
        threshold, basis = hit
        if threshold is None or total < threshold:
            continue
        figures = {
            "年度": str(year), "年度个人负担": _money(total), "其中本系统手工报销": _money(bills_now),
            "年度结算次数": str(settlements), "预警标准": _money(threshold), "标准依据": basis,
            "最近结算日期": last.settled_on.isoformat(),
        }
        existing = raised.get((kind, idn, year))
        if existing is not None:
            existing.burden, existing.threshold, existing.figures = total, threshold, figures
            alerts_changed.append(existing)
            continue
        summary.alerts[kind] += 1
        alerts_new.append({
            "kind": kind, "settlement_no": None, "id_number": idn, "name": last.name, "person_id": pid, "town_id": town_id,
            "year": year, "burden": total, "expected": ZERO, "threshold": threshold, "figures": figures,
        })
    return Plan(lines, burdens_new, burdens_changed, alerts_new, alerts_changed, [] if decided is not None else None)


# --- the whole import -----------------------------------------------------------------------------
def import_high_cost(*, data: bytes, file_name: str, month: date, user=None, apply: bool = False) -> tuple[Summary, HighCostImport | None]:
    """Read, check and (with ``apply``) record a month's export. Raises ``Unreadable`` when the file
    cannot be read at all. The same file twice: every row is a duplicate the second time (nothing
    counted twice, no alert raised)."""
    # a million Line objects and their Decimals are made and all kept until the end: the cyclic garbage
    # collector's passes over them find nothing and cost ~15% of the reading (measured at 100,000 lines)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import(data=data, file_name=file_name, month=month, user=user, apply=apply)
    finally:
        if collecting:
            gc.enable()


def _import(*, data: bytes, file_name: str, month: date, user, apply: bool) -> tuple[Summary, HighCostImport | None]:
    month = month.replace(day=1)
    sha = hashlib.sha256(data).hexdigest()
    summary = Summary()
    t = time.perf_counter()
    lines, reading = read_lines(data, summary)
    t = summary.timed("读取与校验", t)
    if not apply:
        plan(lines, summary)
        summary.timed("比对与预警计算", t)
        return summary, None
    with transaction.atomic():
        imp = HighCostImport.objects.create(month=month, file_name=file_name[:200], sha256=sha, reading=reading, imported_by=user)
        p = plan(lines, summary, imp=imp)  # also writes the rows of people not on our rosters, meanwhile
        t = summary.timed("比对与预警计算", t)
        imp.rows, imp.valid, imp.invalid, imp.duplicates = summary.rows, summary.valid, summary.invalid, summary.duplicates
        imp.people, imp.alerts, imp.errors, imp.warnings = summary.people, dict(summary.alerts), summary.errors, summary.warnings
        imp.save(update_fields=["rows", "valid", "invalid", "duplicates", "people", "alerts", "errors", "warnings"])
        _write(imp, p, user, summary)
        t = time.perf_counter()
        add_import(imp, month_cells(p.lines))  # the indicator's month totals, in the same transaction
        summary.timed("自付比例月度合计", t)
        audit_bulk(actor=user, what="导入高额医疗费用明细", obj=imp, summary={
            "行数": summary.rows, "有效行": summary.valid, "无效行": summary.invalid, "重复行": summary.duplicates,
            "人数": summary.people, **{AlertKind(k).label: v for k, v in summary.alerts.items()},
        })
        t = time.perf_counter()
    summary.timed("提交", t)
    return summary, imp


ROW_COLUMNS = ("high_cost_import_id", "row_number", "settlement_no", "id_number", "name", "person_id", "town_id", "settled_on",
               "year", "institution_id", "institution_text", "level", "kind", "disease", "total_cost", "in_policy_cost",
               "basic_paid", "critical_paid", "large_paid", "assistance_paid", "youfu_paid", "other_paid", "burden",
               "self_pay_before", "self_pay_after", "engine_assistance", "scheme", "category")
BURDEN_COLUMNS = ("id_number", "year", "burden", "bills_burden", "self_pay_before", "self_pay_after", "in_policy_cost",
                  "settlements", "name", "person_id", "town_id", "updated_at")
ALERT_COLUMNS = ("kind", "status", "id_number", "name", "person_id", "town_id", "year", "row_id", "burden", "threshold", "expected",
                 "figures", "raised_by_import_id", "updated_by_import_id", "due_on", "created_at")
_TEXT_TYPES = ("CharField", "TextField", "JSONField")
#: columns whose text passed normalise_text, the ID number check or is a code: no tab, newline or CR in them
NORMALISED = frozenset({"settlement_no", "id_number", "name", "institution_text", "kind", "disease", "scheme", "category", "status"})


def _line_format(model, columns: tuple[str, ...], normalised: frozenset[str] = frozenset()):
    """A function from a row (tuple) to one line of COPY's text format, compiled once per column set:
    one f-string — numbers, dates and booleans by ``str`` (``!s``: a Decimal's ``format`` costs three
    times its ``str``); text escaped by four ``replace`` (a quarter of ``translate``'s time); a JSON
    field's value dumped (``ensure_ascii=False``) and escaped; ``\\N`` for a null where the column allows
    one — instead of a Python call per value. Text of the ``normalised`` columns (through
    ``normalise_text``, an ID number check or a code) and JSON (``json.dumps`` writes control characters
    as escapes) hold no tab, newline or carriage return: only their backslashes are doubled."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    parts = []
    for i, c in enumerate(columns):
        f = fields[c]
        kind = f.get_internal_type()
        if kind in _TEXT_TYPES:
            v = f"J(r[{i}])" if kind == "JSONField" else f"r[{i}]"
            if kind == "JSONField" or c in normalised:
                v += ".replace(B, BB)"  # no backslash inside an f-string's braces
            else:
                v += ".replace(B, BB).replace(T, TT).replace(L, LL).replace(R, RR)"
        else:
            v = f"r[{i}]"
        parts.append("{" + (f"(N if r[{i}] is None else {v})!s" if f.null else f"{v}!s") + "}")
    source = "lambda r: f'" + "\\t".join(parts) + "\\n'"
    names = {"N": "\\N", "J": _json_text, "B": "\\", "BB": "\\\\", "T": "\t", "TT": "\\t", "L": "\n", "LL": "\\n", "R": "\r", "RR": "\\r"}
    return eval(source, names)  # noqa: S307 - built from our own column names only


_json_text = DjangoJSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps builds one per call unless ensure_ascii


def copy_rows(model, columns: tuple[str, ...], rows, normalised: frozenset[str] = frozenset()) -> int:
    """Rows (tuples in the order of ``columns``, attnames) into ``model``'s table: on PostgreSQL as COPY
    text written in blocks of 10,000 lines (a generator is consumed as it goes: nothing is held);
    elsewhere through ``claims.bulk.insert_rows``."""
    if connection.vendor != "postgresql":
        return insert_rows(model, [dict(zip(columns, r, strict=True)) for r in rows])
    meta = model._meta
    column = {f.attname: f.column for f in meta.concrete_fields}
    names = ", ".join(f'"{column[c]}"' for c in columns)
    line = _line_format(model, columns, normalised)
    n = 0
    block: list[str] = []
    with connection.cursor() as cur, cur.cursor.copy(f'COPY "{meta.db_table}" ({names}) FROM STDIN') as copy:
        for r in rows:
            block.append(line(r))
            if len(block) >= 10_000:
                copy.write("".join(block).encode())
                n += len(block)
                block = []
        if block:
            copy.write("".join(block).encode())
            n += len(block)
    return n


def _copy_text(model, columns: tuple[str, ...], lines: list[str]) -> None:
    """Lines already in COPY's text format (``_line_format``) into ``model``'s table (PostgreSQL only)."""
    meta = model._meta
    column = {f.attname: f.column for f in meta.concrete_fields}
    names = ", ".join(f'"{column[c]}"' for c in columns)
    with connection.cursor() as cur, cur.cursor.copy(f'COPY "{meta.db_table}" ({names}) FROM STDIN') as copy:
        for i in range(0, len(lines), 10_000):
            copy.write("".join(lines[i:i + 10_000]).encode())


def _row_values(pk: int, lines):
    """The rows' values in ROW_COLUMNS' order."""
    for x in lines:
        yield (pk, x.row_number, x.settlement_no, x.id_number, x.name, x.person_id, x.town_id, x.settled_on, x.settled_on.year,
               x.institution_id, x.institution_text, x.level, x.kind, x.disease, x.total_cost, x.in_policy_cost, x.basic_paid,
               x.critical_only, x.large, x.assistance, x.youfu_paid, x.other_paid, x.burden, x.self_pay_before,
               x.self_pay_after, x.engine_assistance, x.scheme, x.category)


class _CopyInBackground:
    """A COPY sent by psycopg's queued writer: ``add`` formats rows (tuples in ``columns``' order) and
    queues their text (returns once formatted), a psycopg thread sends it while the caller goes on with
    pure Python, and the server ingests it on the other core; ``finish`` waits for the end (or, with an
    error, abandons the COPY: the transaction then rolls back). The caller must not use the connection
    in between."""

    def __init__(self, model, columns: tuple[str, ...], normalised: frozenset[str] = frozenset()):
        from psycopg.copy import QueuedLibpqWriter

        connection.ensure_connection()
        meta = model._meta
        column = {f.attname: f.column for f in meta.concrete_fields}
        names = ", ".join(f'"{column[c]}"' for c in columns)
        self.line = _line_format(model, columns, normalised)
        self.cursor = connection.connection.cursor()
        self.context = self.cursor.copy(f'COPY "{meta.db_table}" ({names}) FROM STDIN', writer=QueuedLibpqWriter(self.cursor))
        self.copy = self.context.__enter__()

    def add(self, rows) -> None:
        line = self.line
        try:
            block: list[str] = []
            for r in rows:
                block.append(line(r))
                if len(block) >= 10_000:
                    self.copy.write("".join(block).encode())
                    block = []
            if block:
                self.copy.write("".join(block).encode())
        except BaseException as exc:
            self.finish(exc)
            raise

    def finish(self, exc: BaseException | None = None) -> None:
        if self.copy is None:
            return
        self.copy = None
        try:
            if exc is None:
                self.context.__exit__(None, None, None)
            else:
                try:
                    self.context.__exit__(type(exc), exc, exc.__traceback__)
                except Exception:  # noqa: BLE001, S110 - the COPY's own failure report; the caller raises the cause
                    pass
        finally:
            self.cursor.close()


def _lock_referenced(p: Plan) -> None:
    """What a foreign-key trigger would do per row (the rows, year burdens and alerts carry no database
    constraint on what they refer to: a million trigger events at commit cost as much as the COPY
    itself), done once per import: every town, institution and person referred to is locked FOR KEY
    SHARE until the commit (none can be deleted meanwhile) and must exist."""
    from beneficiaries.models import Person

    wanted = {
        Town: {x.town_id for x in p.lines} | {b[10] for b in p.burdens_new} | {b.town_id for b in p.burdens_changed}
        | {a["town_id"] for a in p.alerts_new},
        Institution: {x.institution_id for x in p.lines if x.institution_id is not None},
        Person: {x.person_id for x in p.lines if x.person_id is not None} | {a["person_id"] for a in p.alerts_new if a["person_id"]},
    }
    with connection.cursor() as cur:
        for model, ids in wanted.items():
            ids = sorted(ids)
            found = 0
            for part in _chunks(ids, BIG_CHUNK):
                if connection.vendor == "postgresql":
                    cur.execute(f'SELECT "id" FROM "{model._meta.db_table}" WHERE "id" = ANY(%s) ORDER BY "id" FOR KEY SHARE', [part])
                    found += len(cur.fetchall())
                else:
                    found += model.objects.filter(pk__any=part).count()
            if found != len(ids):
                raise RuntimeError(f"{model._meta.verbose_name}：导入所引用的{len(ids) - found}条记录已不存在，请重新导入。")


HISTORY_COLUMNS = ("alert_id", "from_status", "to_status", "by_id", "at", "reason")
HISTORY_NORMALISED = frozenset({"from_status", "to_status", "reason"})  # codes and our own text


def _new_ids(model, n: int) -> list[int]:
    """``n`` values of ``model``'s id sequence, ascending (ours alone: another transaction's never come between
    by taking one of them)."""
    if not n:
        return []
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, %s)", [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column])
        sequence = cur.fetchone()[0]
        cur.execute("SELECT string_agg(nextval(%s::regclass)::text, ',') FROM generate_series(1, %s)", [sequence, n])
        return sorted(map(int, cur.fetchone()[0].split(",")))


def month_cells(lines: list[Line]) -> list[tuple]:
    """The indicator's month totals of the rows written (``indicator._cells`` of them, without reading
    them back): (year, month, category, town, settlements, in-policy, before, after) per cell of the
    recipients' rows (a category chosen by the engine), in that order."""
    cells: dict[tuple, list] = {}
    for x in lines:
        if x.category:
            key = (x.settled_on.year, x.settled_on.month, x.category, x.town_id)
            c = cells.get(key)
            if c is None:
                cells[key] = [1, x.in_policy_cost, x.self_pay_before, x.self_pay_after]
            else:
                c[0] += 1
                c[1] += x.in_policy_cost
                c[2] += x.self_pay_before
                c[3] += x.self_pay_after
    return [(*key, *c) for key, c in sorted(cells.items())]


def _write(imp: HighCostImport, p: Plan, user, summary: Summary | None = None) -> None:
    from .followup import due_date

    summary = summary or Summary()
    t = time.perf_counter()
    _lock_referenced(p)
    t = summary.timed("锁定引用的镇街、机构和人员", t)
    copy_rows(HighCostRow, ROW_COLUMNS, _row_values(imp.pk, p.lines if p.rows_left is None else p.rows_left), NORMALISED)
    t = summary.timed("写入结算行（COPY）", t)
    now = timezone.now()
    now_text = str(now)  # a datetime's str costs ~1.5 µs: once, not per row
    due = due_date(imp.imported_at.date() if imp.imported_at else date.today())
    status, pk = Alert.Status.OPEN.value, imp.pk
    by_year = [a for a in p.alerts_new if not a["settlement_no"]]  # 负担仍重 / 疑似因病致贫返贫: no row to find
    by_row = [a for a in p.alerts_new if a["settlement_no"]]  # 应救未救: the row's id, once the rows are in
    reason = f"{imp.month:%Y年%m月}高额医疗费用监测"
    row_ids = {}
    wanted = [a["settlement_no"] for a in by_row]
    for part in _chunks(wanted, BIG_CHUNK):
        row_ids.update(HighCostRow.objects.filter(settlement_no__any=Many(part)).values_list("settlement_no", "pk"))
    if connection.vendor == "postgresql":
        # the alerts' ids taken from their sequence (the rows' alerts, then the year alerts: the order they were raised
        # in), so that their lines and their history's are made without reading them back; each COPY's lines are made
        # here while the server takes in the ones sent (psycopg's queued writer)
        alert_ids = _new_ids(Alert, len(p.alerts_new))
        if p.alerts_new:
            def alert_values():
                for a, alert_id in zip((*by_row, *by_year), alert_ids, strict=True):
                    yield (alert_id, a["kind"], status, a["id_number"], a["name"], a["person_id"], a["town_id"], a["year"],
                           row_ids.get(a["settlement_no"]) if a["settlement_no"] else None, a["burden"], a["threshold"],
                           a["expected"], a["figures"], pk, pk, due, now_text)
                    a["figures"] = None  # its text is made: the dict of figures goes (the peak does not grow by the lines)

            background = _CopyInBackground(Alert, ("id", *ALERT_COLUMNS), NORMALISED)
            background.add(alert_values())
            background.finish()
            # their history (append-only): what record_start_many writes, one line each
            background = _CopyInBackground(AlertStatusChange, HISTORY_COLUMNS, HISTORY_NORMALISED)
            background.add((i, NEW, status, user.pk if user is not None else None, now_text, reason) for i in alert_ids)
            background.finish()
        t = summary.timed("写入预警及其历史", t)
        if p.burdens_new:
            background = _CopyInBackground(PersonYearBurden, BURDEN_COLUMNS, NORMALISED)
            background.add((*b, now_text) for b in p.burdens_new)
            background.finish()
    else:
        if p.alerts_new:
            copy_rows(Alert, ALERT_COLUMNS, ((a["kind"], status, a["id_number"], a["name"], a["person_id"], a["town_id"], a["year"],
                                              row_ids.get(a["settlement_no"]) if a["settlement_no"] else None, a["burden"],
                                              a["threshold"], a["expected"], a["figures"], pk, pk, due, now)
                                             for a in (*by_row, *by_year)), NORMALISED)
            ids = list(Alert.objects.filter(raised_by_import_id=imp.pk).values_list("pk", flat=True))
            record_start_many(Alert, ids, by=user, reason=reason)
        t = summary.timed("写入预警及其历史", t)
        copy_rows(PersonYearBurden, BURDEN_COLUMNS, ((*b, now) for b in p.burdens_new), NORMALISED)
    if p.burdens_changed:
        PersonYearBurden.objects.bulk_update(
            p.burdens_changed, ["burden", "bills_burden", "self_pay_before", "self_pay_after", "in_policy_cost", "settlements",
                                "name", "person_id", "town_id"], batch_size=CHUNK)
    t = summary.timed("写入年度负担", t)
    for a in p.alerts_changed:
        a.updated_by_import_id = imp.pk
    if p.alerts_changed:
        Alert.objects.bulk_update(p.alerts_changed, ["burden", "threshold", "figures", "updated_by_import"], batch_size=CHUNK)
    summary.timed("写入预警及其历史", t)  # the alerts updated (D12)


__all__ = ["Summary", "Unreadable", "import_high_cost"]
