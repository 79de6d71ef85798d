from yfbz.core.errors import YfbzError


class FundingError(YfbzError):
    """A refusal staff can read: names what was wrong and changes nothing (the service is atomic)."""
