"""需院外维持治疗 becomes a dated person attribute (PersonAttribute, moving through the one status
mechanism): every person flagged with the old yes/no gets a confirmed span from 1900-01-01 with no
end (the flag had no dates, so every decision made with it keeps its meaning); 0013 then drops the
yes/no column (a separate migration: PostgreSQL refuses to alter a table with pending foreign-key
checks in the same transaction)."""

import datetime

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def flags_to_spans(apps, schema_editor):
    Person = apps.get_model("beneficiaries", "Person")
    PersonAttribute = apps.get_model("beneficiaries", "PersonAttribute")
    spans = [
        PersonAttribute(
            person_id=pk,
            attribute="needs_maintenance_treatment",
            valid_from=datetime.date(1900, 1, 1),
            source="迁移自原“需院外维持治疗”标记（原记录无起止日期）",
            status="CONFIRMED",
            note="迁移：原标记视为已确认",
        )
        for pk in Person.objects.filter(needs_maintenance_treatment=True).values_list("pk", flat=True).iterator()
    ]
    PersonAttribute.objects.bulk_create(spans, batch_size=5000)
    History = apps.get_model("beneficiaries", "PersonAttributeStatusChange")
    History.objects.bulk_create(
        [
            History(span_id=pk, from_status="", to_status="CONFIRMED", reason="迁移自原“需院外维持治疗”标记")
            for pk in PersonAttribute.objects.values_list("pk", flat=True).iterator()
        ],
        batch_size=5000,
    )


def spans_to_flags(apps, schema_editor):
    Person = apps.get_model("beneficiaries", "Person")
    PersonAttribute = apps.get_model("beneficiaries", "PersonAttribute")
    held = PersonAttribute.objects.filter(
        attribute="needs_maintenance_treatment", status__in=("CONFIRMED", "ENDING")
    ).values("person_id")
    Person.objects.filter(pk__in=held).update(needs_maintenance_treatment=True)


class Migration(migrations.Migration):

    dependencies = [
        ('beneficiaries', '0011_persontown'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonAttribute',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('attribute', models.CharField(choices=[('needs_maintenance_treatment', '需院外维持治疗的重病患者')], max_length=60, verbose_name='人员属性')),
                ('valid_from', models.DateField(verbose_name='起始日期')),
                ('valid_to', models.DateField(blank=True, null=True, verbose_name='终止日期')),
                ('source', models.CharField(help_text='如：区卫健委认定书编号、医院诊断证明', max_length=200, verbose_name='认定依据')),
                ('status', models.CharField(choices=[('PROPOSED', '待复核'), ('CONFIRMED', '已确认'), ('ENDING', '终止待复核'), ('REJECTED', '已退回')], default='PROPOSED', max_length=10, verbose_name='状态')),
                ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='登记时间')),
                ('confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='复核时间')),
                ('end_proposed', models.DateField(blank=True, null=True, verbose_name='拟终止日期')),
                ('end_source', models.CharField(blank=True, max_length=200, verbose_name='终止依据')),
                ('note', models.TextField(blank=True, verbose_name='复核说明')),
                ('confirmed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='复核人')),
                ('end_proposed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='终止登记人')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attribute_spans', to='beneficiaries.person', verbose_name='人员')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='登记人')),
            ],
            options={
                'verbose_name': '人员属性',
                'verbose_name_plural': '人员属性',
                'ordering': ['person_id', 'attribute', 'valid_from'],
            },
        ),
        migrations.CreateModel(
            name='PersonAttributeStatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, max_length=20, verbose_name='原状态')),
                ('to_status', models.CharField(max_length=20, verbose_name='新状态')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间')),
                ('reason', models.TextField(blank=True, verbose_name='说明')),
                ('by', models.ForeignKey(blank=True, help_text='空表示由系统（后台任务）完成', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人')),
                ('span', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='status_changes', to='beneficiaries.personattribute', verbose_name='人员属性')),
            ],
            options={
                'verbose_name': '人员属性状态记录',
                'verbose_name_plural': '人员属性状态记录',
                'ordering': ['at', 'id'],
                'abstract': False,
            },
        ),
        migrations.AddIndex(
            model_name='personattribute',
            index=models.Index(fields=['person', 'attribute'], name='beneficiari_person__2e4561_idx'),
        ),
        migrations.AddConstraint(
            model_name='personattribute',
            constraint=models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), name='person_attribute_to_not_before_from'),
        ),
        migrations.RunPython(flags_to_spans, spans_to_flags),
    ]
