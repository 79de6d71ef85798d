"""The yes/no 需院外维持治疗 column, replaced by dated PersonAttribute rows in 0012."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("beneficiaries", "0012_person_attributes")]

    operations = [migrations.RemoveField(model_name="person", name="needs_maintenance_treatment")]
