from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "高额医疗费用监测"

    def ready(self):
        from auditlog.registry import auditlog

        from yfbz.core.hooks import contribute

        from .panels import person_panel

        contribute("person_panels", person_panel)

        # a large month's results for a department are an export job (yfbz.core.exports)
        from .results import register_exports

        register_exports()

        # an application granted on a bill follows its bill's moves (claims.services.bill_set_status)
        from .applications import follow_bill

        contribute("bill_moved", follow_bill)

        # the leadership dashboard's monitoring sections (reporting reaches no monitoring: it asks its hooks)
        from reporting.hooks import register_dashboard_section

        from .indicator import dashboard_open_work, dashboard_self_pay

        register_dashboard_section(dashboard_open_work)
        register_dashboard_section(dashboard_self_pay)

        from .models import HighCostRow, PersonYearBurden, SelfPayMonth

        # rows of an imported file and the derived burdens: written in bulk (COPY), one audit entry per
        # import (services.log_bulk); auditing each row would write a log entry per settlement
        for model in (HighCostRow, PersonYearBurden, SelfPayMonth):
            if auditlog.contains(model):
                auditlog.unregister(model)
        # a scan's bytes never enter the trail (binary: not text), the rest of its row does
        from .models import ApplicationPaper

        if auditlog.contains(ApplicationPaper):
            auditlog.unregister(ApplicationPaper)
        auditlog.register(ApplicationPaper, exclude_fields=["data"])
