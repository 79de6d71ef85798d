"""Load the shipped policy defaults of POLICY.md from yfbz/rules/defaults.json (the one source of
those figures; the pure tests and the benchmark read the same file)."""

from django.db import migrations


def load(apps, schema_editor):
    from yfbz.policy.services import load_default_policy

    load_default_policy(apps)


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
