from django.core.exceptions import ValidationError


class FundingError(ValidationError):
    """A refusal staff can read: names what was wrong and changes nothing (the service is atomic)."""

    def __str__(self):
        return "；".join(self.messages)
