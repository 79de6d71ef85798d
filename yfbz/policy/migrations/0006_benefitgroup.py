"""Benefit groups by name (issue 11): OUT_700 → 门诊700元限额组, shipped in yfbz/rules/defaults.json."""

from django.db import migrations, models


def load(apps, schema_editor):
    from yfbz.rules.defaults import default_records

    BenefitGroup = apps.get_model("policy", "BenefitGroup")
    for g in default_records().get("group_names", []):
        BenefitGroup.objects.get_or_create(code=g["code"], defaults={"name": g["name"], "note": g.get("note", "")})


class Migration(migrations.Migration):
    dependencies = [("policy", "0005_policy_area")]

    operations = [
        migrations.CreateModel(
            name="BenefitGroup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=40, unique=True, verbose_name="待遇组编码")),
                ("name", models.CharField(max_length=60, unique=True, verbose_name="名称")),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="说明")),
            ],
            options={"verbose_name": "待遇组名称", "verbose_name_plural": "待遇组名称", "ordering": ["code"]},
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
