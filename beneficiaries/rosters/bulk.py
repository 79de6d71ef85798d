"""Writing many rows fast. On PostgreSQL: COPY (psycopg 3 ``cursor.copy``) straight into the table,
or into a temporary table followed by one INSERT … ON CONFLICT / UPDATE … FROM. Elsewhere (SQLite in
development): bulk_create / bulk_update. Callers run these inside their own transaction.

Bulk writes bypass django-auditlog's signals: callers write one summary entry per operation
(``log_bulk``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _columns(model, fields: Sequence[str]) -> list[str]:
    return [model._meta.get_field(f).column for f in fields]


def _prep(model, fields: Sequence[str]):
    """Per field, a converter from the Python value to what COPY's text format expects."""
    convs = []
    for f in fields:
        fld = model._meta.get_field(f)
        if isinstance(fld, models.JSONField):
            convs.append(lambda v: None if v is None else json.dumps(v, ensure_ascii=False))
        else:
            convs.append(None)
    return convs


def _copy(cursor, table: str, columns: list[str], rows: Iterable[Sequence], convs) -> int:
    n = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([c(v) if c else v for c, v in zip(convs, row, strict=True)])
            n += 1
    return n


def insert_rows(model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert plain rows (tuples in the order of `fields`)."""
    if is_postgres():
        with connection.cursor() as cur:
            return _copy(cur.cursor, model._meta.db_table, _columns(model, fields), rows, _prep(model, fields))
    objs = [model(**dict(zip(fields, r, strict=True))) for r in rows]
    model.objects.bulk_create(objs, batch_size=1000)
    return len(objs)


def insert_ignoring_conflicts(model, fields: Sequence[str], rows: Sequence[Sequence], conflict: str) -> int:
    """Insert rows, skipping those whose `conflict` column already exists (INSERT … ON CONFLICT DO NOTHING)."""
    if not rows:
        return 0
    if not is_postgres():
        objs = [model(**dict(zip(fields, r, strict=True))) for r in rows]
        model.objects.bulk_create(objs, batch_size=1000, ignore_conflicts=True)
        return len(objs)
    cols = _columns(model, fields)
    table = model._meta.db_table
    tmp = f"tmp_{table}"
    col_list = ", ".join(f'"{c}"' for c in cols)
    with connection.cursor() as cur:
        cur.execute(f'CREATE TEMP TABLE "{tmp}" AS SELECT {col_list} FROM "{table}" WITH NO DATA')
        _copy(cur.cursor, tmp, cols, rows, _prep(model, fields))
        cur.execute(
            f'INSERT INTO "{table}" ({col_list}) SELECT {col_list} FROM "{tmp}" '
            f'ON CONFLICT ("{model._meta.get_field(conflict).column}") DO NOTHING'
        )
        inserted = cur.rowcount
        cur.execute(f'DROP TABLE "{tmp}"')
    return inserted


def update_rows(model, fields: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Update rows by primary key: each row is (pk, value of fields[0], value of fields[1], …)."""
    if not rows:
        return 0
    if not is_postgres():
        objs = [model(pk=r[0], **dict(zip(fields, r[1:], strict=True))) for r in rows]
        model.objects.bulk_update(objs, list(fields), batch_size=1000)
        return len(objs)
    table = model._meta.db_table
    tmp = f"tmpu_{table}"
    cols = _columns(model, fields)
    pk = model._meta.pk.column
    with connection.cursor() as cur:
        cur.execute(
            f'CREATE TEMP TABLE "{tmp}" AS SELECT "{pk}", {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} '
            f'FROM "{table}" WITH NO DATA'
        )
        _copy(cur.cursor, tmp, [pk, *cols], rows, [None, *_prep(model, fields)])
        sets = ", ".join(f'"{c}" = t."{c}"' for c in cols)
        cur.execute(f'UPDATE "{table}" SET {sets} FROM "{tmp}" t WHERE "{table}"."{pk}" = t."{pk}"')
        updated = cur.rowcount
        cur.execute(f'DROP TABLE "{tmp}"')
    return updated


def log_bulk(*, actor, obj, action: str, changes: dict) -> None:
    """One audit entry naming who did what to how many rows (bulk writes send no signals)."""
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(
        obj,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        actor=actor,
        changes={"bulk": [action, json.dumps(changes, ensure_ascii=False, default=str)]},
    )
