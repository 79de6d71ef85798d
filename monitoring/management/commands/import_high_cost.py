"""python manage.py import_high_cost FILE --month YYYY-MM [--apply]

As docs/monitoring.md says: prints one JSON summary (rows, valid, invalid, duplicates, people, the
alerts this import raises or would raise, errors and warnings by row and field); exit status 0 when
the file was read (even with invalid rows), 2 when it could not be read at all.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitoring.importing import Unreadable, import_high_cost
from yfbz.core.models import User
from yfbz.core.params import BadParameter, parse_month


class Command(BaseCommand):
    help = "校验（并可直接导入）一份高额医疗费用明细，输出JSON汇总。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--month", required=True, help="明细所属月份 YYYY-MM")
        parser.add_argument("--apply", action="store_true", help="校验后导入并产生预警")
        parser.add_argument("--user", help="记为操作人的用户名（默认第一个超级用户）")

    def handle(self, *args, file, month, apply, user, **opts):
        try:
            month = parse_month(month)
        except BadParameter as exc:
            raise CommandError(f"月份格式应为YYYY-MM，收到：{month}") from exc
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._unreadable(f"无法打开文件：{exc}")
        actor = None
        if apply:
            qs = User.objects.filter(username=user) if user else User.objects.filter(is_superuser=True, is_active=True)
            actor = qs.order_by("pk").first()
            if user and actor is None:
                raise CommandError(f"没有用户名为{user}的用户")
        try:
            summary, imp = import_high_cost(data=data, file_name=path.name, month=month, user=actor, apply=apply)
        except Unreadable as exc:
            self._unreadable(str(exc))
        out = summary.as_json()
        if imp is not None:
            out["import"] = imp.pk
        self.stdout.write(json.dumps(out, ensure_ascii=False))

    def _unreadable(self, message: str):
        self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
        raise CommandError(message, returncode=2)
