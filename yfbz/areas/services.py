"""Changing the area tree: towns moving between districts on a date, towns arriving (entered one by
one or imported from an xlsx/CSV file), and the bureau's dated rows.

Every change locks the town's spans first, keeps them without overlaps, and bumps the policy
revision (signals in apps.py) so every process re-reads the tree. Changes are recorded by the
audit trail (django-auditlog) with who made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from beneficiaries.models import Town
from yfbz.files.cells import parse_date
from yfbz.files.formats import TOWNS
from yfbz.files.reader import FileUnreadable, cell_text, normalise_text, read_table

from .models import DATE_MIN, Area, GroupTown, TownDistrict


class AreaError(ValidationError):
    pass


def _district(area: Area | str) -> Area:
    if isinstance(area, str):
        found = Area.objects.filter(code=area).first() or Area.objects.filter(name=area).first()
        if found is None:
            raise AreaError(f"未知的区：{area}")
        area = found
    if area.kind != Area.Kind.DISTRICT:
        raise AreaError(f"{area.name}不是区，镇街只能隶属于区。")
    return area


@transaction.atomic
def move_town(town: Town, district: Area | str, on: date, *, source: str = "") -> TownDistrict:
    """``town`` is under ``district`` from ``on`` (its span covering ``on`` ends the day before).
    Refused when the town already has a span starting after ``on`` (enter moves in date order)."""
    district = _district(district)
    spans = list(TownDistrict.objects.select_for_update().filter(town=town).order_by("valid_from"))
    later = [s for s in spans if s.valid_from > on]
    if later:
        raise AreaError(f"{town.name}已有{later[0].valid_from:%Y-%m-%d}起隶属{later[0].district.name}的记录，划转日期不能早于它。")
    current = next((s for s in spans if s.covers(on)), None)
    if current is not None:
        if current.district_id == district.pk:
            return current
        if current.valid_from == on:
            current.district = district
            current.source = source or current.source
            current.save(update_fields=["district", "source"])
            return current
        current.valid_to = on - timedelta(days=1)
        current.save(update_fields=["valid_to"])
    return TownDistrict.objects.create(town=town, district=district, valid_from=on, source=source)


@transaction.atomic
def move_towns(towns, district: Area | str, on: date, *, source: str = "") -> list[TownDistrict]:
    """Several towns to one district on one date, all or none (towns locked in a fixed order)."""
    return [move_town(t, district, on, source=source) for t in sorted(towns, key=lambda t: t.pk)]


@transaction.atomic
def add_town(
    code: str, name: str, kind: str, district: Area | str, on: date, *,
    previous_district: Area | str | None = None, groups=(), source: str = "",
) -> Town:
    """A town that joins ``district`` on ``on`` (an arriving town), created if it is new; with
    ``previous_district`` the district it was under before (so its history keeps its district)."""
    district = _district(district)
    town = Town.objects.filter(code=code).first()
    if town is None:
        if Town.objects.filter(name=name).exists():
            raise AreaError(f"镇街名称「{name}」已被其他代码使用。")
        town = Town.objects.create(code=code, name=name, kind=kind)
    if previous_district is not None and not TownDistrict.objects.filter(town=town).exists() and on > DATE_MIN:
        TownDistrict.objects.create(
            town=town, district=_district(previous_district), valid_from=DATE_MIN, valid_to=on - timedelta(days=1),
            source=source,
        )
    move_town(town, district, on, source=source)
    for g in groups:
        group = g if isinstance(g, Area) else Area.objects.filter(code=g).first() or Area.objects.filter(name=g).first()
        if group is None or group.kind != Area.Kind.GROUP:
            raise AreaError(f"未知的镇街组合：{g}")
        group.towns.add(town)
    return town


def group_join(group: Area | str, town: Town, on: date, *, source: str = "") -> GroupTown:
    """``town`` is in the set of towns ``group`` from ``on`` (a policy of the set applies to it from then)."""
    group = _group(group)
    with transaction.atomic():
        if GroupTown.objects.select_for_update().filter(area=group, town=town).exists():
            raise AreaError(f"{town.name}已登记在“{group.name}”中（如需改期，请在后台修改其起止日期）。")
        return GroupTown.objects.create(area=group, town=town, valid_from=on, source=source)


def group_leave(group: Area | str, town: Town, on: date, *, source: str = "") -> GroupTown:
    """``town`` leaves the set ``group`` on ``on``: its last day in the set is the day before."""
    group = _group(group)
    with transaction.atomic():
        span = GroupTown.objects.select_for_update().filter(area=group, town=town).first()
        if span is None or (span.valid_to is not None and span.valid_to < on):
            raise AreaError(f"{town.name}在{on}不在“{group.name}”中。")
        if on <= span.valid_from:
            raise AreaError(f"{town.name}自{span.valid_from}起才在“{group.name}”中，退出日期须晚于该日。")
        span.valid_to = on - timedelta(days=1)
        span.source = "；".join(x for x in (span.source, source) if x)[:200]
        span.save(update_fields=["valid_to", "source"])
        return span


def _group(group: Area | str) -> Area:
    if isinstance(group, Area):
        found = group
    else:
        found = Area.objects.filter(code=group).first() or Area.objects.filter(name=group).first()
    if found is None or found.kind != Area.Kind.GROUP:
        raise AreaError(f"未知的镇街组合：{group}")
    return found


# --- importing towns from a file ----------------------------------------------------------------
#: the towns file's columns (yfbz.files.formats.TOWNS: header wordings as data, docs/files.md)
COLUMNS = {c.key: c.wordings for c in TOWNS.columns}
REQUIRED = ("code", "name", "kind", "district", "valid_from")


@dataclass
class ImportResult:
    towns: list[Town]
    rows: int
    reading: dict | None = None  # the header row, the columns used and ignored (yfbz.files)


def _read_table(data: bytes):
    """The towns file through the one reader (yfbz.files: hostile-file checks, the header found among
    the first rows under any title rows, header wordings as data, the spreadsheet's own row numbers)."""
    try:
        return read_table(data, TOWNS)
    except FileUnreadable as exc:
        raise AreaError(str(exc)) from None


@transaction.atomic
def import_towns(data: bytes, file_name: str, *, source: str = "") -> ImportResult:
    """Towns of a file (xlsx or CSV; header 代码, 名称, 类型, 所属区, 起始日期 and optionally 原属区, 镇街组合,
    under any title rows), each under its district from its date. Every row is checked first; one bad row and
    nothing is written: the message names the row and the field."""
    table = _read_table(data)
    districts = {a.code: a for a in Area.objects.filter(kind=Area.Kind.DISTRICT)}
    districts.update({a.name: a for a in districts.copy().values()})
    groups = {a.code: a for a in Area.objects.filter(kind=Area.Kind.GROUP)}
    groups.update({a.name: a for a in groups.copy().values()})
    errors, parsed = [], []
    where = table.columns
    for n, row in table.rows:
        raw = {k: (row[where[k]] if k in where and where[k] < len(row) else None) for k in COLUMNS}
        item = {k: normalise_text(cell_text(v)) for k, v in raw.items()}
        for k in REQUIRED:
            if not item[k]:
                errors.append(f"第{n}行 {COLUMNS[k][0]}：不能为空")
        if item["kind"] and item["kind"] not in ("街道", "镇"):
            errors.append(f"第{n}行 类型：应为“街道”或“镇”，不是「{item['kind']}」")
        for k in ("district", "previous_district"):
            if item[k] and item[k] not in districts:
                errors.append(f"第{n}行 {COLUMNS[k][0]}：未知的区「{item[k]}」")
        if item["group"] and item["group"] not in groups:
            errors.append(f"第{n}行 镇街组合：未知的镇街组合「{item['group']}」")
        if item["valid_from"]:
            try:
                item["valid_from"] = parse_date(raw["valid_from"])
            except ValueError:
                errors.append(f"第{n}行 起始日期：「{item['valid_from']}」不是日期（如2026-01-25）")
        parsed.append((n, item))
    if errors:
        raise AreaError(errors)
    towns = []
    for n, item in parsed:
        try:
            towns.append(
                add_town(
                    item["code"], item["name"], item["kind"], districts[item["district"]], item["valid_from"],
                    previous_district=districts.get(item["previous_district"]) if item["previous_district"] else None,
                    groups=[groups[item["group"]]] if item["group"] else (), source=source,
                )
            )
        except ValidationError as exc:
            raise AreaError(f"第{n}行：{'；'.join(exc.messages)}") from exc
    return ImportResult(towns, len(parsed), table.reading)
