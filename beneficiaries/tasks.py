"""Celery entry points for rosters. They take ids and are safe to run twice (see services).
``roster_job`` is the one the services queue; the other two stay for messages queued before it."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def roster_check_task(upload_id: int) -> bool:
    return services.roster_check(upload_id=upload_id)


@shared_task(acks_late=True)
def roster_apply_task(upload_id: int) -> bool:
    return services.roster_apply(upload_id=upload_id)


@shared_task(name="beneficiaries.roster_job", acks_late=True)
def roster_job(job_id: int) -> dict:
    """A roster's check or apply (yfbz.core.jobs: a failure is recorded on the job row, with the reason;
    a message redelivered after its worker died counts as a try, and after 3 it is failed)."""
    from yfbz.core.errors import YfbzError

    try:
        return {"job": job_id, "done": services.roster_job_run(job_id=job_id)}
    except YfbzError as exc:
        return {"job": job_id, "error": str(exc)}
