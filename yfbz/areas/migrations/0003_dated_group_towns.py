"""The sets of towns (镇街组合) dated: the many-to-many table of a set's towns becomes the model
GroupTown (same table, same rows), then gets its dates; every existing membership runs from always."""

import datetime

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0002_reference_data"),
        ("beneficiaries", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="GroupTown",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("area", models.ForeignKey(limit_choices_to={"kind": "GROUP"}, on_delete=django.db.models.deletion.CASCADE,
                                                   to="areas.area", verbose_name="镇街组合")),
                        ("town", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="beneficiaries.town",
                                                   verbose_name="镇街")),
                    ],
                    options={"verbose_name": "镇街组合成员", "verbose_name_plural": "镇街组合成员", "db_table": "areas_area_towns",
                             "unique_together": {("area", "town")}},
                ),
                migrations.AlterField(
                    model_name="area",
                    name="towns",
                    field=models.ManyToManyField(blank=True, help_text="仅镇街组合填写：政策适用于这些镇街（如原渝北区的镇街），各镇街带起止日期。",
                                                 related_name="groups", through="areas.GroupTown", to="beneficiaries.town",
                                                 verbose_name="包含镇街"),
                ),
            ],
        ),
        migrations.AddField(model_name="grouptown", name="valid_from",
                            field=models.DateField(default=datetime.date(1900, 1, 1), verbose_name="起始日期")),
        migrations.AddField(model_name="grouptown", name="valid_to",
                            field=models.DateField(blank=True, help_text="为空：至今", null=True, verbose_name="终止日期")),
        migrations.AddField(model_name="grouptown", name="source",
                            field=models.CharField(blank=True, max_length=200, verbose_name="依据")),
    ]
