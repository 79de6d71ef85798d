import django.contrib.postgres.fields
from django.db import migrations, models


def postgresql_only(apps, schema_editor):
    """PostgreSQL: the ``intarray`` extension (a trusted contrib module shipped with PostgreSQL: sorted
    sets of integers united, subtracted and counted in C, a whole set per call) and the union of a column
    of sets (an aggregate over its ``_int_union``); the presence UNLOGGED (derived data: after a crash
    PostgreSQL empties it with reporting_presenceyear, and the next build of the year builds it whole)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS intarray")
    schema_editor.execute("CREATE OR REPLACE AGGREGATE reporting_int_union(int[]) "
                          "(SFUNC = _int_union, STYPE = int[], INITCOND = '{}')")
    schema_editor.execute("ALTER TABLE reporting_presence SET (fillfactor = 80)")
    schema_editor.execute("ALTER TABLE reporting_presence SET UNLOGGED")


def forget_built_years(apps, schema_editor):
    """The presence starts empty: no year is complete, so the next build of each year writes it whole."""
    apps.get_model("reporting", "PresenceYear").objects.all().delete()


def month(n):
    return django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), blank=True, default=list,
                                                     size=None, verbose_name=f"{n}月")


class Migration(migrations.Migration):
    """The presence holds, per (year, person) and month, the set of the person's (cell, kind) numbers: a
    month's build replaces one set per person and compares unions of sets (intarray), instead of one
    row per (cell, person) pair. Derived data: dropped, and each year is built whole at its next build."""

    dependencies = [
        ("reporting", "0007_presence_per_person"),
    ]

    operations = [
        migrations.DeleteModel(name="Presence"),
        migrations.CreateModel(
            name="Presence",
            fields=[
                ("pk", models.CompositePrimaryKey("year", "person_id", blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                ("person_id", models.BigIntegerField(verbose_name="人员")),
                *((f"m{n:02d}", month(n)) for n in range(1, 13)),
            ],
            options={
                "verbose_name": "统计人员在册月份",
                "verbose_name_plural": "统计人员在册月份",
            },
        ),
        migrations.RunPython(forget_built_years, migrations.RunPython.noop),
        migrations.RunPython(postgresql_only, migrations.RunPython.noop),
    ]
