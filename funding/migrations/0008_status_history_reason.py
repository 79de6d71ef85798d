
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The status history moves onto the one base (yfbz.core.workflow.StatusHistory): "note" is now
    "reason"; the rows are kept."""

    dependencies = [("funding", "0007_proposal_recovery")]

    operations = [
        migrations.RenameField("fundrequeststatuschange", "note", "reason"),
        migrations.AlterModelOptions(
            name='fundrequeststatuschange',
            options={'ordering': ['at', 'id'], 'verbose_name': '资金申请状态记录', 'verbose_name_plural': '资金申请状态记录'},
        ),
        migrations.AlterField(
            model_name='fundrequeststatuschange',
            name='at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间'),
        ),
        migrations.AlterField(
            model_name='fundrequeststatuschange',
            name='by',
            field=models.ForeignKey(blank=True, help_text='空表示由系统（后台任务）完成', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人'),
        ),
        migrations.AlterField(
            model_name='fundrequeststatuschange',
            name='from_status',
            field=models.CharField(blank=True, max_length=20, verbose_name='原状态'),
        ),
        migrations.AlterField(
            model_name='fundrequeststatuschange',
            name='reason',
            field=models.TextField(blank=True, verbose_name='说明'),
        ),
        migrations.AlterField(
            model_name='fundrequeststatuschange',
            name='to_status',
            field=models.CharField(max_length=20, verbose_name='新状态'),
        ),
    ]
