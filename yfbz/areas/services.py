"""Changing the area tree: towns moving between districts on a date, towns arriving (entered one by
one or imported from an xlsx/CSV file), and the bureau's dated rows.

Every change locks the town's spans first, keeps them without overlaps, and bumps the policy
revision (signals in apps.py) so every process re-reads the tree. Changes are recorded by the
audit trail (django-auditlog) with who made them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from beneficiaries.models import Town

from .models import DATE_MIN, Area, TownDistrict


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


# --- importing towns from a file ----------------------------------------------------------------
COLUMNS = {
    "code": ("代码", "镇街代码"),
    "name": ("名称", "镇街名称", "镇街"),
    "kind": ("类型",),
    "district": ("所属区", "划入区"),
    "valid_from": ("起始日期", "划入日期", "生效日期"),
    "previous_district": ("原属区",),
    "group": ("镇街组合", "政策区域"),
}
REQUIRED = ("code", "name", "kind", "district", "valid_from")


@dataclass
class ImportResult:
    towns: list[Town]
    rows: int


def _read_table(data: bytes, file_name: str) -> list[list[str]]:
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook
            raise AreaError(f"无法读取xlsx文件：{exc}") from exc
        out = []
        for row in ws.iter_rows(values_only=True):
            out.append(["" if v is None else (v.date().isoformat() if hasattr(v, "date") else str(v)).strip() for v in row])
        return out
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise AreaError("无法识别文件编码（应为UTF-8或GB18030的CSV，或xlsx）。")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def _parse_date(text: str) -> date:
    text = text.strip().replace("/", "-").replace(".", "-")
    if " " in text:
        text = text.split(" ")[0]
    return date.fromisoformat(text)


@transaction.atomic
def import_towns(data: bytes, file_name: str, *, source: str = "") -> ImportResult:
    """Towns of a file (xlsx or CSV; header row 代码, 名称, 类型, 所属区, 起始日期 and optionally 原属区,
    镇街组合), each under its district from its date. Every row is checked first; one bad row and
    nothing is written: the message names the row and the field."""
    table = [r for r in _read_table(data, file_name) if any(c for c in r)]
    if not table:
        raise AreaError("文件为空。")
    header = table[0]
    where: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                where[key] = i
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in where]
    if missing:
        raise AreaError(f"表头缺少：{'、'.join(missing)}（第1行）。")
    districts = {a.code: a for a in Area.objects.filter(kind=Area.Kind.DISTRICT)}
    districts.update({a.name: a for a in districts.copy().values()})
    groups = {a.code: a for a in Area.objects.filter(kind=Area.Kind.GROUP)}
    groups.update({a.name: a for a in groups.copy().values()})
    errors, parsed = [], []
    for n, row in enumerate(table[1:], start=2):
        item = {k: (row[where[k]].strip() if k in where and where[k] < len(row) else "") for k in COLUMNS}
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
                item["valid_from"] = _parse_date(item["valid_from"])
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
    return ImportResult(towns, len(parsed))
