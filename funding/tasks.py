"""Celery entry points: they take ids, call a service, and are safe to run twice."""

from celery import shared_task


@shared_task(name="funding.subsidy_run_execute")
def subsidy_run_execute(run_id: int) -> int:
    from .services.subsidies import subsidy_run_execute as execute

    return execute(run_id=run_id).progress_done
