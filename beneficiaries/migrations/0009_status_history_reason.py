
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The status history moves onto the one base (yfbz.core.workflow.StatusHistory): "note" is now
    "reason"; the rows are kept."""

    dependencies = [("beneficiaries", "0008_retroactive_status_and_reach")]

    operations = [
        migrations.RenameField("rosterstatuschange", "note", "reason"),
        migrations.AlterField(
            model_name='rosterstatuschange',
            name='at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间'),
        ),
        migrations.AlterField(
            model_name='rosterstatuschange',
            name='by',
            field=models.ForeignKey(blank=True, help_text='空表示由系统（后台任务）完成', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人'),
        ),
        migrations.AlterField(
            model_name='rosterstatuschange',
            name='from_status',
            field=models.CharField(blank=True, max_length=20, verbose_name='原状态'),
        ),
        migrations.AlterField(
            model_name='rosterstatuschange',
            name='to_status',
            field=models.CharField(max_length=20, verbose_name='新状态'),
        ),
        migrations.AlterField(
            model_name='rosterstatuschange',
            name='upload',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='status_changes', to='beneficiaries.rosterupload', verbose_name='名单'),
        ),
    ]
