from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "统计与报表"

    def ready(self):
        from auditlog.registry import auditlog

        from . import signals
        from .models import (
            Aggregate,
            BuildState,
            Cell,
            Fact,
            Presence,
            PresenceYear,
            RefreshQueue,
            Signature,
            SubsidyAggregate,
        )

        signals.connect()
        # the return's PDF is built by a task, never in the web process (issue 14, yfbz.core.exports)
        from .views import register_documents

        register_documents()
        # derived data, rebuilt from audited records: auditing each row would write a log entry per
        # fact and make every rebuild delete row by row (returns, budgets and thresholds stay audited)
        for model in (Fact, Cell, Signature, Aggregate, SubsidyAggregate, Presence, PresenceYear, RefreshQueue,
                      BuildState):
            if auditlog.contains(model):
                auditlog.unregister(model)
