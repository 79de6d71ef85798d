"""Writing many rows fast. On PostgreSQL: COPY (psycopg 3 ``cursor.copy``) straight into the table,
or into a temporary table followed by one INSERT … ON CONFLICT / UPDATE … FROM. Elsewhere (SQLite in
development): bulk_create / bulk_update. Callers run these inside their own transaction.

Bulk writes bypass django-auditlog's signals: callers write one summary entry per operation
(``log_bulk``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from django.db import connection, connections, models


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _columns(model, fields: Sequence[str]) -> list[str]:
    return [model._meta.get_field(f).column for f in fields]


# one encoder for every value (json.dumps with an argument builds a new encoder per call: a stored roster
# row has three JSON columns); compact, as PostgreSQL's jsonb keeps no spacing anyway. The C encoder
# itself is made once too: JSONEncoder.encode makes a new one at every call, through two Python frames
# (a roster row's cells: 3.4 → 2.0 µs, 100,000 rows a check; issue 14, eighth round). Same text: the
# encoder's own settings and its ``default`` (what cannot be encoded raises TypeError as before); no
# check for circular lists, which cells, errors and warnings (lists of plain values and dicts) never are.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
try:
    from json.encoder import c_make_encoder as _c_make_encoder
except ImportError:  # pragma: no cover - CPython always has it
    _c_make_encoder = None
if _c_make_encoder is not None:
    _c_encode = _c_make_encoder(
        None, _ENCODER.default, json.encoder.encode_basestring, None, _ENCODER.key_separator, _ENCODER.item_separator,
        _ENCODER.sort_keys, _ENCODER.skipkeys, _ENCODER.allow_nan,
    )

    def _ENCODE(v, _join="".join, _c=_c_encode) -> str:
        return _join(_c(v, 0))
else:  # pragma: no cover
    _ENCODE = _ENCODER.encode


def _json(v):
    if v is None:
        return None
    if not v:
        return "[]" if isinstance(v, list) else "{}"
    return _ENCODE(v)


def _prep(model, fields: Sequence[str]):
    """Per field, a converter from the Python value to what COPY's text format expects."""
    return [_json if isinstance(model._meta.get_field(f), models.JSONField) else None for f in fields]


def _copy(cursor, table: str, columns: list[str], rows: Iterable[Sequence], convs) -> int:
    n = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([c(v) if c else v for c, v in zip(convs, row, strict=True)])
            n += 1
    return n


@contextmanager
def copy_stream(model, fields: Sequence[str], *, prepared: bool = False):
    """PostgreSQL: one COPY open for a whole job; yields write(row). The server stores rows while the
    caller works out the next ones. Nothing else may use this connection until the block ends.
    ``prepared``: the caller gives JSON columns as text already (``to_json``), and write is psycopg's own."""
    convs = _prep(model, fields)
    cols = ", ".join(f'"{c}"' for c in _columns(model, fields))
    with connection.cursor() as cur, cur.cursor.copy(f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN') as copy:
        write = copy.write_row
        if prepared:
            yield write
        else:
            yield lambda row: write([c(v) if c else v for c, v in zip(convs, row, strict=True)])


to_json = _json  # a JSON column's value as COPY's text format takes it


@contextmanager
def side_connection():
    """A second connection to the same database, for reads while the main one is busy with a COPY.
    It sees committed data only."""
    conn = connections.create_connection("default")
    try:
        yield conn
    finally:
        conn.close()


def insert_rows(model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert plain rows (tuples in the order of `fields`)."""
    if is_postgres():
        with connection.cursor() as cur:
            return _copy(cur.cursor, model._meta.db_table, _columns(model, fields), rows, _prep(model, fields))
    objs = [model(**dict(zip(fields, r, strict=True))) for r in rows]
    model.objects.bulk_create(objs, batch_size=1000)
    return len(objs)


def insert_ignoring_conflicts(model, fields: Sequence[str], rows: Sequence[Sequence], conflict: str) -> dict:
    """Insert rows, skipping those whose `conflict` column already exists (INSERT … ON CONFLICT DO NOTHING).
    Returns {conflict value: pk} of the rows inserted."""
    if not rows:
        return {}
    key = fields.index(conflict)
    if not is_postgres():  # SQLite serialises writers: what is not there now is what this inserts
        there = lookup(model, conflict, [r[key] for r in rows], ("pk",))
        todo = [r for r in rows if r[key] not in there]
        model.objects.bulk_create([model(**dict(zip(fields, r, strict=True))) for r in todo], batch_size=1000)
        return {k: v[0] for k, v in lookup(model, conflict, [r[key] for r in todo], ("pk",)).items()}
    cols = _columns(model, fields)
    table = model._meta.db_table
    tmp = f"tmp_{table}"
    col_list = ", ".join(f'"{c}"' for c in cols)
    conflict_col = model._meta.get_field(conflict).column
    direct = _copy_with_new_ids(model, fields, rows, key)
    if direct is not None:
        return direct
    with connection.cursor() as cur:
        cur.execute(f'CREATE TEMP TABLE "{tmp}" AS SELECT {col_list} FROM "{table}" WITH NO DATA')
        _copy(cur.cursor, tmp, cols, rows, _prep(model, fields))
        cur.execute(
            f'INSERT INTO "{table}" ({col_list}) SELECT {col_list} FROM "{tmp}" '
            f'ON CONFLICT ("{conflict_col}") DO NOTHING RETURNING "{conflict_col}", "{model._meta.pk.column}"'
        )
        inserted = dict(cur.fetchall())
        cur.execute(f'DROP TABLE "{tmp}"')
    return inserted


def _copy_with_new_ids(model, fields, rows, key) -> dict | None:
    """The common case, nobody of `rows` registered yet: take ids from the table's sequence and COPY
    straight into the table (one write instead of temporary table + INSERT … SELECT). On a conflict
    the savepoint is rolled back and the caller takes the conflict-safe path."""
    import psycopg
    from django.db import IntegrityError, transaction

    table, pk = model._meta.db_table, model._meta.pk.column
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, len(rows)])
            ids = [r[0] for r in cur.fetchall()]
            _copy(cur.cursor, table, [pk, *_columns(model, fields)], ([i, *r] for i, r in zip(ids, rows, strict=True)),
                  [None, *_prep(model, fields)])
    except (IntegrityError, psycopg.IntegrityError):  # COPY through the raw cursor raises psycopg's own
        return None
    return {r[key]: i for i, r in zip(ids, rows, strict=True)}


def insert_bytes(model, values: dict, name: str, data: bytes) -> None:
    """One row holding a file's bytes. On PostgreSQL the bytes go as a binary parameter: Django binds
    parameters on the client, which writes them into the statement as hex (a 4 MB roster: 8 MB of text
    for the server to parse, 0.4 against 0.2 s at load 5)."""
    if not is_postgres():
        model.objects.create(**values, **{name: data})
        return
    import psycopg

    cols = [model._meta.get_field(f).column for f in [*values, name]]
    marks = ", ".join(["%s"] * len(values) + ["%b"])
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(f'INSERT INTO "{model._meta.db_table}" ({", ".join(cols)}) VALUES ({marks})', [*values.values(), data])


def read_bytes(model, key_field: str, key, name: str) -> bytes:
    """A file's bytes; on PostgreSQL read in binary (not as hex text to decode)."""
    if not is_postgres():
        return bytes(model.objects.values_list(name, flat=True).get(**{key_field: key}))
    import psycopg

    meta = model._meta
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(f'SELECT "{meta.get_field(name).column}" FROM "{meta.db_table}" WHERE "{meta.get_field(key_field).column}" = %s',
                    [key], binary=True)
        row = cur.fetchone()
    if row is None:
        raise model.DoesNotExist
    return bytes(row[0])


def lookup(model, key_field: str, keys: Sequence, fields: Sequence[str], *, using=None) -> dict:
    """{key: (values of fields)} for the rows whose key_field is in keys. On PostgreSQL one array
    parameter (= ANY) rather than thousands of placeholders. `using`: another connection (side_connection)."""
    keys = list(keys)
    if not keys:
        return {}
    if is_postgres():
        meta = model._meta

        def col(f):
            return meta.pk.column if f == "pk" else meta.get_field(f).column

        cols = ", ".join(f'"{col(f)}"' for f in fields)
        param, cast = _array_param(keys)
        with (using or connection).cursor() as cur:
            cur.execute(f'SELECT "{col(key_field)}", {cols} FROM "{meta.db_table}" WHERE "{col(key_field)}" = ANY(%s{cast})', [param])
            return {row[0]: row[1:] for row in cur.fetchall()}
    out = {}
    for i in range(0, len(keys), 500):
        for row in model._base_manager.filter(**{f"{key_field}__in": keys[i : i + 500]}).values_list(key_field, *fields):
            out[row[0]] = row[1:]
    return out


def _array_param(keys: list) -> tuple:
    """Keys all text or all integers as one array literal (psycopg's array dumper looks at each element
    with a regular expression: 0.4 µs a key, 100,000 ID numbers per roster check); else the list as it is."""
    if all(k.__class__ is str for k in keys):
        return "{" + ",".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys) + "}", "::text[]"
    if all(k.__class__ is int for k in keys):
        return "{" + ",".join(map(str, keys)) + "}", "::bigint[]"
    return keys, ""


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
    from yfbz.core.audit import audit_bulk

    audit_bulk(actor=actor, what=action, summary=changes, obj=obj)
