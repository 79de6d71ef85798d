from django.db import migrations


def load(apps, schema_editor):
    from yfbz.areas.reference import load_areas

    load_areas(apps)


class Migration(migrations.Migration):
    """Carries today's data over: the city, its districts, every town under today's district from
    always, the set of towns 2号 applies to, and the bureau's first row (from the old YFBZ_* settings
    when a deployment had set them)."""

    dependencies = [("areas", "0001_initial"), ("beneficiaries", "0002_reference_data")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
