"""Celery entry points for rosters. They take ids and are safe to run twice (see services)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def roster_check_task(upload_id: int) -> bool:
    return services.roster_check(upload_id=upload_id)


@shared_task(acks_late=True)
def roster_apply_task(upload_id: int) -> bool:
    return services.roster_apply(upload_id=upload_id)
