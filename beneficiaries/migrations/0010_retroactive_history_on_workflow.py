import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The retroactive changes' history moves onto the one base (yfbz.core.workflow.StatusHistory):
    "note" is now "reason"; the rows are kept."""

    dependencies = [("beneficiaries", "0009_status_history_reason")]

    operations = [
        migrations.RenameField("retroactivechangestatuschange", "note", "reason"),
        migrations.AlterField(
            model_name="retroactivechangestatuschange",
            name="at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.AlterField(
            model_name="retroactivechangestatuschange",
            name="by",
            field=models.ForeignKey(blank=True, help_text="空表示由系统（后台任务）完成", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="操作人"),
        ),
        migrations.AlterField(
            model_name="retroactivechangestatuschange",
            name="from_status",
            field=models.CharField(blank=True, max_length=20, verbose_name="原状态"),
        ),
        migrations.AlterField(
            model_name="retroactivechangestatuschange",
            name="to_status",
            field=models.CharField(max_length=20, verbose_name="新状态"),
        ),
    ]
