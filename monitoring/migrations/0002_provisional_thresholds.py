"""The shipped thresholds (POLICY.md D13): provisional placeholders until the district sets its own."""

from datetime import date
from decimal import Decimal

from django.db import migrations

SOURCE = "待区医保局确认（POLICY.md D13 暂定值；常见做法为上年居民人均可支配收入的一定比例）"


def ship(apps, schema_editor):
    BurdenThreshold = apps.get_model("monitoring", "BurdenThreshold")
    for alert, amount in (("FDZZ", "10000.00"), ("YBZP", "20000.00")):
        BurdenThreshold.objects.get_or_create(
            alert=alert, effective_from=date(2025, 1, 1),
            defaults={"amount": Decimal(amount), "source": SOURCE, "status": "provisional",
                      "note": "占位数额：区里确定后新增一条生效日期更晚的已确认记录（金额或占上年居民人均可支配收入的比例）。"},
        )


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
