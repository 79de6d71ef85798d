"""``python manage.py statistics --year Y [--month M | --quarter Q] --by KEY [--town CODE]``
(tests/samples/HISTORY.md, docs/statistics.md): the figures of the statistics pages, from the same
code (reporting.selectors), as JSON. Brings the figures up to date first.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from beneficiaries.models import Town
from reporting.build import rebuild_year, refresh
from reporting.cuts import DIMENSIONS, Period
from reporting.selectors import table


class Command(BaseCommand):
    help = "按期间和分组输出医疗救助统计数字（JSON），与统计页面同一套数据。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年度（按结算日期）")
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--month", type=int, help="月份 1–12")
        when.add_argument("--quarter", type=int, help="季度 1–4")
        parser.add_argument("--identity-changes", action="store_true",
                            help="输出该年度各月身份变动（按来源：月度名单、名单外更正、原系统迁移），不需要 --by")
        parser.add_argument("--by", choices=list(DIMENSIONS), help="分组：" + "、".join(DIMENSIONS))
        parser.add_argument("--town", help="只统计一个镇街（代码或名称）")
        parser.add_argument("--rebuild", action="store_true", help="先按核定记录重新生成该年度的全部统计数据")

    def handle(self, *args, **opts):
        if opts["identity_changes"]:
            return self._identity_changes(opts)
        if not opts["by"]:
            raise CommandError("请指定 --by（" + "、".join(DIMENSIONS) + "）或 --identity-changes", returncode=2)
        try:
            period = Period(opts["year"], month=opts.get("month"), quarter=opts.get("quarter"))
        except ValueError:
            raise CommandError("月份应为1–12，季度应为1–4。", returncode=2) from None
        if not 1990 <= period.year <= 2100:
            raise CommandError(f"年度无效：{period.year}", returncode=2)
        town = None
        if opts.get("town"):
            town = Town.objects.filter(code=opts["town"]).first() or Town.objects.filter(name=opts["town"]).first()
            if town is None:
                raise CommandError(f"未知的镇街：{opts['town']}", returncode=2)
        if opts["rebuild"]:
            rebuild_year(period.year)
        while refresh()["changes"]:
            pass
        self.stdout.write(json.dumps(table(period, opts["by"], town).as_json(), ensure_ascii=False, indent=1))

    def _identity_changes(self, opts):
        from reporting.selectors import IDENTITY_CHANGE_KINDS, identity_change_rows

        town = None
        if opts.get("town"):
            town = Town.objects.filter(code=opts["town"]).first() or Town.objects.filter(name=opts["town"]).first()
            if town is None:
                raise CommandError(f"未知的镇街：{opts['town']}", returncode=2)
        rows, total = identity_change_rows(opts["year"], town=town)
        codes = [code for code, _ in IDENTITY_CHANGE_KINDS]
        out = {
            "year": opts["year"], "town": town.name if town else None,
            "labels": dict(IDENTITY_CHANGE_KINDS),
            "months": {f"{opts['year']}-{r['month']:02d}": dict(zip(codes, r["cells"], strict=True)) for r in rows},
            "total": dict(zip(codes, total["cells"], strict=True)),
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=1))
