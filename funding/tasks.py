"""Celery entry points: they take ids, call a service, and are safe to run twice."""

from celery import shared_task

from yfbz.core.errors import YfbzError


@shared_task(name="funding.subsidy_run_execute")
def subsidy_run_execute(run_id: int) -> dict:
    """A year's subsidy run: the coordinator, which sends one task per part (a chord) and returns
    (yfbz.core.jobs: a failure is recorded on the run, with the reason)."""
    from .services.subsidies import subsidy_run_execute as execute

    try:
        return {"run": run_id, "done": execute(run_id=run_id, inline=False).progress_done}
    except YfbzError as exc:
        return {"run": run_id, "error": str(exc)}


@shared_task(name="funding.subsidy_run_part")
def subsidy_run_part(part_id: int, token: str, batch_size: int | None = None) -> dict:
    """One part of a subsidy run (then any other part left; see services.subsidies.subsidy_run_part_work)."""
    from .services.subsidies import subsidy_run_part_work

    try:
        return {"part": part_id, "people": subsidy_run_part_work(part_id=part_id, token=token, batch_size=batch_size)}
    except YfbzError as exc:
        return {"part": part_id, "error": str(exc)}


@shared_task(name="funding.subsidy_run_finish")
def subsidy_run_finish(run_id: int, token: str) -> dict:
    """The chord's callback: the run's one end (a no-op when the last part has finished it already)."""
    from .services.subsidies import subsidy_run_finish_now

    try:
        return {"run": run_id, "finished": subsidy_run_finish_now(run_id=run_id, token=token)}
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


@shared_task(name="funding.tax_reconciliation")
def tax_reconciliation(reconciliation_id: int) -> dict:
    """A 代缴明细 reconciled with the subsidy run (yfbz.core.jobs: a failure is recorded on the row)."""
    from .services.tax_detail import tax_reconciliation_run

    try:
        rec = tax_reconciliation_run(reconciliation_id=reconciliation_id)
        return {"reconciliation": reconciliation_id, "done": rec is not None}
    except YfbzError as exc:
        return {"reconciliation": reconciliation_id, "error": str(exc)}
