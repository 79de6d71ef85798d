from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from yfbz.core.importformats import HeaderCheckedResource

from .models import Category, CategoryAlias, Department, Person, Town


class TownResource(HeaderCheckedResource, resources.ModelResource):
    class Meta:
        model = Town
        import_id_fields = ("code",)
        fields = ("code", "name", "kind", "active")


class CategoryAliasResource(HeaderCheckedResource, resources.ModelResource):
    department = fields.Field(attribute="department", column_name="department", widget=ForeignKeyWidget(Department, "code"))
    category = fields.Field(attribute="category", column_name="code", widget=ForeignKeyWidget(Category, "code"))

    class Meta:
        model = CategoryAlias
        import_id_fields = ("department", "wording")
        fields = ("category", "department", "wording")


class PersonResource(resources.ModelResource):
    """Admin export of people; the queryset it gets is already scoped (ScopedAdminMixin)."""

    town = fields.Field(attribute="town", column_name="所属镇街", widget=ForeignKeyWidget(Town, "name"))

    class Meta:
        model = Person
        fields = ("id_number", "name", "sex", "birth_date", "town", "village", "phone")
        export_order = fields
        import_id_fields = ("id_number",)
