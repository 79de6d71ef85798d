from django.db import migrations, models

LIKE_INDEX = "reporting_fact_source_key_489e5249_like"


def drop_like_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {LIKE_INDEX}")


def make_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {LIKE_INDEX} ON reporting_fact (source_key varchar_pattern_ops)")


class Migration(migrations.Migration):
    """The facts' source_key stays unique under the same constraint (its name is the one PostgreSQL gave the
    column's UNIQUE), and loses the varchar_pattern_ops index Django adds beside it on PostgreSQL: nothing
    searches a prefix of a source key, and every fact written kept that index up to date too."""

    dependencies = [
        ("reporting", "0010_signature"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="fact",
                    name="source_key",
                    field=models.CharField(help_text="bill:<票据id> 或 line:<结算明细id>", max_length=40,
                                           verbose_name="来源"),
                ),
                migrations.AddConstraint(
                    model_name="fact",
                    constraint=models.UniqueConstraint(fields=["source_key"], name="reporting_fact_source_key_key"),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_like_index, make_like_index),
            ],
        ),
    ]
