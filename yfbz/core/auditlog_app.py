"""django-auditlog's app, named in Chinese where the admin shows it (INSTALLED_APPS names this config).

Its own name, "Audit log", has no Chinese translation: the admin's index and the trail's breadcrumbs said
AUDIT LOG. (Kept out of ``yfbz.core.apps``: with two configs there Django would no longer pick CoreConfig.)"""

from auditlog.apps import AuditlogConfig


class AuditTrailConfig(AuditlogConfig):
    verbose_name = "审计日志"
