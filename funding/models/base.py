"""What every part of funding shares: how money is stored and who did it."""

from django.conf import settings

MONEY = {"max_digits": 14, "decimal_places": 2}
USER = settings.AUTH_USER_MODEL
