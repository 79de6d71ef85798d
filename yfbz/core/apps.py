from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "yfbz.core"
    label = "core"
    verbose_name = "系统与权限"

    def ready(self):
        from . import accounts
        from .roles import sync_role_groups

        accounts.connect()

        # an export job's file never enters the audit trail (the request, its filters and any
        # full-numbers access are recorded; yfbz.core.exports)
        from auditlog.registry import auditlog

        from .models import ExportJob

        if auditlog.contains(ExportJob):
            auditlog.unregister(ExportJob)
        auditlog.register(ExportJob, exclude_fields=["data"])
        # the audit trail's download is an export like the apps' (a job over its limit, issue 14)
        from .views import register_exports

        register_exports()

        # Role permissions are defined in yfbz/core/roles.py; every migrate re-applies them so a
        # new model's permissions reach the roles without a new data migration.
        post_migrate.connect(_sync_roles_once, sender=self, dispatch_uid="yfbz-sync-roles")
        # every status history table is append-only on PostgreSQL (yfbz.core.workflow)
        post_migrate.connect(_history_triggers, sender=self, dispatch_uid="yfbz-history-triggers")
        self._sync = sync_role_groups

        # the engine's codes, in words (yfbz.core.display); each app registers its own in its ready()
        from yfbz.rules.codes import ENROLMENT_ZH, REFUSAL_REASONS, SCHEME_ZH, YOUFU, YOUFU_ZH

        from .display import register_labels

        register_labels("scheme", {**{str(k): v for k, v in SCHEME_ZH.items()}, YOUFU: YOUFU_ZH, "ONE_STOP": "一站式结算"})
        register_labels("enrolment", {str(k): v for k, v in ENROLMENT_ZH.items()})
        register_labels("refusal", {k: v[0] for k, v in REFUSAL_REASONS.items()})


def _sync_roles_once(sender, **kwargs):
    sender._sync()


def _history_triggers(sender, using="default", **kwargs):
    from .workflow import install_triggers

    install_triggers(using)
