"""An installation that already holds decisions gets them into the statistics: every bill past entry
and every settlement month is queued, and the first refresh builds their facts and aggregates."""

from django.db import migrations

SQL = [
    "INSERT INTO reporting_refreshqueue (source_key, queued_at) "
    "SELECT 'bill:' || id, CURRENT_TIMESTAMP FROM claims_bill WHERE status <> 'ENTERED'",
    "INSERT INTO reporting_refreshqueue (source_key, queued_at) "
    "SELECT 'sm:' || id, CURRENT_TIMESTAMP FROM claims_settlementmonth WHERE status <> 'OPEN'",
]


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("claims", "0008_decision_historic"),
    ]

    operations = [migrations.RunSQL(sql, reverse_sql=migrations.RunSQL.noop) for sql in SQL]
