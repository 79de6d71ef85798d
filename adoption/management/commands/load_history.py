"""``python manage.py load_history FILE.json --entered-by USER --approved-by USER [--historic]``
(docs/adoption.md, tests/samples/HISTORY.md).

Prints the JSON of ``simulate`` built from what was stored. A bad file is refused whole with the
message simulate gives and exit status 2; a file loaded before writes nothing and says so (on
standard error, so that standard output stays the same JSON).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from adoption.services import LoadError, ScenarioError, load_history
from yfbz.core.models import User


class Command(BaseCommand):
    help = "导入采用本系统前本年度已有的人员、身份和已核定票据（格式同情景文件），结果以JSON输出。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="历史数据文件（JSON，情景文件格式，见 docs/adoption.md）；'-' 表示标准输入")
        parser.add_argument("--entered-by", required=True, help="录入人用户名（区医保经办）")
        parser.add_argument("--approved-by", required=True, help="审批人用户名（区医保审核，与录入人不同）")
        parser.add_argument(
            "--historic", action="store_true",
            help="按原系统核定结果记录（每张票据须带 scheme、category、assistance），计入限额和统计，不再支付",
        )

    def handle(self, *args, **options):
        path = options["file"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取情景文件 {path}：{exc}", returncode=2) from None
        users = {}
        for opt in ("entered_by", "approved_by"):
            try:
                users[opt] = User.objects.get(username=options[opt])
            except User.DoesNotExist:
                raise CommandError(f"没有用户名为{options[opt]}的工作人员（--{opt.replace('_', '-')}）。", returncode=2) from None
        try:
            outcome = load_history(
                text, file_name="标准输入" if path == "-" else Path(path).name,
                entered_by=users["entered_by"], approved_by=users["approved_by"], historic=options["historic"],
            )
        except ScenarioError as exc:
            raise CommandError(f"情景文件有误：{exc}", returncode=2) from None
        except LoadError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for note in outcome.notes:
            self.stderr.write(note)
        if not outcome.already_loaded:
            load = outcome.load
            self.stderr.write(
                f"已导入{load.file_name}：新建人员{load.persons_created}人，已有人员{load.persons_matched}人，"
                f"迁移身份{load.identities_added}条，新建医疗机构{load.institutions_created}家，票据{load.bills}张"
                + ("（原系统核定结果，不再支付）" if load.historic else "（本系统核定并审批）") + "。"
            )
        self.stdout.write(json.dumps(outcome.result, ensure_ascii=False, indent=1))
