"""Checking a roster: each row validated and normalised, then compared with the identities the
department has open (the state its last confirmed roster left), as tests/samples/ROSTERS.md defines.

Streams: rows are checked in chunks (one person lookup per chunk), so a 1,000,000-row file never
sits in memory as objects; only the keys needed to find endings are kept.
"""

from __future__ import annotations

import calendar
import gc
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from yfbz.files.cells import DATE_FORMATS_ZH, parse_date  # the roster's dates are read as every file's dates
from yfbz.rules.idcard import (
    IdNumberError,
    age_on,
    birth_date_of,
    check_character,
    convert_15_to_18,
    parse_id_number,
)

from ..models import Category, CategoryAlias, Identity, Person, RosterRow, RosterUpload, Town
from . import bulk, phases
from .reading import LABEL, Sheet, cell_text, normalise_text

Outcome = RosterRow.Outcome
CHUNK = 5000


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


@dataclass(slots=True)
class Checked:
    row_number: int | None
    cells: list
    id_number: str = ""
    name: str = ""
    category_id: int | None = None
    town_id: int | None = None
    village: str = ""
    phone: str = ""
    certified_on: date | None = None
    exits_on: date | None = None
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    outcome: str = Outcome.INVALID
    person_id: int | None = None
    identity_id: int | None = None
    birth_date: date | None = None

    def error(self, f: str, message: str) -> None:
        self.errors.append({"row": self.row_number, "field": LABEL.get(f, f), "message": message})

    def warn(self, f: str, message: str) -> None:
        self.warnings.append({"row": self.row_number, "field": LABEL.get(f, f), "message": message})


@dataclass(slots=True)
class Previous:
    """An identity the department has open before this roster."""

    identity_id: int
    person_id: int
    name: str
    town_id: int | None
    village: str
    phone: str

    def person(self) -> tuple:
        """The person as the comparison reads them (what a lookup of the people table gives)."""
        return (self.person_id, self.name, self.town_id, self.village, self.phone)


class Context:
    """The reference data one upload is checked against, read once."""

    def __init__(self, upload: RosterUpload, *, lookup_using=None):
        self.upload = upload
        self.lookup_using = lookup_using  # a side connection when the main one streams a COPY
        self.department = upload.department
        self.month = upload.month
        self.age_day = month_end(upload.month)
        self.categories = {c.pk: c for c in Category.objects.select_related("department")}
        self.own_aliases: dict[str, int] = {}
        self.other_aliases: dict[str, Category] = {}
        for wording, dept_id, cat_id in CategoryAlias.objects.values_list("wording", "department_id", "category_id"):
            key = _wording_key(wording)
            if dept_id == self.department.pk:
                self.own_aliases[key] = cat_id
            else:
                self.other_aliases.setdefault(key, self.categories[cat_id])
        for cat in self.categories.values():  # the official name always works for its own department
            key = _wording_key(cat.name)
            if cat.department_id == self.department.pk:
                self.own_aliases.setdefault(key, cat.pk)
            else:
                self.other_aliases.setdefault(key, cat)
        self.towns: dict[str, int] = {}
        self.town_names: dict[int, str] = dict(Town.objects.values_list("pk", "name"))
        for town in Town.objects.filter(active=True):
            self.towns[town.name] = town.pk
            self.towns.setdefault(town.short_name, town.pk)
        self.min_age = _category_min_ages(self.categories, self.age_day)
        self.previous: dict[tuple[str, int], Previous] = {}
        # a snapshot's endings and a delta's exit rows are both found among the open identities
        rows = (
            Identity.objects.filter(category__department=self.department, valid_to__isnull=True)
            .values_list("person__id_number", "category_id", "id", "person_id", "person__name", "person__town_id",
                         "person__village", "person__phone")
            .iterator(chunk_size=10_000)
        )
        for idn, cat_id, *rest in rows:
            self.previous[(idn, cat_id)] = Previous(*rest)


@contextmanager
def gc_paused():
    """Python's cyclic garbage collector paused while a roster is checked (issue 14). The check makes a
    few objects per row and frees them by reference counting (it makes no reference cycles), but every
    automatic collection walks the objects the process holds — the department's open identities, the
    (ID, category) of every row seen — so their cost grows with the roster. Restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _wording_key(text: str) -> str:
    return "".join(normalise_text(text).split())


def _check_id(row: Checked, raw) -> None:
    if isinstance(raw, float):
        row.error("id_number", "身份证号被Excel存成了数字，后几位已丢失；请将该列设为文本格式后重新导出")
        return
    text = "".join(normalise_text(cell_text(raw)).split()).upper()
    if not text:
        row.error("id_number", "身份证号为空")
        return
    row.id_number = text
    if len(text) == 15 and text.isdigit():
        try:
            converted = convert_15_to_18(text)
        except IdNumberError as exc:
            row.error("id_number", str(exc))
            return
        row.warn("id_number", f"15位旧号码{text}已转换为18位：{converted}")
        text = converted
    try:
        parsed = parse_id_number(text, allow_15=False)
    except IdNumberError as exc:
        row.error("id_number", str(exc))
        return
    row.id_number = parsed.number
    row.birth_date = parsed.birth_date


def check_row(ctx: Context, number: int, cells: list, sheet: Sheet) -> Checked:
    """Validate and normalise one row (no database access: lookups come from the context)."""
    cols = sheet.columns
    texts = [cell_text(c) for c in cells]
    width = len(texts)

    def get(f):
        i = cols.get(f)
        return texts[i] if i is not None and i < width else ""

    def raw(f):
        i = cols.get(f)
        return cells[i] if i is not None and i < width else None

    row = Checked(number, texts)
    _check_id(row, raw("id_number"))
    row.name = normalise_text(get("name"))
    if not row.name:
        row.error("name", "姓名为空")
    wording = _wording_key(get("category"))
    if not wording:
        row.error("category", "身份类别为空")
    elif wording in ctx.own_aliases:
        row.category_id = ctx.own_aliases[wording]
    elif wording in ctx.other_aliases:
        other = ctx.other_aliases[wording]
        row.error(
            "category",
            f"「{wording}」是{other.department.name}认定的类别（{other.name}），不属于本部门（{ctx.department.name}）",
        )
    else:
        row.error("category", f"未知的身份类别写法：「{wording}」，请管理员在“类别写法”中添加后重新校验")
    town = "".join(normalise_text(get("town")).split())
    if not town:
        row.error("town", "所属镇街为空")
    elif town in ctx.towns:
        row.town_id = ctx.towns[town]
    else:
        row.error("town", f"未知的镇街：「{town}」")
    # never silently cut (issue 9): too long is an error; the stored row keeps the cell as sent (cells)
    for f, value, limit in (("name", row.name, 50), ("village", normalise_text(get("village")), 60),
                            ("phone", "".join(normalise_text(get("phone")).split()), 30)):
        if len(value) > limit:
            row.error(f, f"超过{limit}个字符（共{len(value)}个），请核对")
    row.village = normalise_text(get("village"))[:60]
    row.phone = "".join(normalise_text(get("phone")).split())[:30]
    for f in ("certified_on", "exits_on"):
        try:
            setattr(row, f, parse_date(raw(f)))
        except ValueError as exc:
            row.error(f, f"无法识别的日期：「{exc}」（可写作{DATE_FORMATS_ZH}）")
    if row.certified_on and row.exits_on and row.exits_on < row.certified_on:
        row.error("exits_on", f"退出日期{row.exits_on}早于认定日期{row.certified_on}")
    min_age = ctx.min_age.get(row.category_id)
    if min_age and row.birth_date:
        age = age_on(row.birth_date, ctx.age_day)
        if age < min_age:
            name = ctx.categories[row.category_id].name
            row.warn("category", f"按身份证号计算，{ctx.age_day}时{age}周岁，不满{min_age}周岁（{name}）")
    return row


_BAD = object()  # a cell the reference check would refuse


def row_checker(ctx: Context, sheet: Sheet) -> Callable[[int, list], Checked]:
    """check_row compiled for one sheet (issue 14): the column positions found once, each distinct cell of
    the columns that repeat (category, town, dates) read once, an ID number already in its normal form
    checked without normalising it. The fast path only ever produces a clean row (no error, no warning):
    whatever check_row would find fault with or warn about — an unknown wording, a 15-digit number, a
    wrong check character, a date it cannot read, an age below the category's condition … — is handed to
    check_row itself, so every message stays the reference's, word for word and in the same order.
    tests/beneficiaries/test_roster_fast_check.py compares both on a file with every kind of bad row."""
    cols = sheet.columns
    i_id, i_name, i_cat, i_town, i_village, i_phone, i_cert, i_exit = (
        cols.get(k) for k in ("id_number", "name", "category", "town", "village", "phone", "certified_on", "exits_on")
    )
    own, town_ids, min_ages, age_day = ctx.own_aliases, ctx.towns, ctx.min_age, ctx.age_day
    categories: dict[str, int | None] = {}  # cell text → the department's category, None when check_row errs
    towns: dict[str, int | None] = {}
    dates: dict[str, object] = {}  # cell text → date, None (empty) or _BAD
    births: dict[str, object] = {}  # YYYYMMDD → date or _BAD
    normalize, is_str = unicodedata.normalize, str

    def text_of(cells, i, width):
        if i is None or i >= width:
            return ""
        c = cells[i]
        return c if c.__class__ is is_str else cell_text(c)

    def date_of(cells, i, width):
        if i is None or i >= width:
            return None
        raw = cells[i]
        if raw.__class__ is is_str:
            d = dates.get(raw, dates)
            if d is dates:
                try:
                    d = parse_date(raw)
                except ValueError:
                    d = _BAD
                dates[raw] = d
            return d
        try:
            return parse_date(raw)
        except ValueError:
            return _BAD

    def plain(text: str) -> str:  # normalise_text without its cache: names and phones hardly repeat
        return " ".join((text if text.isascii() else normalize("NFKC", text)).split())

    def check(number: int, cells: list) -> Checked:
        width = len(cells)
        # the ID number: 18 ASCII characters, 17 digits and a digit or X, is already what _check_id makes of it
        idn = cells[i_id] if i_id < width else None
        if idn.__class__ is not is_str or len(idn) != 18 or not idn.isascii() or not idn[:17].isdigit():
            return check_row(ctx, number, cells, sheet)
        last = idn[17]
        if not (last.isdigit() or last == "X"):
            return check_row(ctx, number, cells, sheet)
        digits = idn[6:14]
        birth = births.get(digits)
        if birth is None:
            try:
                birth = birth_date_of(digits)
            except IdNumberError:
                birth = _BAD
            else:
                if birth.year < 1850:
                    birth = _BAD
            births[digits] = birth
        if birth is _BAD or check_character(idn[:17]) != last:
            return check_row(ctx, number, cells, sheet)
        name = plain(text_of(cells, i_name, width))
        if not name or len(name) > 50:
            return check_row(ctx, number, cells, sheet)
        wording = text_of(cells, i_cat, width)
        category_id = categories.get(wording, categories)
        if category_id is categories:
            key = _wording_key(wording)
            category_id = categories[wording] = own.get(key) if key else None
        if category_id is None:
            return check_row(ctx, number, cells, sheet)
        town_text = text_of(cells, i_town, width)
        town_id = towns.get(town_text, towns)
        if town_id is towns:
            key = "".join(normalise_text(town_text).split())
            town_id = towns[town_text] = town_ids.get(key) if key else None
        if town_id is None:
            return check_row(ctx, number, cells, sheet)
        village = normalise_text(text_of(cells, i_village, width))
        phone = "".join(plain(text_of(cells, i_phone, width)).split())
        if len(village) > 60 or len(phone) > 30:
            return check_row(ctx, number, cells, sheet)
        certified_on, exits_on = date_of(cells, i_cert, width), date_of(cells, i_exit, width)
        if certified_on is _BAD or exits_on is _BAD or (certified_on and exits_on and exits_on < certified_on):
            return check_row(ctx, number, cells, sheet)
        min_age = min_ages.get(category_id)
        if min_age and age_on(birth, age_day) < min_age:
            return check_row(ctx, number, cells, sheet)
        texts = [c if c.__class__ is is_str else cell_text(c) for c in cells]
        return Checked(number, texts, idn, name, category_id, town_id, village, phone, certified_on, exits_on,
                       birth_date=birth)

    if i_id is None:  # no ID column: every row is an error row (the reader requires the column; kept exact anyway)
        return lambda number, cells: check_row(ctx, number, cells, sheet)
    return check


def _category_min_ages(categories: dict, on) -> dict[int, int]:
    """Category pk → the age its policy condition asks for on ``on`` (52号 第二条: NONGCUN_60 → 60):
    policy data with dates (yfbz.policy), never read from the category's name."""
    from yfbz.core import hooks

    policy_in_force = hooks.get("policy_in_force")  # yfbz.policy.selectors (beneficiaries imports no policy)
    try:
        policy = policy_in_force(on)
    except Exception:  # noqa: BLE001 - a warning only: broken policy data must not stop a roster
        return {}
    out = {}
    for pk, cat in categories.items():
        cond = policy.condition_of(cat.code)
        if cond is not None and cond.min_age is not None:
            out[pk] = cond.min_age
    return out


@dataclass(slots=True)
class Summary:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    new: int = 0
    continuing: int = 0
    changed: int = 0
    ended: int = 0
    previous_open: int = 0
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def as_json(self, *, limit: int | None = None) -> dict:
        out = {k: getattr(self, k) for k in ("rows", "valid", "invalid", "new", "continuing", "changed", "ended")}
        out["errors"] = self.errors[:limit] if limit else self.errors
        out["warnings"] = self.warnings[:limit] if limit else self.warnings
        return out


def _compare(ctx: Context, row: Checked, person, prev: Previous | None) -> None:
    """Outcome of a valid row against the open identities (person: (id, name, town_id, village, phone) or None;
    prev: the open identity of the row's person and category, or None)."""
    if person is not None:
        row.person_id = person[0]
        if person[1] != row.name:
            row.warn("name", f"与已登记姓名不一致：{person[1]}")
    if row.exits_on is not None:
        if prev is None:
            row.error("exits_on", "本部门没有该人员此类别的在册身份，无法办理退出")
            return
        row.outcome, row.identity_id = Outcome.ENDED, prev.identity_id
        return
    if prev is None:
        row.outcome = Outcome.NEW
        return
    row.identity_id = prev.identity_id
    differs = person is not None and (
        person[2] != row.town_id or (row.village and row.village != person[3]) or (row.phone and row.phone != person[4])
    )
    row.outcome = Outcome.CHANGED if differs else Outcome.CONTINUING
    if differs:  # say what changed (issue 11); the phone number itself stays off the page
        parts = []
        if person[2] != row.town_id:
            parts.append(f"镇街 {ctx.town_names.get(person[2], '（无）')} → {ctx.town_names.get(row.town_id, '（无）')}")
        if row.village and row.village != person[3]:
            parts.append(f"村（社区） {person[3] or '（无）'} → {row.village}")
        if row.phone and row.phone != person[4]:
            parts.append("联系电话已更新")
        row.warn("变更内容", "；".join(parts))


def check_roster(
    ctx: Context, sheet: Sheet, *, progress: Callable[[int], None] | None = None, fast: bool = True
) -> Iterator[list[Checked]]:
    """Yield checked rows chunk by chunk, then the snapshot's endings; fills `ctx.summary`. ``fast=False``
    checks every row with check_row alone (the reference the tests compare the fast path with)."""
    summary = ctx.summary = Summary(previous_open=len(ctx.previous))
    first_seen: dict[tuple, int] = {}  # (id, category) → row: finds duplicates, and the identities still listed
    invalid_ids: set[str] = set()
    chunk: list[Checked] = []

    def finish(chunk: list[Checked]) -> list[Checked]:
        with phases.phase("比对"):
            return compare(chunk)

    previous = ctx.previous

    def compare(chunk: list[Checked]) -> list[Checked]:
        # the person of an identity still open is read with it (Context); only the others are looked up
        ids = {r.id_number for r in chunk if not r.errors and (r.id_number, r.category_id) not in previous}
        people = bulk.lookup(Person, "id_number", ids, ("pk", "name", "town_id", "village", "phone"), using=ctx.lookup_using)
        for r in chunk:
            if not r.errors:
                prev = previous.get((r.id_number, r.category_id))
                _compare(ctx, r, prev.person() if prev is not None else people.get(r.id_number), prev)
            if r.errors:
                r.outcome = Outcome.INVALID
                summary.invalid += 1
                summary.errors.extend(r.errors)
                if r.id_number:  # a wrong check character still names the person by the first 17 characters
                    invalid_ids.add(r.id_number[:17])
            else:
                summary.valid += 1
                setattr(summary, str(r.outcome), getattr(summary, str(r.outcome)) + 1)
            summary.warnings.extend(r.warnings)
        summary.rows += len(chunk)
        if progress:
            progress(summary.rows)
        return chunk

    clock, checking = phases.clock, 0.0
    check = row_checker(ctx, sheet) if fast else (lambda number, cells: check_row(ctx, number, cells, sheet))
    for number, cells in phases.timed("读取", sheet.rows):
        start = clock()
        row = check(number, cells)
        key = (row.id_number, row.category_id)
        if not row.errors:
            if key in first_seen:
                row.error("id_number", f"与第{first_seen[key]}行重复（同一身份证号、同一类别）")
            else:
                first_seen[key] = number
        chunk.append(row)
        checking += clock() - start
        if len(chunk) >= CHUNK:
            yield finish(chunk)
            chunk = []
    phases.add("校验", checking)
    if chunk:
        yield finish(chunk)
    if ctx.upload.mode == RosterUpload.Mode.SNAPSHOT:
        # a listed identity whose row failed only in the comparison (an exit for nothing open) is not open: no matter
        yield from phases.timed("比对", _endings(ctx, first_seen, invalid_ids, summary))


def _endings(ctx: Context, listed, invalid_ids, summary: Summary) -> Iterator[list[Checked]]:
    """D6: an open identity absent from a snapshot ends; a person whose row is invalid is never ended for it."""
    end = ctx.month - timedelta(days=1)
    chunk: list[Checked] = []
    for (idn, cat_id), prev in ctx.previous.items():
        if (idn, cat_id) in listed or idn[:17] in invalid_ids:
            continue
        row = Checked(None, [], id_number=idn, name=prev.name, category_id=cat_id, town_id=prev.town_id)
        row.outcome, row.exits_on = Outcome.ENDED, end
        row.person_id, row.identity_id = prev.person_id, prev.identity_id
        summary.ended += 1
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
