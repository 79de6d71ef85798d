from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "yfbz.policy"
    label = "policy"
    verbose_name = "政策参数"
