from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "医疗救助核定"

    def ready(self):
        # The audit trail records every change, but not the bytes of uploaded files and generated
        # PDFs (a 20 MB settlement file would otherwise be copied into the log as text).
        from auditlog.registry import auditlog

        from .models import BillAttachment, NoticeBatch, PlatformSettlementFile, SettlementFile

        for model, fields in ((BillAttachment, ["data"]), (SettlementFile, ["data"]), (PlatformSettlementFile, ["data"]),
                              (NoticeBatch, ["pdf"])):
            if auditlog.contains(model):
                auditlog.unregister(model)
            auditlog.register(model, exclude_fields=fields)

        # its large exports run as tasks over the limit (issue 14, yfbz.core.exports)
        from .exports import register_exports

        register_exports()

        # what a retroactive identity change reaches: hand-bill decisions and one-stop lines
        from beneficiaries.retro import register_reach

        from .retro import reach

        register_reach("claims", reach)

        # what a back-dated policy row would have changed: the decisions it can reach (yfbz.policy.impact)
        from yfbz.policy.impact import register_replay

        from .replay import items

        register_replay("claims", items)

        # what funding pays for claims: decisions, one-stop settlement months and their top-ups
        from funding.payables import Provider, register_provider

        from .selectors import payables
        from .services import payables_mark_paid

        register_provider(Provider("claims", payables, payables_mark_paid))

        # verify_books: every cap row equals the sum of the current decisions behind it
        from yfbz.core.books import register_check

        from .books import check_caps

        register_check("caps", "年度限额与核定不符", check_caps)
