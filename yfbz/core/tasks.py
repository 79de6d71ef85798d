from celery import shared_task


@shared_task(name="core.ping_database")
def ping_database() -> dict:
    """A round trip through the broker, a worker and the database: used by tests and by
    operators (`celery -A yfbz call core.ping_database`) to check a new worker host."""
    from django.apps import apps

    from .health import check_database

    ok, detail = check_database()
    return {"database": ok, "vendor": detail, "towns": apps.get_model("beneficiaries", "Town").objects.count()}


@shared_task(name="core.seal_audit_trail")
def seal_audit_trail() -> int:
    """Seal new audit entries into the hash chain (yfbz.core.auditchain); beat runs it every minute."""
    from .auditchain import seal_pending

    return seal_pending()


@shared_task(name="core.resend_lost_jobs")
def resend_lost_jobs() -> int:
    """Every two minutes: a queued job row whose task message is nowhere in the broker is sent again
    (yfbz.core.jobs.resend_lost), with a history row saying so."""
    from .jobs import resend_lost

    return resend_lost()


@shared_task(name="core.verify_books")
def verify_books() -> dict:
    """Nightly (django-celery-beat row "账目核对"): run every check of yfbz.core.books and keep the result."""
    from . import books

    result = books.verify()
    row = books.record(result, source="定时任务")
    return {"ok": row.ok, "summary": row.summary}


@shared_task(name="core.export_run")
def export_run(job_id: int) -> dict:
    """Build a large export's file (yfbz.core.exports): a second run does nothing; a failure is recorded
    on the job with the reason in Chinese and offered 重新运行."""
    from .errors import YfbzError
    from .exports import export_run as run

    try:
        return {"export": job_id, "done": run(job_id=job_id)}
    except YfbzError as exc:
        return {"export": job_id, "error": str(exc)}
