from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "yfbz.files"
    label = "files"
    verbose_name = "文件格式"

    def ready(self):
        from yfbz.core.display import register_audit_summary

        from .reader import describe

        # how a file was read (the "reading" of an upload), in the audit trail as on the page
        register_audit_summary("reading", lambda value: describe(value) if isinstance(value, dict) else None)
