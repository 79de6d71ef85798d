"""Designated institutions from a file (定点医药机构, docs/files.md) through the one reader, and the
matching of a settlement file's institution by code or by name.

The import is all or nothing: every row is checked first (code, name, level, yes/no, dates); one
bad row refuses the file with each error naming the spreadsheet's row and the file's header. An
institution is keyed by its code: a known code is updated (name, level, flags, dates), a new one
added. Bank accounts never come from a file (they change only through a confirmed
InstitutionBankChange).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from yfbz.core.audit import audit_bulk
from yfbz.core.roles import Role
from yfbz.files.cells import parse_date, parse_yes_no
from yfbz.files.formats import INSTITUTIONS
from yfbz.files.reader import FileUnreadable, cell_text, normalise_text, read_table

from .models import Institution
from .services import ClaimsError

MAX_ERRORS_SHOWN = 20
FLAGS = ("in_city", "networked", "designated", "active")


def parse_level(value) -> int:
    """0–3, or the words: 未定级, 一级, 二级甲等, 三甲 … (the grade's number is what counts, D5)."""
    text = "".join(normalise_text(cell_text(value)).split())
    if not text or text in ("未定级", "无等级", "未评级", "无"):
        return 0
    if text in ("0", "1", "2", "3"):
        return int(text)
    m = re.match(r"^([一二三123])(级|甲|乙|丙)", text)
    if m:
        return {"一": 1, "二": 2, "三": 3}.get(m.group(1)) or int(m.group(1))
    raise ValueError(f"无法识别的等级“{text}”（可写0–3、未定级、一级、二级、三级或三级甲等）")


def name_key(name: str) -> str:
    """Institution names compared without spaces and bracket widths (重庆市渝北区人民医院 alike)."""
    return "".join(normalise_text(name).split()).replace("(", "（").replace(")", "）")


@dataclass(frozen=True, slots=True)
class InstitutionsImported:
    added: int
    updated: int
    reading: dict


def institutions_import(*, data: bytes, user) -> InstitutionsImported:
    if not (user.is_superuser or user.has_role(Role.SYSADMIN)):
        raise ClaimsError("只有系统管理员可以导入定点医药机构。")
    try:
        table = read_table(data, INSTITUTIONS)
    except FileUnreadable as exc:
        raise ClaimsError(f"定点医药机构文件无法读取：{exc}") from None
    head = {key: table.header_of(key) for key in INSTITUTIONS.labels}
    errors: list[str] = []
    parsed: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    for n, row in table.rows:
        def cell(key, row=row):
            i = table.columns.get(key)
            return row[i] if i is not None and i < len(row) else None

        code = "".join(normalise_text(cell_text(cell("code"))).split())
        name = normalise_text(cell_text(cell("name")))
        if not code:
            errors.append(f"第{n}行“{head['code']}”：不能为空")
            continue
        if len(code) > 30 or len(name) > 120:
            errors.append(f"第{n}行：机构编码最长30字、名称最长120字")
            continue
        if not name:
            errors.append(f"第{n}行“{head['name']}”：不能为空")
            continue
        if code in first_row:
            errors.append(f"第{n}行“{head['code']}”：{code}与第{first_row[code]}行重复")
            continue
        first_row[code] = n
        values = {"name": name}
        if "level" in table.columns:
            try:
                values["level"] = parse_level(cell("level"))
            except ValueError as exc:
                errors.append(f"第{n}行“{head['level']}”：{exc}")
        for flag in FLAGS:
            if flag in table.columns:
                try:
                    values[flag] = parse_yes_no(cell(flag), default=True)
                except ValueError as exc:
                    errors.append(f"第{n}行“{head[flag]}”：{exc}")
        for day in ("designated_from", "designated_to"):
            if day in table.columns:
                try:
                    values[day] = parse_date(cell(day))
                except ValueError as exc:
                    errors.append(f"第{n}行“{head[day]}”：无法识别的日期“{exc}”")
        if values.get("designated_from") and values.get("designated_to") and values["designated_to"] < values["designated_from"]:
            errors.append(f"第{n}行“{head['designated_to']}”：早于定点起始日期")
        parsed[code] = values
    if errors:
        more = f"（另有{len(errors) - MAX_ERRORS_SHOWN}处错误未列出）" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise ClaimsError(f"文件有{len(errors)}处错误，未导入任何机构：" + "；".join(errors[:MAX_ERRORS_SHOWN]) + more)
    added = updated = 0
    with transaction.atomic():
        existing = {i.code: i for i in Institution.objects.select_for_update().filter(code__in=list(parsed)).order_by("pk")}
        for code, values in parsed.items():
            inst = existing.get(code)
            if inst is None:
                Institution.objects.create(code=code, **values)  # one by one: the audit log records each
                added += 1
            elif any(getattr(inst, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(inst, k, v)
                inst.save()
                updated += 1
        audit_bulk(actor=user, what="定点医药机构从文件导入", summary={"新增": added, "更新": updated, "文件行数": len(parsed)},
                   model=Institution)
    return InstitutionsImported(added, updated, table.reading)


class InstitutionMatcher:
    """A settlement file's institution by code, else by name (read once per file)."""

    def __init__(self):
        self.by_code: dict[str, Institution] = {}
        self.by_name: dict[str, list[Institution]] = {}
        for inst in Institution.objects.all():
            self.by_code[inst.code.upper()] = inst
            self.by_name.setdefault(name_key(inst.name), []).append(inst)

    def match(self, code: str, name: str) -> tuple[Institution | None, str]:
        """(institution, why not): by code; a code we do not know (the platform's own numbering), or
        none, by the name when exactly one institution bears it."""
        code = "".join(normalise_text(code).split()).upper()
        if code and code in self.by_code:
            return self.by_code[code], ""
        found = self.by_name.get(name_key(name), []) if name else []
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            return None, f"名称“{name}”对应{len(found)}个机构（{'、'.join(i.code for i in found)}），请在文件中写明机构编码"
        if code:
            return None, f"系统中没有机构编码{code}" + (f"，也没有名为“{normalise_text(name)}”的机构" if name else "")
        return None, f"系统中没有名为“{normalise_text(name)}”的机构" if name else "没有写明就诊机构"
