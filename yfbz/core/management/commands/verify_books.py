"""python manage.py verify_books — prove the books add up (yfbz.core.books; docs/funding.md).

Exit 0 when every check holds; 1 with each finding named in Chinese. The result is kept for
/healthz and the finance officer's home page (``--no-record`` to leave no trace)."""

from django.core.management.base import BaseCommand

from yfbz.core import books


class Command(BaseCommand):
    help = "核对账目：年度限额、账户余额、应付款与资金申请、支付、资助参保途径"

    def add_arguments(self, parser):
        parser.add_argument("--no-record", action="store_true", help="不保存本次核对结果")

    def handle(self, *args, no_record=False, **options):
        result = books.verify()
        if not no_record:
            books.record(result, source="命令")
        for kind, text in result.findings:
            self.stdout.write(f"【{kind}】{text}")
        self.stdout.write(result.summary())
        if not result.ok:
            raise SystemExit(1)
