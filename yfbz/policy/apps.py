from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "yfbz.policy"
    label = "policy"
    verbose_name = "政策参数"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from beneficiaries.models import Category
        from yfbz.core.display import register_label_source
        from yfbz.core.hooks import contribute, register

        from .benefits import benefits_on
        from .models import RECORD_MODELS, BenefitGroup, group_names
        from .selectors import policy_in_force, warm_policy_book

        # beneficiaries asks the policy through hooks (it imports no policy): the roster's age rules,
        # and what a person's identities give on the person page
        register("policy_in_force", policy_in_force)
        register("benefits_on", benefits_on)
        contribute("warm_up", warm_policy_book)  # read once by the gunicorn master before it forks (yfbz.core.warm)

        # benefit groups reach users by their names (data: BenefitGroup), through the display layer
        register_label_source("group", group_names)

        # category names come from the editable Category table (yfbz.policy.models.category_records)
        for model in (*RECORD_MODELS, Category, BenefitGroup):
            post_save.connect(_changed, sender=model, dispatch_uid=f"policy-changed-save-{model.__name__}")
            post_delete.connect(
                _changed, sender=model, dispatch_uid=f"policy-changed-delete-{model.__name__}"
            )


def _changed(sender, **kwargs):
    if kwargs.get("raw"):
        return
    from yfbz.core.memo import forget

    from .models import forget_group_names
    from .services import bump_revision

    bump_revision()
    forget("categories")  # a request that changed a category reads the table again
    forget("category-name-of")
    forget_group_names()
