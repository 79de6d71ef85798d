"""One display layer: how money, ratios and codes reach a page, a PDF or an xlsx.

Every template, PDF and export formats through these helpers (templates through the filters of
``yfbz.core.templatetags.yfbz``: ``{{ x|money }}``, ``{{ x|capitals }}``, ``{{ r|pct }}``,
``{{ code|label:"scheme" }}``; xlsx files through yfbz.core.spreadsheets, which writes every Decimal as a
number at two decimals with the ``#,##0.00`` format),
so that no page shows ``41209.2800000000``, ``0.7500`` or ``MAJOR_DISEASE``.

Codes reach users only through their Chinese labels. Each app registers the label tables it owns
in its ``AppConfig.ready()`` (``register_labels("scheme", {...})``); a Django ``choices`` field needs
nothing more than ``get_FOO_display``. ``label`` of an unknown code returns the code unchanged, and
the every-page crawler test fails on any raw code it finds, so a missing label is caught there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
EMPTY = "—"

_LABELS: dict[str, dict[str, str]] = {}
#: label tables that are data (read when asked, e.g. benefit group names from the policy tables)
_SOURCES: dict[str, Callable[[], dict[str, str]]] = {}


def to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # aggregates on SQLite may come back as float: go through str
        value = repr(value)
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def money(value, *, grouping: bool = True, empty: str = EMPTY) -> str:
    """1234.5 → '1,234.50' (two decimals, half-up, thousands separators); None → '—'."""
    d = to_decimal(value)
    if d is None:
        return empty
    d = d.quantize(FEN, rounding=ROUND_HALF_UP)
    return f"{d:,.2f}" if grouping else f"{d:.2f}"


#: a plain amount inside a sentence as the engine writes it (4000.00, 1122.28): four digits or more before the point
_PLAIN_AMOUNT = re.compile(r"(?<![\d.,])\d{4,}\.\d{2}(?!\d)")


def amounts_in_text(text) -> str:
    """A sentence's plain amounts with thousands separators ('自付1122.28元' → '自付1,122.28元'), so the
    explanation on a page reads as the table beside it and the notice do."""
    if not text:
        return text or ""
    return _PLAIN_AMOUNT.sub(lambda m: money(m.group()), str(text))


def money_plain(value, *, empty: str = "") -> str:
    """Two decimals without separators, for files other systems read (bank files, JSON)."""
    return money(value, grouping=False, empty=empty)


def capitals(value, *, empty: str = EMPTY) -> str:
    """An amount in capital numerals (大写) as financial documents write it: 1230.5 → '壹仟贰佰叁拾元伍角整'."""
    from .numerals import amount_in_capitals

    d = to_decimal(value)
    if d is None:
        return empty
    if d < 0:
        return "负" + amount_in_capitals(-d)
    return amount_in_capitals(d)


def pct(ratio, *, empty: str = EMPTY) -> str:
    """A ratio as a percentage: 0.75 → '75%', 0.725 → '72.5%', Decimal('0.7500') → '75%'."""
    d = to_decimal(ratio)
    if d is None:
        return empty
    p = (d * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    text = format(p, "f")
    return f"{text}%"


def register_labels(kind: str, mapping) -> None:
    """Add the Chinese labels of one kind of code (a dict, a TextChoices class or (code, label) pairs)."""
    if hasattr(mapping, "choices"):
        mapping = dict(mapping.choices)
    elif not isinstance(mapping, dict):
        mapping = dict(mapping)
    _LABELS.setdefault(kind, {}).update({str(k): str(v) for k, v in mapping.items()})


def register_label_source(kind: str, source: Callable[[], dict[str, str]]) -> None:
    """Labels of ``kind`` that are data: ``source()`` returns {code: label} (it caches as it sees fit)."""
    _SOURCES[kind] = source


def _table(kind: str) -> dict[str, str]:
    if kind in _SOURCES:
        try:
            return {**_LABELS.get(kind, {}), **_SOURCES[kind]()}
        except Exception:  # no database (yet): the registered static labels only
            return _LABELS.get(kind, {})
    return _LABELS.get(kind, {})


def kinds() -> list[str]:
    """Every kind of code with labels: the static tables in the order registered, then data sources."""
    return [*_LABELS, *(k for k in _SOURCES if k not in _LABELS)]


def label(code, kind: str | None = None) -> str:
    """The Chinese label of ``code`` (of ``kind`` when given, else of any kind that knows it)."""
    if code is None or code == "":
        return EMPTY
    key = str(code)
    if kind is not None:
        return _table(kind).get(key, key)
    for k in kinds():
        table = _table(k)
        if key in table:
            return table[key]
    return key


def labels(kind: str) -> dict[str, str]:
    return dict(_table(kind))


def reasons(codes, *, empty: str = EMPTY) -> str:
    """The engine's reason codes in words, never as numbers or "R103": a list of ints, or text such as
    "103,115" (how some tables store them) → '本年度该项救助限额已用完；多重身份，按待遇最优的身份计算'."""
    from yfbz.rules.codes import REASON_ZH, Reason

    if isinstance(codes, str):
        codes = [c for c in re.split(r"[,，;；\s]+", codes) if c]
    words = []
    for c in codes or ():
        try:
            words.append(REASON_ZH[Reason(int(c))])
        except (ValueError, KeyError):
            words.append(str(c))
    return "；".join(words) or empty


# --- the audit trail -------------------------------------------------------------------------------
#: django-auditlog's actions (LogEntry.Action) in words
AUDIT_ACTIONS = {0: "新增", 1: "修改", 2: "删除", 3: "查看"}
_AUDIT_VALUES = {"None": EMPTY, "": EMPTY, "True": "是", "False": "否", "<unknown>": EMPTY}


_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,}")
_RELATION = re.compile(r"\w+\.[A-Z]\w*\.None")
_codes: dict[str, str] | None = None
_categories: tuple[float, dict[str, str]] = (0.0, {})


def code_label(text: str) -> str:
    """Any known code in words: the label tables, the choices of every model's fields, the identity
    categories (from the database, re-read every five minutes). Unknown text is returned unchanged."""
    global _codes, _categories
    if not _CODE.fullmatch(text):
        return text
    if _codes is None:
        from django.apps import apps

        found: dict[str, str] = {}
        for table in _LABELS.values():
            for k, v in table.items():
                found.setdefault(k, v)
        for kind in _SOURCES:
            for k, v in _table(kind).items():
                found.setdefault(k, v)
        for model in apps.get_models():
            for field in model._meta.get_fields():
                for key, name in getattr(field, "flatchoices", None) or []:
                    if isinstance(key, str):
                        found.setdefault(key, str(name))
        _codes = found
    if text in _codes:
        return _codes[text]
    if time.monotonic() - _categories[0] > 300:
        try:
            from django.apps import apps

            category = apps.get_model("beneficiaries", "Category")  # by name: core imports no app

            _categories = (time.monotonic(), dict(category.objects.values_list("code", "name")))
        except Exception:  # no database (yet): codes stay as they are
            _categories = (time.monotonic(), {})
    return _categories[1].get(text, text)


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?")
_CODED = re.compile(r"[A-Z][A-Z0-9_]{2,} (?=[^ ]*[^\x00-\x7f])")  # "DIBAO 低保对象": a category named with its code


def audit_value(value) -> str:
    text = str(value) if value is not None else ""
    if text in _AUDIT_VALUES:
        return _AUDIT_VALUES[text]
    if _TIMESTAMP.fullmatch(text):  # a time recorded as text: read in local time, to the second
        from datetime import datetime

        from django.utils import timezone

        try:
            moment = datetime.fromisoformat(text)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return text
    said = code_label(text)
    return _CODED.sub("", said, count=1) if _CODED.match(said) else said


def prime_audit_memo(entries, memo: dict) -> None:
    """Name, in one query per related model, every object the entries' changed foreign keys point at,
    for ``audit_changes(entry, memo)`` (an export of the trail reads thousands of entries at a time)."""
    from auditlog.models import _get_manager_from_settings
    from django.core.exceptions import FieldDoesNotExist, ValidationError
    from django.utils.encoding import smart_str

    wanted: dict = {}
    for entry in entries:
        model = entry.content_type.model_class() if entry.content_type_id else None
        if model is None:
            continue
        for name, values in (entry.changes_dict or {}).items():
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            # auditlog names a reverse relation's recorded value as a foreign key too
            if not (field.many_to_one or field.one_to_one or field.one_to_many) or field.related_model is None:
                continue
            for value in values if isinstance(values, (list, tuple)) else [values]:
                if value in (None, "None") or (field.related_model, str(value)) in memo:
                    continue
                try:
                    pk = field.related_model._meta.pk.to_python(value)
                except ValidationError:
                    continue
                wanted.setdefault(field.related_model, {})[pk] = str(value)
    for related, pks in wanted.items():
        found = _get_manager_from_settings(related).select_related().in_bulk(list(pks))
        for pk, value in pks.items():
            obj = found.get(pk)
            # an object deleted since: said in words (auditlog would say "Deleted 'RosterRow' (12)")
            memo[(related, value)] = smart_str(obj) if obj is not None else f"已删除的{related._meta.verbose_name}（{value}）"


#: the keys of bulk entries (yfbz.core.audit.audit_bulk summaries) and of JSON values, in words
AUDIT_KEYS = {
    # roster reviews and applies (beneficiaries)
    "town": "镇街", "towns": "镇街", "result": "结果", "rows": "行数", "reason": "原因", "deadline": "审核期限",
    "people_created": "新建人员", "people_updated": "更新人员信息", "people_moved": "迁入新镇街",
    "identities_started": "新增身份", "identities_ended": "终止身份", "retroactive": "追溯身份变化",
    "retroactive_waiting": "追溯变化（涉及已核定救助，待处理）", "retroactive_closed": "追溯变化（未涉及，系统关闭）",
    # how a file was read (yfbz.files.reader: reading)
    "format": "格式", "sheet": "工作表", "header_row": "表头所在行", "header": "表头", "used": "使用的列",
    "unused": "未使用的列", "column": "列", "columns": "列", "skipped": "跳过的行", "total_rows": "合计行",
    "encoding": "编码", "title_rows": "标题行", "rows_read": "读取行数",
    # upload parameters (funding.FileImport)
    "batch_id": "支付批次", "paid_on": "支付日期", "year": "年度", "month": "月份", "source": "来源",
}

#: django-axes' records (login failures, logins, locks): its fields in words; the rest (browser string,
#: the form's masked contents, the session hash) says nothing to an auditor and is left out
AXES_FIELDS = {
    "username": "用户名", "ip_address": "IP地址", "attempt_time": "时间",
    "locked_out": "因此锁定", "failures_since_start": "失败次数", "logout_time": "退出时间",
}

#: a JSON field whose value is a machine's record, summarised by what it is
AUDIT_JSON_SUMMARY = {"snapshot": "引擎原始核定结果，共{n}项（存于核定记录，见核定页面）"}
#: a JSON field an app knows how to say in words (field name → function of the value; None: not its shape)
_AUDIT_SUMMARISERS: dict = {}


def register_audit_summary(field_name: str, summarise) -> None:
    """An app's way of saying a JSON field of its records in words on the audit trail (core imports no app)."""
    _AUDIT_SUMMARISERS[field_name] = summarise

_RATIO = re.compile(r"(0(\.\d+)?|1(\.0+)?)")
_EXPRESSION = re.compile(r"\b(F|Concat|ConcatPair|Value|CombinedExpression)\(")


def _parsed(value):
    """A recorded value as Python data: JSON fields are stored as data, or as their text."""
    if isinstance(value, str) and value[:1] in "[{":
        import ast
        import json

        for parse in (json.loads, ast.literal_eval):
            try:
                return parse(value)
            except (ValueError, SyntaxError):
                continue
    return value


def _key(key) -> str | None:
    text = str(key)
    if text in AUDIT_KEYS:
        return AUDIT_KEYS[text]
    label = code_label(text)
    return None if _CODE.fullmatch(label) else label


def audit_summary(value, depth: int = 0) -> str:
    """A JSON value as a reader reads it: a list of words joined with 、, a small flat record as
    "键：值", anything deeper counted ("共12项") — never raw JSON."""
    value = _parsed(value)
    if value in (None, "", [], {}):
        return EMPTY
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (list, tuple, dict)) for v in value):
            shown = "、".join(audit_value(v) for v in value[:10])
            return shown + (f"等{len(value)}项" if len(value) > 10 else "")
        return f"共{len(value)}项"
    if isinstance(value, dict):
        keys = {k: _key(k) for k in value}
        if depth > 0 or len(value) > 8 or any(k is None for k in keys.values()):
            return f"共{len(value)}项"
        return "；".join(f"{keys[k]}：{audit_summary(v, depth + 1)}" for k, v in value.items())
    return audit_value(value)


def _m2m(name: str, values: dict) -> str:
    what = {"add": "添加", "delete": "移除", "remove": "移除", "clear": "清空"}.get(str(values.get("operation")), "变更")
    objects = values.get("objects") or []
    if name == "permissions":  # Django names permissions in English; the roles (groups) are the words that matter
        return f"{what}{len(objects)}项权限" if objects else what
    return f"{what}：{'、'.join(str(o) for o in objects)}" if objects else what


def audit_object(entry) -> str:
    """What an entry is about, in words: django-axes names its records in English."""
    text = entry.object_repr or ""
    if entry.content_type_id and entry.content_type.app_label == "axes":
        m = re.match(r"Failed access: user (?P<u>.*?)( locked out)? on .* from (?P<ip>\S+)$", text)
        if m:
            return f"登录失败：{m['u']}（{m['ip']}）" + ("，因此锁定" if " locked out on " in text else "")
        m = re.match(r"Access Log for (?P<u>.*?) @ ", text)
        if m:
            return f"登录记录：{m['u']}"
        if text.startswith("Attempted Access"):
            return "计入锁定的失败登录"
    # a record that names itself with a code ("1 2025 INPATIENT 4000.00"): the code in words
    return re.sub(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9_]{2,}(?![A-Za-z0-9_])", lambda m: code_label(m.group()), text)


def _audit_fields(entry):
    """(name, field, label, (before, after)) of each change of an entry a reader is shown, as recorded
    (``None`` for the values of a many-to-many change): the field by its verbose name, a bulk entry's key
    in words, django-axes' few meaningful fields; a reverse relation's note left out. Cheap: no value
    is looked up or formatted (the admin list's summary names the fields only)."""
    from django.core.exceptions import FieldDoesNotExist

    model = entry.content_type.model_class() if entry.content_type_id else None
    axes = entry.content_type_id is not None and entry.content_type.app_label == "axes"
    for name, values in (entry.changes_dict or {}).items():
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if field is not None and field.auto_created and not field.concrete:
                field = None  # a reverse relation named like a bulk entry's key ("rows"): the key it is
        if axes:
            if name not in AXES_FIELDS:
                continue
            label = AXES_FIELDS[name]
        elif field is not None:
            label = str(getattr(field, "verbose_name", name))
        else:
            label = _key(name) or str(name)
        if isinstance(values, dict) and values.get("type") == "m2m":
            yield name, field, label, None
            continue
        if not isinstance(values, (list, tuple)):
            values = [None, values]
        before = values[0] if values else None
        after = values[1] if len(values) > 1 else None
        if any(_RELATION.fullmatch(str(v)) for v in (before, after) if v is not None):
            continue  # a reverse relation auditlog notes as "claims.Adjustment.None": nothing a reader can use
        yield name, field, label, (before, after)


def audit_change_names(entry) -> list[str]:
    """The fields an entry changed, by name, as ``audit_changes`` lists them (same order, same count),
    without reading or formatting a value."""
    return [label for _name, _field, label, _values in _audit_fields(entry)]


def audit_changes(entry, memo: dict | None = None) -> list[tuple[str, str, str]]:
    """(field, before, after) of an audit entry: the field by its verbose name, a code by its label
    (auditlog's changes_display_dict reads the field's choices), None as '—', booleans as 是/否.
    Entries whose model is gone keep the recorded names. The keys of a bulk entry are in words
    (``AUDIT_KEYS``), a JSON value is summarised (``audit_summary``: never raw JSON, an engine's
    snapshot by what it is), a many-to-many change says what was added or removed, django-axes'
    records show their few meaningful fields in Chinese (``AXES_FIELDS``).

    ``memo`` (a dict kept over a list of entries) names each related object once: auditlog reads a
    foreign key's object per entry and per field, so an export of the trail would otherwise make a
    query for every changed reference of every entry (issue 14)."""
    if memo is not None:
        lookup = entry._get_changes_display_for_fk_field

        def remembered(field, value, lookup=lookup):
            key = (field.related_model, str(value))  # auditlog passes the recorded value as text
            if key not in memo:
                memo[key] = lookup(field, value)
            return memo[key]

        entry._get_changes_display_for_fk_field = remembered
    try:
        changes = entry.changes_display_dict
    except Exception:  # the model no longer exists, or a value no longer parses: show what was recorded
        changes = {}
    out = []
    for name, field, label, values in _audit_fields(entry):
        if values is None:  # a many-to-many change
            out.append((label, EMPTY, _m2m(name, entry.changes_dict[name])))
            continue
        before, after = values
        if field is not None and field.get_internal_type() == "JSONField":
            template = AUDIT_JSON_SUMMARY.get(name)
            own = _AUDIT_SUMMARISERS.get(name)
            if own is not None or name == "reasons":
                def summary(v, own=own, name=name):
                    v = _parsed(v)
                    if v in (None, "", [], {}):
                        return EMPTY
                    if name == "reasons" and isinstance(v, list):  # the engine's reason codes, in words
                        return reasons(v)
                    said = own(v) if own else None
                    return said if said else audit_summary(v)
            elif template:
                def summary(v, template=template):
                    v = _parsed(v)
                    return EMPTY if v in (None, "", [], {}) else template.format(n=len(v) if hasattr(v, "__len__") else 1)
            else:
                summary = audit_summary
            out.append((label, summary(before), summary(after)))
            continue
        own = _AUDIT_SUMMARISERS.get(name)
        if own is not None:  # an app says this field in words (a payable's source key …)
            said = [own(v) if v not in (None, "", "None") else None for v in (before, after)]
            if all(x is not None or v in (None, "", "None") for x, v in zip(said, (before, after), strict=True)):
                out.append((label, *(x if x is not None else EMPTY for x in said)))
                continue
        if (field is not None and field.get_internal_type() == "DecimalField" and (field.decimal_places or 0) > 2
                and all(v in (None, "None", "") or _RATIO.fullmatch(str(v)) for v in (before, after))):
            out.append((label, *(pct(v) if v not in (None, "None", "") else EMPTY for v in (before, after))))
            continue  # a ratio stored to 4 places (0.6000): a percentage
        shown = changes.get(str(getattr(field, "verbose_name", name))) if field is not None else None
        if isinstance(shown, (list, tuple)) and len(shown) == 2:
            before, after = shown
        before, after = (EMPTY if _EXPRESSION.search(str(v)) and name != "failures_since_start"
                         else "原值加1" if _EXPRESSION.search(str(v)) else v for v in (before, after))
        out.append((label, audit_value(before) if not isinstance(before, (list, dict)) else audit_summary(before),
                    audit_value(after) if not isinstance(after, (list, dict)) else audit_summary(after)))
    return out
