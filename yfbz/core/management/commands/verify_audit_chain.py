"""python manage.py verify_audit_chain [--no-seal]

Seals the entries not sealed yet, then walks the audit trail's hash chain (yfbz.core.auditchain) and
reports every break. Exit 0 when the chain holds, 1 with each problem named. Prints the head hash:
ship it to the log store (docs/security.md) so that a cut tail is detectable later.
"""

import json

from django.core.management.base import BaseCommand

from yfbz.core.auditchain import seal_pending, verify


class Command(BaseCommand):
    help = "校验审计日志的哈希链：每条记录封记后未被修改、删除或改序。"

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true", help="只校验，不先封记新记录")

    def handle(self, *args, no_seal=False, **opts):
        sealed_now = 0 if no_seal else seal_pending(limit=10**9)
        report = verify()
        self.stdout.write(json.dumps({
            "ok": report.ok, "sealed_now": sealed_now, "entries_in_chain": report.sealed, "head": report.head,
            "problems": report.problems,
        }, ensure_ascii=False, indent=2))
        if not report.ok:
            raise SystemExit(1)
