from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "统计与报表"

    def ready(self):
        from . import signals

        signals.connect()
