from django.db import migrations


def create_roles(apps, schema_editor):
    from yfbz.core.roles import sync_role_groups

    sync_role_groups()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("beneficiaries", "0002_reference_data"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
