from django.apps import AppConfig


class BeneficiariesConfig(AppConfig):
    name = "beneficiaries"
    verbose_name = "救助对象与身份"

    def ready(self):
        # its large exports run as tasks over the limit (issue 14, yfbz.core.exports)
        from .exports import register_exports

        register_exports()

        # Roster files are kept in the database: the audit trail records the upload, not the bytes.
        from auditlog.registry import auditlog

        from .models import RosterFile

        if auditlog.contains(RosterFile):
            auditlog.unregister(RosterFile)

        from yfbz.core.display import register_labels

        from .models import RetroactiveChange

        register_labels("retro_status", RetroactiveChange.Status)
        register_labels("retro_kind", RetroactiveChange.Kind)
