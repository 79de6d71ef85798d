"""Celery entry points: they take ids, call a service, and are safe to run twice."""

from celery import shared_task
from django.contrib.auth import get_user_model

from yfbz.core.errors import YfbzError


@shared_task(name="claims.settlement_import")
def settlement_import(file_id: int, user_id: int | None = None) -> dict:
    """Import a queued settlement file (yfbz.core.jobs: a second run does nothing; a failure is
    recorded on the file with the reason; ``user_id`` None: the one who uploaded it)."""
    from .settlement import settlement_file_import

    user = get_user_model().objects.get(pk=user_id) if user_id else None
    try:
        f = settlement_file_import(file_id=file_id, user=user)
    except YfbzError as exc:
        return {"file": file_id, "error": str(exc)}
    return {"file": file_id, "done": f is not None}


@shared_task(name="claims.notice_batch")
def notice_batch(batch_id: int) -> dict:
    """Coordinate a batch of notices: number them and send their parts to the workers (the service claims
    the batch: a second run does nothing; a rerun renders only the parts still missing)."""
    from .notices import notice_batch_render

    try:
        return {"batch": batch_id, "done": notice_batch_render(batch_id=batch_id)}
    except YfbzError as exc:
        return {"batch": batch_id, "error": str(exc)}


@shared_task(name="claims.platform_split")
def platform_split(platform_file_id: int) -> dict:
    """Read and split the platform's settlement detail (yfbz.core.jobs: a failure is recorded on the
    file with the reason); the parts' imports are queued after it."""
    from .platform import platform_file_run

    try:
        files = platform_file_run(platform_file_id=platform_file_id)
    except YfbzError as exc:
        return {"platform_file": platform_file_id, "error": str(exc)}
    return {"platform_file": platform_file_id, "parts": len(files or [])}


@shared_task(name="claims.notice_batch_part")
def notice_batch_part(part_id: int, token: str) -> dict:
    """Render one part of a notice batch (a second delivery, or a part of a batch rerun since, does nothing)."""
    from .notices import notice_batch_part_render

    return {"part": part_id, "done": notice_batch_part_render(part_id=part_id, token=token)}


@shared_task(name="claims.notice_batch_merge")
def notice_batch_merge(batch_id: int, token: str) -> dict:
    """Join a batch's rendered parts in order and mark it done (only under the token that sent the parts)."""
    from .notices import notice_batch_merge_parts

    try:
        return {"batch": batch_id, "done": notice_batch_merge_parts(batch_id=batch_id, token=token)}
    except YfbzError as exc:
        return {"batch": batch_id, "error": str(exc)}


@shared_task(name="claims.settlement_part")
def settlement_part(part_id: int, token: str) -> dict:
    """Decide one part of a settlement file (a second delivery, or a part of a file rerun since, does
    nothing; an error fails the file with the reason in Chinese)."""
    from .settlement import settlement_part_run

    return {"part": part_id, "done": settlement_part_run(part_id=part_id, token=token)}


@shared_task(name="claims.settlement_merge")
def settlement_merge(file_id: int, token: str) -> dict:
    """Add a settlement file's parts up and mark it imported (only under the token that sent the parts)."""
    from .settlement import settlement_merge_run

    try:
        return {"file": file_id, "done": settlement_merge_run(file_id=file_id, token=token)}
    except YfbzError as exc:
        return {"file": file_id, "error": str(exc)}
