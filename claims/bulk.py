"""Bulk writes for the settlement import. On PostgreSQL rows go through COPY (a 200,000-line file is
written in seconds); elsewhere (SQLite on a laptop) through bulk_create / bulk_update. Bulk writes
send no signals: the caller writes one audit entry per operation (services.log_bulk).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models
from django.utils import timezone


def _columns(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def insert_rows(model, rows: Sequence[dict], *, batch_size: int = 5000) -> int:
    """Insert plain dicts (attname → value; missing fields take their default)."""
    fields = _columns(model)
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model.objects.bulk_create(objs, batch_size=batch_size)
        return len(objs)
    defaults = {f.attname: f.get_default() for f in fields}
    json_cols = {f.attname for f in fields if isinstance(f, models.JSONField)}
    now = timezone.now()
    auto_now = {f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    cols = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cur, cur.cursor.copy(f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            out = []
            for f in fields:
                name = f.attname
                v = row.get(name, now if name in auto_now else defaults[name])
                if name in json_cols:
                    v = json.dumps(v, ensure_ascii=False)
                out.append(v)
            copy.write_row(out)
    return len(rows)
