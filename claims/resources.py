from import_export import resources

from yfbz.core.importformats import HeaderCheckedResource

from .models import Institution


class InstitutionResource(HeaderCheckedResource, resources.ModelResource):
    """定点医药机构 import/export, keyed by the institution code."""

    class Meta:
        model = Institution
        import_id_fields = ("code",)
        # no bank account: it changes only through a confirmed InstitutionBankChange (maker ≠ checker)
        fields = ("code", "name", "level", "in_city", "networked", "designated", "designated_from", "designated_to", "active")
        export_order = fields
        skip_unchanged = True
        report_skipped = False
        clean_model_instances = True  # level must be 0–3, code unique: errors are reported by row
