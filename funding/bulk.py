"""Fast bulk writes on PostgreSQL: one ``INSERT ... SELECT FROM unnest(column arrays)`` per chunk —
no model instances, one round trip per chunk. Callers fall back to bulk_create elsewhere.
django-auditlog does not see these rows: callers write one summary LogEntry (subsidies.log_bulk)."""

from __future__ import annotations

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


#: PostgreSQL types whose values are sent as one array literal per column (text built here: psycopg's
#: per-element array dumper was ~9% of a subsidy run, issue 14); other types go as Python lists
LITERAL_TYPES = {"bigint", "integer", "smallint", "numeric", "varchar", "text", "boolean"}


def _element(v) -> str:
    if v is None:
        return "NULL"
    if v is True or v is False:
        return "t" if v else "f"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)  # int, Decimal


def array_literal(values) -> str:
    """``{1,"a b",NULL}``: the text form of a one-dimensional PostgreSQL array."""
    return "{" + ",".join(map(_element, values)) + "}"


def insert_rows(table: str, columns: list[tuple[str, str]], rows: list[tuple], *, conflict: str = "",
                update: list[str] = (), constants: dict[str, tuple[str, object]] | None = None, chunk: int = 20_000) -> None:
    """``columns``: (name, PostgreSQL type) in the order of each row's values; ``constants``: name →
    (type, value) the same for every row; ``conflict``/``update``: ON CONFLICT (conflict) DO UPDATE SET update."""
    constants = constants or {}
    names = [c for c, _ in columns] + list(constants)
    quoted = ", ".join(f'"{n}"' for n in names)
    aliases = [f"c{i}" for i in range(len(columns))]
    select = ", ".join(aliases + [f"%s::{t}" for t, _ in constants.values()])
    unnest = ", ".join(f"%s::{t}[]" for _, t in columns)
    sql = f'INSERT INTO "{table}" ({quoted}) SELECT {select} FROM unnest({unnest}) AS t({", ".join(aliases)})'
    if conflict:
        sets = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in update)
        sql += f" ON CONFLICT ({conflict}) DO UPDATE SET {sets}" if update else f" ON CONFLICT ({conflict}) DO NOTHING"
    with connection.cursor() as cur:
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            arrays = [array_literal(col) if t in LITERAL_TYPES else list(col)
                      for col, (_, t) in zip(zip(*part, strict=True), columns, strict=True)]
            cur.execute(sql, [v for _, v in constants.values()] + arrays)


def copy_field(v) -> str:
    r"""One value in COPY's text format: ``\N`` for None, ``t``/``f``, text with backslash, tab, newline
    and carriage return escaped, numbers as they print."""
    if v is None:
        return "\\N"
    if v is True or v is False:
        return "t" if v else "f"
    if isinstance(v, str):
        if "\\" in v or "\t" in v or "\n" in v or "\r" in v:
            v = v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return v
    return str(v)  # int, Decimal


def copy_fields(values) -> str:
    """Values joined into (part of) one line of COPY's text format, without the line's end."""
    return "\t".join(map(copy_field, values))


def copy_lines(table: str, columns: list[str], lines: list[str]) -> None:
    """Lines already in COPY's text format (each ending in a newline, ``copy_fields``) into ``table``
    (PostgreSQL only): one COPY, sent in blocks of 20,000 lines. Errors are Django's (IntegrityError …)."""
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.wrap_database_errors, connection.cursor() as cur, \
            cur.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for i in range(0, len(lines), 20_000):
            copy.write("".join(lines[i:i + 20_000]).encode())
