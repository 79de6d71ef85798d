"""handover_file --towns 统景镇,大湾镇 --on 2026-01-25 --user 用户名 --reason 移交北碚区 --out 移交清单.xlsx

The hand-over file for the bureau that receives towns leaving this bureau's district (docs/areas.md):
identities, this year's cap use per scheme, open receivables and undecided bills of every person living
there the day before. It holds full ID numbers: producing it is an access entry in the audit trail."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from beneficiaries.models import Town
from claims.handover import handover_workbook
from yfbz.core.models import User


class Command(BaseCommand):
    help = "划出镇街的移交清单（身份、本年度限额使用、未结应收款、未决票据），xlsx"

    def add_arguments(self, parser):
        parser.add_argument("--towns", required=True, help="镇街名称或代码，逗号分隔")
        parser.add_argument("--on", required=True, help="划出日期 YYYY-MM-DD")
        parser.add_argument("--user", required=True, help="经办人用户名（记入审计日志）")
        parser.add_argument("--reason", required=True, help="导出原因（记入审计日志）")
        parser.add_argument("--year", type=int, help="限额年度，默认划出日期所在年度")
        parser.add_argument("--out", required=True)

    def handle(self, *args, **o):
        towns = []
        for name in [x.strip() for x in o["towns"].replace("，", ",").split(",") if x.strip()]:
            town = Town.objects.filter(name=name).first() or Town.objects.filter(code=name).first()
            if town is None:
                raise CommandError(f"未知的镇街：{name}")
            towns.append(town)
        try:
            on = date.fromisoformat(o["on"])
        except ValueError as exc:
            raise CommandError(f"划出日期格式应为YYYY-MM-DD：{o['on']}") from exc
        user = User.objects.filter(username=o["user"]).first()
        if user is None:
            raise CommandError(f"未知的用户：{o['user']}")
        h = handover_workbook(towns=towns, on=on, user=user, reason=o["reason"], year=o["year"])
        with open(o["out"], "wb") as f:
            f.write(h.data)
        self.stdout.write(f"已生成移交清单：{h.people}人 → {o['out']}")
