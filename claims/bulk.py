"""Bulk writes for the settlement import. On PostgreSQL rows go through COPY (a 200,000-line file is
written in seconds); elsewhere (SQLite on a laptop) through bulk_create / bulk_update. Bulk writes
send no signals: the caller writes one audit entry per operation (services.log_bulk).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, models
from django.utils import timezone

from .models import CAP_KEYS, CapUsage


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


def ensure_cap_rows(keys: Iterable[tuple[int, int]]) -> None:
    """Create the missing CapUsage rows of these (person, year) pairs (ON CONFLICT DO NOTHING)."""
    keys = sorted(set(keys))
    if not keys:
        return
    if connection.vendor != "postgresql":
        CapUsage.objects.bulk_create(
            [CapUsage(person_id=p, year=y, scheme=s) for p, y in keys for s in CAP_KEYS], ignore_conflicts=True, batch_size=5000
        )
        return
    table = CapUsage._meta.db_table
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS claims_tmp_capkey (person_id bigint, year smallint) ON COMMIT DROP")
        cur.execute("TRUNCATE claims_tmp_capkey")
        with cur.cursor.copy("COPY claims_tmp_capkey (person_id, year) FROM STDIN") as copy:
            for k in keys:
                copy.write_row(k)
        cur.execute(
            f'INSERT INTO "{table}" (person_id, year, scheme, used, updated_at) '
            "SELECT k.person_id, k.year, s.scheme, 0, now() FROM claims_tmp_capkey k "
            "CROSS JOIN unnest(%s::text[]) AS s(scheme) ORDER BY 1, 2, 3 "
            "ON CONFLICT (person_id, year, scheme) DO NOTHING",
            [list(CAP_KEYS)],
        )


def set_cap_used(values: dict[int, Decimal]) -> int:
    """Set ``used`` of CapUsage rows by id (rows already locked by the caller)."""
    if not values:
        return 0
    if connection.vendor != "postgresql":
        rows = list(CapUsage.objects.filter(pk__in=list(values)))
        for r in rows:
            r.used = values[r.pk]
        CapUsage.objects.bulk_update(rows, ["used", "updated_at"], batch_size=5000)
        return len(rows)
    table = CapUsage._meta.db_table
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS claims_tmp_capused (id bigint, used numeric(14,2)) ON COMMIT DROP")
        cur.execute("TRUNCATE claims_tmp_capused")
        with cur.cursor.copy("COPY claims_tmp_capused (id, used) FROM STDIN") as copy:
            for pk, used in values.items():
                copy.write_row((pk, used))
        cur.execute(
            f'UPDATE "{table}" c SET used = t.used, updated_at = now() FROM claims_tmp_capused t WHERE c.id = t.id'
        )
        return cur.rowcount
