"""Celery entry point of the statistics: safe to run any number of times, at once or in a row."""

from celery import shared_task


@shared_task(name="reporting.refresh", bind=True, max_retries=60)
def refresh_statistics(self) -> dict:
    """Bring the statistics up to date. When another worker is already building, try again shortly
    (that build may have read the queue before the latest changes arrived)."""
    from .build import refresh

    out = refresh(nowait=True)
    if out.get("busy") and not self.request.is_eager:
        raise self.retry(countdown=5)
    return out
