"""``python manage.py simulate FILE.json``: a what-if run of the policy engine (SCENARIO.md).

Reads the scenario, runs it in memory against the policy rows of the database (plus the
scenario's own ``policy`` overrides), and prints the result as JSON. Nothing is written.
A bad file is refused with a message naming the entry and field, exit status 2.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yfbz.policy.selectors import policy_book
from yfbz.rules.scenario import ScenarioError, load_json, parse_scenario, run_scenario


class Command(BaseCommand):
    help = "按情景文件模拟政策执行（不写数据库），结果以JSON输出。"

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="情景文件（JSON），格式见 tests/samples/SCENARIO.md；'-' 表示标准输入"
        )

    def handle(self, *args, **options):
        path = options["file"]
        try:
            if path == "-":
                import sys

                text = sys.stdin.read()
            else:
                text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取情景文件 {path}：{exc}", returncode=2) from None
        book = policy_book()
        try:
            data = load_json(text)
            categories = book.in_force(date.today()).categories or book.in_force(date(2100, 1, 1)).categories
            scenario = parse_scenario(data, categories=categories)
            result = run_scenario(scenario, book)
        except ScenarioError as exc:
            raise CommandError(f"情景文件有误：{exc}", returncode=2) from None
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=1))
