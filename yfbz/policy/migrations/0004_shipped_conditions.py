"""Load the shipped rows the tables of 0003 hold: NONGCUN_60's age condition (52号 第二条) and the
designated-institution parameter of 2号 二(五). Idempotent, like 0002."""

from django.db import migrations


def load(apps, schema_editor):
    from yfbz.policy.services import load_default_policy

    load_default_policy(apps)


class Migration(migrations.Migration):
    dependencies = [("policy", "0003_category_conditions_youfu_fields")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
