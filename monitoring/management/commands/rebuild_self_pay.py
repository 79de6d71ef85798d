"""python manage.py rebuild_self_pay

The indicator's month totals (``monitoring.SelfPayMonth``) made again from every high-cost row; each
import adds its own rows as it is applied, so this is for a repair or an audit's check (prints the
number of cells)."""

from django.core.management.base import BaseCommand

from monitoring.indicator import rebuild_months


class Command(BaseCommand):
    help = "从高额医疗费用明细重新汇总救助对象政策范围内自付比例的月度合计"

    def handle(self, *args, **options):
        n = rebuild_months()
        self.stdout.write(f"已重新汇总 {n} 个月度合计（年度 × 月份 × 身份类别 × 镇街）")
