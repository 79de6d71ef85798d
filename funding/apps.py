from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = "资助参保与资金"

    def ready(self):
        # its large exports run as tasks over the limit (issue 14, yfbz.core.exports)
        from .exports import register_exports

        register_exports()
        # its PDFs (the fund request form, the month report) are built by a task, never in the web process
        from .notices import register_documents

        register_documents()

        from yfbz.core.display import register_labels

        from .accounts import ensure_accounts
        from .models import Fund, Spending

        register_labels("fund", Fund)

        # a payable's source key on the audit trail, in words (decision:12:ASSISTANCE → 手工报销核定12（医疗救助资金）)
        from yfbz.core.display import register_audit_summary

        from .selectors import source_label

        register_audit_summary("source_key", lambda v: source_label(v) if isinstance(v, str) and ":" in v else None)

        # the audit trail records the reconciliation, never the bytes of the uploaded 代缴明细
        from auditlog.registry import auditlog

        from .models import TaxReconciliation

        if auditlog.contains(TaxReconciliation):
            auditlog.unregister(TaxReconciliation)
        auditlog.register(TaxReconciliation, exclude_fields=["data"])

        # what a back-dated policy row would have changed: the year's subsidies (yfbz.policy.impact)
        from yfbz.policy.impact import register_replay

        from .replay import items

        register_replay("funding", items)
        register_labels("spending", Spending)

        # verify_books (yfbz.core.books): balances, payables, payments, subsidy routes
        from yfbz.core.books import register_check

        from . import books

        register_check("balances", "账户余额", books.check_balances)
        register_check("payables", "应付款与资金申请", books.check_payables)
        register_check("payments", "支付", books.check_payments)
        register_check("routes", "资助参保途径重复", books.check_routes)

        def _ensure(sender, **kwargs):
            from django.db import DatabaseError

            try:
                ensure_accounts()
            except DatabaseError:  # the table does not exist yet (migrating backwards)
                pass

        post_migrate.connect(_ensure, sender=self, dispatch_uid="funding_ensure_accounts")
