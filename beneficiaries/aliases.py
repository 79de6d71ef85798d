"""The rosters' category wordings (类别写法) from a file, through the one reader (yfbz.files: title
rows, header wordings as data, the spreadsheet's row numbers in every message). All or nothing: every
row is checked first (wording, category by code or name, department by code or name); a wording a
department already has is moved to the file's category, a new one added."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from yfbz.core.audit import audit_bulk
from yfbz.core.errors import YfbzError
from yfbz.core.roles import Role
from yfbz.files.formats import CATEGORY_ALIASES
from yfbz.files.reader import FileUnreadable, cell_text, normalise_text, read_table

from .models import Category, CategoryAlias, Department

MAX_ERRORS_SHOWN = 20


class AliasImportError(YfbzError):
    pass


@dataclass(frozen=True, slots=True)
class AliasesImported:
    added: int
    updated: int
    reading: dict


def _by_code_or_name(model) -> dict[str, object]:
    out = {}
    for obj in model.objects.all():
        out[normalise_text(obj.code)] = obj
        out.setdefault(normalise_text(obj.name), obj)
    return out


def category_aliases_import(*, data: bytes, user) -> AliasesImported:
    if not (user.is_superuser or user.has_role(Role.SYSADMIN)):
        raise AliasImportError("只有系统管理员可以导入类别写法。")
    try:
        table = read_table(data, CATEGORY_ALIASES)
    except FileUnreadable as exc:
        raise AliasImportError(f"类别写法文件无法读取：{exc}") from None
    head = {key: table.header_of(key) for key in CATEGORY_ALIASES.labels}
    categories, departments = _by_code_or_name(Category), _by_code_or_name(Department)
    errors: list[str] = []
    parsed: dict[tuple[int, str], tuple[int, Category]] = {}
    for n, row in table.rows:
        def cell(key, row=row):
            i = table.columns.get(key)
            return normalise_text(cell_text(row[i] if i is not None and i < len(row) else None))

        wording, cat_text, dept_text = cell("wording"), cell("category"), cell("department")
        if not wording or len(wording) > 80:
            errors.append(f"第{n}行“{head['wording']}”：" + ("不能为空" if not wording else f"最长80字（共{len(wording)}字）"))
            continue
        category, department = categories.get(cat_text), departments.get(dept_text)
        if category is None:
            errors.append(f"第{n}行“{head['category']}”：没有身份类别“{cat_text}”（可写类别代码或名称）")
        if department is None:
            errors.append(f"第{n}行“{head['department']}”：没有认定部门“{dept_text}”（可写部门代码或名称）")
        if category is None or department is None:
            continue
        key = (department.pk, wording)
        if key in parsed and parsed[key][1] != category:
            errors.append(f"第{n}行“{head['wording']}”：{department.name}的“{wording}”在第{parsed[key][0]}行对应另一身份类别")
            continue
        parsed[key] = (n, category)
    if errors:
        more = f"（另有{len(errors) - MAX_ERRORS_SHOWN}处错误未列出）" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise AliasImportError(f"文件有{len(errors)}处错误，未导入任何写法：" + "；".join(errors[:MAX_ERRORS_SHOWN]) + more)
    if not parsed:
        raise AliasImportError("文件中没有类别写法")
    added = updated = 0
    with transaction.atomic():
        existing = {(a.department_id, a.wording): a for a in CategoryAlias.objects.select_for_update().order_by("pk")}
        for (dept_id, wording), (_n, category) in parsed.items():
            alias = existing.get((dept_id, wording))
            if alias is None:
                CategoryAlias.objects.create(department_id=dept_id, wording=wording, category=category)  # audited one by one
                added += 1
            elif alias.category_id != category.pk:
                alias.category = category
                alias.save(update_fields=["category"])
                updated += 1
        audit_bulk(actor=user, what="导入类别写法", model=CategoryAlias,
                   summary={"新增": added, "更新": updated, "文件行数": len(parsed)})
    return AliasesImported(added, updated, table.reading)
