"""Celery entry points: they take ids, call a service, and are safe to run twice."""

from celery import shared_task

from yfbz.core.errors import YfbzError


@shared_task(name="funding.subsidy_run_execute")
def subsidy_run_execute(run_id: int) -> dict:
    """A year's subsidy run (yfbz.core.jobs: a failure is recorded on the run, with the reason)."""
    from .services.subsidies import subsidy_run_execute as execute

    try:
        return {"run": run_id, "done": execute(run_id=run_id).progress_done}
    except YfbzError as exc:
        return {"run": run_id, "error": str(exc)}


@shared_task(name="funding.file_import")
def file_import(import_id: int) -> dict:
    """An uploaded enrolment export or bank return (yfbz.core.jobs: a failure is recorded on the row)."""
    from .services.fileimports import file_import_run

    try:
        row = file_import_run(import_id=import_id)
        return {"import": import_id, "done": row is not None}
    except YfbzError as exc:
        return {"import": import_id, "error": str(exc)}
