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
_AUDIT_VALUES = {"None": EMPTY, "": EMPTY, "True": "是", "False": "否"}


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


def audit_value(value) -> str:
    text = str(value) if value is not None else ""
    return _AUDIT_VALUES.get(text, code_label(text))


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


def audit_changes(entry, memo: dict | None = None) -> list[tuple[str, str, str]]:
    """(field, before, after) of an audit entry: the field by its verbose name, a code by its label
    (auditlog's changes_display_dict reads the field's choices), None as '—', booleans as 是/否.
    Entries whose model is gone keep the recorded names.

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
        changes = entry.changes_dict or {}
    out = []
    for field, values in (changes or {}).items():
        if not isinstance(values, (list, tuple)):
            values = [None, values]
        before = values[0] if values else None
        after = values[1] if len(values) > 1 else None
        if any(_RELATION.fullmatch(str(v)) for v in (before, after) if v is not None):
            continue  # a reverse relation auditlog notes as "claims.Adjustment.None": nothing a reader can use
        out.append((str(field), audit_value(before), audit_value(after)))
    return out
