"""python manage.py import_roster FILE --department CIVIL --month 2025-03 [--mode snapshot|delta] [--apply]

As tests/samples/ROSTERS.md describes: prints one JSON summary; exit status 0 when the file was read
(even with invalid rows), 2 when it could not be read at all. Without --apply nothing changes.
With --apply, exit status 1 when the roster would end more than the allowed share of last month's
identities: check the file, then run again with --confirm-endings.
"""

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from beneficiaries.models import Department
from beneficiaries.rosters.reading import RosterUnreadable
from beneficiaries.services import APPLIED, RosterNotApplied, roster_import
from yfbz.core.models import User


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"月份格式应为YYYY-MM，收到：{text}") from exc


class Command(BaseCommand):
    help = "校验（并可直接生效）一份部门身份名单，输出JSON汇总。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--department", required=True, help="认定部门代码，如 CIVIL")
        parser.add_argument("--month", required=True, type=_month, help="名单月份 YYYY-MM")
        parser.add_argument("--mode", choices=["snapshot", "delta"], default="snapshot")
        parser.add_argument("--apply", action="store_true", help="校验后直接作为已确认名单生效")
        parser.add_argument("--confirm-endings", action="store_true", help="终止身份超过上限比例时的二次确认")
        parser.add_argument("--user", help="记为操作人的管理员用户名（默认第一个超级用户）")

    def handle(self, *args, file, department, month, mode, apply, confirm_endings, user, **opts):
        try:
            dept = Department.objects.get(code=department)
        except Department.DoesNotExist as exc:
            raise CommandError(f"没有代码为{department}的认定部门") from exc
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._unreadable(f"无法打开文件：{exc}")
        actor = None
        if apply:
            qs = User.objects.filter(username=user) if user else User.objects.filter(is_superuser=True, is_active=True)
            actor = qs.order_by("pk").first()
            if actor is None:
                raise CommandError("请用 --user 指定一个管理员账号（没有可用的超级用户）")
        try:
            summary, upload, message = roster_import(
                user=actor, department=dept, month=month, mode=mode, file_name=path.name, data=data,
                apply=apply, confirm_endings=confirm_endings,
            )
        except RosterUnreadable as exc:
            self._unreadable(str(exc))
        except RosterNotApplied as exc:  # read and checked, but not applied: say so, exit 1
            self._print(exc.summary, exc.upload, exc.message, applied=False)
            raise CommandError(exc.message, returncode=1) from exc
        self._print(summary, upload, message, applied=message == APPLIED)

    def _print(self, summary, upload, message, *, applied):
        out = summary.as_json()
        if upload is not None:
            out.update({"upload": upload.pk, "status": upload.status, "applied": applied, "message": message})
        self.stdout.write(json.dumps(out, ensure_ascii=False))

    def _unreadable(self, message: str):
        self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
        raise CommandError(message, returncode=2)
