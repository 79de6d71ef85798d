from django.apps import AppConfig


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = "资助参保与资金"
