"""The shipped thresholds of the fund risk warning (dated data; a bureau adds rows to change them)."""

from datetime import date
from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("DEVIATION", Decimal("0.10"), "支出进度与预算序时进度偏离超过10%即预警（本局资金运行风险评估做法，暂定）"),
    ("RUN_OUT_MONTH", Decimal("12"), "按月均支出测算年内资金用尽即预警（医保基金运行风险评估、预警）"),
]


def add(apps, schema_editor):
    WarningRule = apps.get_model("reporting", "WarningRule")
    for key, value, source in DEFAULTS:
        WarningRule.objects.get_or_create(key=key, effective_from=date(2025, 1, 1), defaults={"value": value, "source": source})


class Migration(migrations.Migration):
    dependencies = [("reporting", "0004_returns_budgets"), ("funding", "0001_initial")]
    operations = [
        migrations.RunPython(add, migrations.RunPython.noop),
        # an installation with subsidies already run gets them into the statistics
        migrations.RunSQL(
            "INSERT INTO reporting_refreshqueue (source_key, queued_at) "
            "SELECT DISTINCT 'subsidy:' || year, CURRENT_TIMESTAMP FROM funding_subsidyresult",
            migrations.RunSQL.noop,
        ),
    ]
