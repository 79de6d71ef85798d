from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "yfbz.areas"
    label = "areas"
    verbose_name = "区域与本局"

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from yfbz.core.display import register_labels

        from .models import Area, Bureau, GroupTown, TownDistrict

        register_labels("area_kind", Area.Kind)
        from yfbz.policy.selectors import register_area_chooser

        from .tree import policy_area_chooser

        register_area_chooser(policy_area_chooser)

        # beneficiaries asks for the tree through a hook (it imports no areas)
        from yfbz.core.hooks import register

        from .tree import area_tree

        register("area_tree", area_tree)
        # the tree decides which policy applies and who sees what: every change invalidates the caches
        for model in (Area, TownDistrict, Bureau, GroupTown):
            post_save.connect(_changed, sender=model, dispatch_uid=f"areas-changed-save-{model.__name__}")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"areas-changed-delete-{model.__name__}")
        m2m_changed.connect(_changed, sender=Area.towns.through, dispatch_uid="areas-changed-group-towns")


def _changed(sender, **kwargs):
    if kwargs.get("raw"):
        return
    from yfbz.policy.services import bump_revision

    bump_revision()
