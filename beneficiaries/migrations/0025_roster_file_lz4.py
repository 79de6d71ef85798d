"""Roster files compressed with lz4 instead of pglz where the server has it (issue 14): an xlsx is a zip
already, and pglz went through its 4 MB before giving up (0.19–0.27 against 0.06–0.13 s to store a
100,000-row xlsx at load 5); a CSV still shrinks (8.7 → 2.6 MB, pglz 2.0 MB) in a third of the time."""

from django.db import migrations

TABLE_COLUMN = 'ALTER TABLE "beneficiaries_rosterfile" ALTER COLUMN "data" SET COMPRESSION '


def _has_lz4(cur) -> bool:
    cur.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
    return cur.fetchone() is not None


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cur:
        if _has_lz4(cur):
            cur.execute(TABLE_COLUMN + "lz4")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cur:
        cur.execute(TABLE_COLUMN + "pglz")


class Migration(migrations.Migration):
    dependencies = [("beneficiaries", "0024_job_status_history")]
    operations = [migrations.RunPython(forwards, backwards)]
