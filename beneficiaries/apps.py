from django.apps import AppConfig


class BeneficiariesConfig(AppConfig):
    name = "beneficiaries"
    verbose_name = "救助对象与身份"

    def ready(self):
        # Roster files are kept in the database: record uploads in the audit trail without their bytes.
        from auditlog.registry import auditlog

        from .models import RosterUpload

        if auditlog.contains(RosterUpload):
            auditlog.unregister(RosterUpload)
        auditlog.register(RosterUpload, exclude_fields=["file_bytes"])
