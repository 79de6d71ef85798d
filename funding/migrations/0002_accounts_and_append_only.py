"""The ledger's accounts, and a PostgreSQL trigger that refuses UPDATE and DELETE of journal entries
and lines (the model guard refuses them in Django; the trigger also stops raw SQL)."""

from django.db import migrations

from funding.accounts import ensure_accounts


TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION funding_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = '记账凭证只能新增，不能修改或删除；请用冲销凭证更正（表 ' || TG_TABLE_NAME || '）';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER funding_journalentry_append_only BEFORE UPDATE OR DELETE ON funding_journalentry
    FOR EACH ROW EXECUTE FUNCTION funding_append_only();
CREATE TRIGGER funding_journalline_append_only BEFORE UPDATE OR DELETE ON funding_journalline
    FOR EACH ROW EXECUTE FUNCTION funding_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS funding_journalentry_append_only ON funding_journalentry;
DROP TRIGGER IF EXISTS funding_journalline_append_only ON funding_journalline;
DROP FUNCTION IF EXISTS funding_append_only();
"""


def add_accounts(apps, schema_editor):
    ensure_accounts(apps)


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]

    operations = [
        migrations.RunPython(add_accounts, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
