"""The audit trail is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE of
auditlog entries (the admin shows them read-only on every database)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION yfbz_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计日志只能追加，不能修改或删除 (audit log is append-only)';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS yfbz_audit_append_only ON auditlog_logentry;
CREATE TRIGGER yfbz_audit_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION yfbz_audit_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS yfbz_audit_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS yfbz_audit_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_role_groups"), ("auditlog", "0017_add_actor_email")]
    operations = [migrations.RunPython(forward, backward)]
