"""State changes of people, identities and roster uploads. Views, admin, tasks and commands call these.

The roster workflow (docs/rosters.md):

    roster_upload_create  → UPLOADED  → roster_check (Celery)  → VALIDATED (or UNREADABLE)
    roster_submit         → TOWN_REVIEW; towns call roster_rows_review (accept / send back)
    roster_confirm        → CONFIRMING → roster_apply (Celery) → CONFIRMED: identities start and end (D6)
    roster_revalidate     → UPLOADED again (after an administrator added a category wording)
    roster_reject         → REJECTED

Locks are always taken in the order Department → RosterUpload: one department's rosters are checked
and applied one at a time, so a check never compares against identities an apply is changing.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from yfbz.core.locks import lock, lock_one
from yfbz.core.roles import Role
from yfbz.core.scoping import scope_q
from yfbz.core.workflow import record_start, record_start_many, transition, transition_many

from . import towncounts
from .models import (
    Department,
    RetroactiveChange,
    RosterFile,
    RosterJob,
    RosterRow,
    RosterUpload,
)
from .rosters import bulk, phases
from .rosters.applying import apply_roster
from .rosters.checking import Checked, Context, Summary, check_roster, gc_paused
from .rosters.reading import RosterUnreadable, open_roster, open_roster_aside

S = RosterUpload.Status
Outcome = RosterRow.Outcome
Review = RosterRow.Review

ALLOWED_MOVES = RosterUpload.MOVES
PENDING_STATUSES = (S.UPLOADED, S.VALIDATED, S.TOWN_REVIEW)
ROW_FIELDS = (
    "upload_id", "row_number", "cells", "id_number", "name", "category_id", "town_id", "village", "phone",
    "certified_on", "exits_on", "errors", "warnings", "outcome", "person_id", "identity_id", "review", "review_reason",
)


def max_ending_share() -> Decimal:
    """Share of last month's identities a snapshot may end without a second confirmation (default 10%)."""
    return Decimal(str(getattr(settings, "YFBZ_ROSTER_MAX_ENDING_SHARE", "0.10")))


# --- the one door for status changes ------------------------------------------------------------
def roster_set_status(*, upload: RosterUpload, to: str, by=None, note: str = "") -> RosterUpload:
    """Move an upload (locked by the caller) to `to` through the one door (``workflow.transition``):
    moves the workflow does not allow are refused, every move is appended to the upload's history."""
    transition(upload, to, by=by, reason=note)
    return upload


def _locked(upload_id: int) -> RosterUpload:
    """Lock department then upload (the fixed order)."""
    dept_id = RosterUpload.objects.values_list("department_id", flat=True).get(pk=upload_id)
    Department.objects.select_for_update().get(pk=dept_id)
    return RosterUpload.objects.select_for_update().select_related("department").get(pk=upload_id)


# --- who may do what ---------------------------------------------------------------------------
def can_upload(user, department: Department) -> bool:
    if user.is_superuser or user.has_role(Role.DISTRICT_CLERK, Role.SYSADMIN):
        return True
    return user.has_role(Role.DEPT_OFFICER) and user.department_id == department.pk


def can_confirm(user, upload: RosterUpload) -> bool:
    """Maker–checker: a district clerk or reviewer who did not upload the file."""
    district = user.is_superuser or user.has_role(Role.DISTRICT_CLERK, Role.DISTRICT_REVIEWER, Role.SYSADMIN)
    return district and user.pk != upload.uploaded_by_id


def can_review(user) -> bool:
    return user.has_role(Role.TOWN_CLERK) and user.town_id is not None


# --- upload ------------------------------------------------------------------------------------
@dataclass
class UploadResult:
    upload: RosterUpload
    created: bool
    message: str


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def roster_upload_create(*, user, department: Department, month: date, mode: str, file_name: str, data: bytes) -> UploadResult:
    """Store the file in the database and queue its check. A file already confirmed for that month
    changes nothing and says so; a different file for a month still pending replaces the pending one."""
    if not can_upload(user, department):
        raise PermissionDenied("只有本部门数据员或区医保经办可以上传该部门的名单")
    if mode not in RosterUpload.Mode.values:
        raise ValidationError(f"名单类型只能是全量或增减，收到：{mode}")
    if not data:
        raise ValidationError("文件为空")
    month = first_of_month(month)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        Department.objects.select_for_update().get(pk=department.pk)
        same = RosterUpload.objects.filter(department=department, month=month, sha256=digest, mode=mode)
        done = same.filter(status=S.CONFIRMED).order_by("-confirmed_at").first()
        if done:
            when = timezone.localtime(done.confirmed_at).strftime("%Y-%m-%d %H:%M") if done.confirmed_at else ""
            return UploadResult(done, False, f"该文件与{when}已确认的名单完全相同，未作任何变更")
        pending = same.filter(status__in=(*PENDING_STATUSES, S.CONFIRMING)).first()
        if pending:
            return UploadResult(pending, False, "该文件已上传，正在处理中，未重复上传")
        upload = RosterUpload.objects.create(
            department=department, month=month, mode=mode, file_name=file_name[:200], file_size=len(data),
            sha256=digest, uploaded_by=user,
        )
        bulk.insert_bytes(RosterFile, {"upload_id": upload.pk}, "data", data)
        record_start(upload, by=user, reason=f"上传文件 {file_name}")
        for old in RosterUpload.objects.select_for_update().filter(
            department=department, month=month, status__in=PENDING_STATUSES
        ).exclude(pk=upload.pk):
            roster_set_status(upload=old, to=S.REJECTED, by=user, note=f"已被新上传的名单（编号{upload.pk}）替代")
        _queue_check(upload.pk, user)
    return UploadResult(upload, True, "名单已上传，正在校验")


def _queue_check(upload_id: int, by=None) -> None:
    _queue_job(upload_id, RosterJob.Kind.CHECK, by)


def _queue_job(upload_id: int, kind: str, by=None) -> RosterJob:
    """A job row for the check or the apply, and its task once the upload's change is committed
    (yfbz.core.jobs: failed with a reason, 重新运行, never stuck)."""
    from yfbz.core import jobs

    job = RosterJob.objects.create(upload_id=upload_id, kind=kind)
    jobs.queue(job, by=by, reason=job.get_kind_display())
    transaction.on_commit(lambda: jobs.send(RosterJob, job.pk))
    return job


def roster_job_run(*, job_id: int) -> bool | None:
    """The task's body: the check or the apply under the jobs helper. Both are idempotent (nothing left
    to do: they return False), so a job redelivered or rerun after a success does nothing."""
    from yfbz.core import jobs

    def work(token: str) -> bool:
        job = RosterJob.objects.only("upload_id", "kind").get(pk=job_id)
        did = roster_check(upload_id=job.upload_id) if job.kind == RosterJob.Kind.CHECK else roster_apply(upload_id=job.upload_id)
        jobs.done(RosterJob, job_id, token)
        return did

    return jobs.run(RosterJob, job_id, work)


def latest_job(upload: RosterUpload) -> RosterJob | None:
    return RosterJob.objects.filter(upload=upload).order_by("-pk").first()


def _progress_key(upload_id: int) -> str:
    return f"roster-progress:{upload_id}"


def roster_progress(upload: RosterUpload) -> dict:
    """What the page shows while a job runs: the live figure from the cache, else the committed one."""
    live = cache.get(_progress_key(upload.pk)) or {}
    pending = upload.status in (S.UPLOADED, S.CONFIRMING)
    job = latest_job(upload) if pending else None
    failed = job is not None and job.status == RosterJob.Status.FAILED
    return {
        "status": upload.status,
        "status_label": upload.get_status_display(),
        "phase": live.get("phase", upload.job_phase),
        "done": live.get("done", upload.progress_done),
        "total": live.get("total", upload.progress_total),
        "finished": not pending or failed,  # a failed job waits for 重新运行, not for the page to poll
        "failed": failed,
        "error": job.error if failed else "",
    }


def _report(upload_id: int, phase: str, done: int, total: int) -> None:
    cache.set(_progress_key(upload_id), {"phase": phase, "done": done, "total": total}, 3600)


# --- the check job ----------------------------------------------------------------------------
def roster_check(*, upload_id: int) -> bool:
    """Read, validate and compare an uploaded roster; store its rows and summary. Safe to run twice
    and after a worker died: the work is claimed with a conditional UPDATE (the latest claimant wins),
    and everything is written in one transaction that commits only for the current claimant."""
    token = uuid.uuid4().hex
    claimed = RosterUpload.objects.filter(pk=upload_id, status=S.UPLOADED).update(
        job_token=token, job_phase="读取文件", job_error="", progress_done=0
    )
    if claimed != 1:
        return False
    data = bulk.read_bytes(RosterFile, "upload_id", upload_id, "data")
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        upload = _locked(upload_id)
        if upload.status != S.UPLOADED or upload.job_token != token:
            return False
        opening = open_roster_aside(data)  # the sheet is parsed while the open identities are read
        with gc_paused(), phases.phase("比对"):
            ctx = Context(upload)
        try:
            with phases.phase("读取"):
                sheet = opening()
        except RosterUnreadable as exc:
            upload.message = str(exc)
            upload.job_phase = ""
            upload.save(update_fields=["message", "job_phase"])
            roster_set_status(upload=upload, to=S.UNREADABLE, note=str(exc))
            return True
        total = sheet.total or 0
        RosterRow.objects.filter(upload=upload).delete()
        upload.headers = sheet.headers
        _report(upload_id, "校验比对", 0, total)
        with gc_paused():
            summary = _check_and_store(upload, sheet, ctx, outermost, lambda n: _report(upload_id, "校验比对", n, total))
        upload.reading = sheet.reading  # after the rows: it names the 合计 rows skipped
        _store_summary(upload, summary)
        roster_set_status(upload=upload, to=S.VALIDATED, note=_summary_note(summary))
        committing = phases.clock()
    phases.add("提交", phases.clock() - committing)
    cache.delete(_progress_key(upload_id))
    return True


def _check_and_store(upload: RosterUpload, sheet, ctx: Context, outermost: bool, progress) -> Summary:
    """Check the rows and store them. On PostgreSQL, when this job owns its transaction, one COPY
    streams every row while people are looked up on a side connection (committed data is all a
    check needs): PostgreSQL stores rows while Python checks the next ones."""
    tally = towncounts.Tally()  # the rows counted per town for the page (RosterTownCount)
    if bulk.is_postgres() and outermost:
        with bulk.side_connection() as side:
            ctx.lookup_using = side
            upload_id = upload.pk  # a model's pk is a property (two Python calls): 1.4% of a first month's check
            with bulk.copy_stream(RosterRow, ROW_FIELDS, prepared=True) as write:
                for chunk in check_roster(ctx, sheet, progress=progress):
                    with phases.phase("写入"):
                        for r in chunk:
                            write(_row_copy(upload_id, r))
                        tally.add(chunk)
                copying = phases.clock()
            phases.add("写入", phases.clock() - copying)  # the end of the COPY waits for the server
    else:
        for chunk in check_roster(ctx, sheet, progress=progress):
            with phases.phase("写入"):
                bulk.insert_rows(RosterRow, ROW_FIELDS, (_row_values(upload.pk, r) for r in chunk))
                tally.add(chunk)
    towncounts.store(upload.pk, tally.rows(upload.pk))
    return ctx.summary


def _row_copy(upload_id: int, r: Checked, json=bulk.to_json, pending=Review.PENDING) -> tuple:
    """_row_values with the JSON columns as text, for bulk.copy_stream(prepared=True)."""
    return (
        upload_id, r.row_number, json(r.cells), r.id_number[:40], r.name[:50], r.category_id, r.town_id, r.village,
        r.phone, r.certified_on, r.exits_on, json(r.errors), json(r.warnings), str(r.outcome), r.person_id,
        r.identity_id, pending, "",
    )


def _row_values(upload_id: int, r: Checked) -> tuple:
    return (
        upload_id, r.row_number, r.cells, r.id_number[:40], r.name[:50], r.category_id, r.town_id, r.village, r.phone,
        r.certified_on, r.exits_on, r.errors, r.warnings, str(r.outcome), r.person_id, r.identity_id, Review.PENDING, "",
    )


def _store_summary(upload: RosterUpload, s: Summary) -> None:
    upload.rows_total, upload.rows_valid, upload.rows_invalid = s.rows, s.valid, s.invalid
    upload.count_new, upload.count_continuing, upload.count_changed, upload.count_ended = s.new, s.continuing, s.changed, s.ended
    upload.previous_open = s.previous_open
    upload.needs_endings_confirmation = endings_exceed(s.ended, s.previous_open)
    upload.progress_done = upload.progress_total = s.rows
    upload.job_phase = ""
    upload.message = ""
    upload.save()


def endings_exceed(ended: int, previous: int) -> bool:
    return previous > 0 and Decimal(ended) / Decimal(previous) > max_ending_share()


def _summary_note(s: Summary) -> str:
    return (
        f"共{s.rows}行：有效{s.valid}，无效{s.invalid}；新增{s.new}，持续{s.continuing}，"
        f"变更{s.changed}，终止{s.ended}"
    )


# --- workflow steps ---------------------------------------------------------------------------
def roster_submit(*, upload: RosterUpload, user) -> RosterUpload:
    """The department (or district clerk) sends a validated roster to the towns for review."""
    if not can_upload(user, upload.department):
        raise PermissionDenied("只有本部门数据员或区医保经办可以提交名单")
    with transaction.atomic():
        upload = _locked(upload.pk)
        if upload.rows_valid == 0 and upload.count_ended == 0:
            raise ValidationError("名单没有有效行，不能提交审核；请修改文件后重新上传")
        upload.submitted_at = timezone.now()
        upload.save(update_fields=["submitted_at"])
        return roster_set_status(upload=upload, to=S.TOWN_REVIEW, by=user, note="提交镇街审核")


def roster_revalidate(*, upload: RosterUpload, user) -> RosterUpload:
    """Check the stored file again (after a category wording or town was added); town reviews restart."""
    if not (can_upload(user, upload.department) or can_confirm(user, upload)):
        raise PermissionDenied("无权重新校验该名单")
    with transaction.atomic():
        upload = _locked(upload.pk)
        roster_set_status(upload=upload, to=S.UPLOADED, by=user, note="重新校验（未重新上传文件）")
        _queue_check(upload.pk, user)
    return upload


def roster_rerun(*, upload: RosterUpload, user) -> None:
    """Queue the pending job again (after a worker was lost): the job itself decides whether work is left."""
    from yfbz.core import jobs

    if not (can_upload(user, upload.department) or can_confirm(user, upload) or user.is_superuser):
        raise PermissionDenied("无权重新运行该任务")
    job = latest_job(upload)
    if job is not None and job.status in (RosterJob.Status.QUEUED, RosterJob.Status.RUNNING) and jobs.alive(job):
        from yfbz.core.errors import JOB_STILL_RUNNING, JobError

        raise JobError(JOB_STILL_RUNNING, subject=str(job))
    if job is not None and job.status != RosterJob.Status.DONE:  # failed, abandoned or never picked up
        jobs.rerun(job, by=user)
        return
    with transaction.atomic():  # a job that finished, or an upload from before job rows: a new job
        if upload.status == S.UPLOADED:
            _queue_check(upload.pk, user)
        elif upload.status == S.CONFIRMING:
            _queue_apply(upload.pk, user)


def roster_reject(*, upload: RosterUpload, user, reason: str) -> RosterUpload:
    if not (can_upload(user, upload.department) or can_confirm(user, upload)):
        raise PermissionDenied("无权退回该名单")
    if not reason.strip():
        raise ValidationError("请填写退回原因")
    with transaction.atomic():
        upload = _locked(upload.pk)
        return roster_set_status(upload=upload, to=S.REJECTED, by=user, note=reason.strip())


def reviewable_rows(upload: RosterUpload):
    """Rows a town reviews: every valid row and every ending (invalid rows go back to the department)."""
    return RosterRow.objects.filter(upload=upload).exclude(outcome=Outcome.INVALID)


def roster_rows_review(*, upload: RosterUpload, user, row_ids=None, accept: bool, reason: str = "") -> int:
    """A town clerk accepts or sends back rows of their own town (all their pending rows when row_ids is None)."""
    if not can_review(user):
        raise PermissionDenied("只有镇街经办员可以审核本镇街人员")
    if not accept and not reason.strip():
        raise ValidationError("退回时请填写原因")
    with transaction.atomic():
        upload = _locked(upload.pk)
        if upload.status != S.TOWN_REVIEW:
            raise ValidationError(f"名单当前状态为“{upload.get_status_display()}”，不在镇街审核阶段")
        # their town's rows, of a month their town was under their district (docs/areas.md)
        rows = reviewable_rows(upload).filter(town_id=user.town_id).filter(scope_q(RosterRow, user))
        if row_ids is None:
            rows = rows.filter(review=Review.PENDING)
        else:
            rows = rows.filter(pk__in=list(row_ids))
        to = Review.ACCEPTED if accept else Review.SENT_BACK
        before = towncounts.moving(rows)  # the rows' states now (the upload's lock keeps them so)
        n = rows.update(  # one UPDATE: it locks the rows it changes
            review=to,
            review_reason="" if accept else reason.strip(),
            reviewed_by=user,
            reviewed_at=timezone.now(),
        )
        towncounts.move(upload.pk, before, to)  # the page's per-town figures, in the same transaction
        if n:
            bulk.log_bulk(
                actor=user, obj=upload, action="镇街审核",
                changes={"town": str(user.town), "result": "接受" if accept else "退回", "rows": n, "reason": reason.strip()},
            )
    return n


def pending_review_count(upload: RosterUpload) -> int:
    return reviewable_rows(upload).filter(review=Review.PENDING, town__isnull=False).count()


#: a town's review of a roster is due within this many working days (official calendar) after it was sent
REVIEW_WORKING_DAYS = 5


def review_deadline(upload: RosterUpload) -> date | None:
    """The last day of the towns' review: the 5th working day (国务院节假日安排, with make-up days)
    after the day the roster was sent to the towns (or uploaded, if it never was)."""
    from .selectors import working_days

    start = upload.submitted_at or upload.uploaded_at
    if start is None:
        return None
    return working_days(timezone.localdate(start) + timedelta(days=1), REVIEW_WORKING_DAYS)[-1]


def review_overdue(upload: RosterUpload, today: date | None = None) -> bool:
    deadline = review_deadline(upload)
    return deadline is not None and (today or timezone.localdate()) > deadline


def late_towns(upload: RosterUpload) -> list[str]:
    """The towns that still have rows of this roster to review, by name."""
    from .models import Town

    ids = reviewable_rows(upload).filter(review=Review.PENDING, town__isnull=False).values("town_id")
    return list(Town.objects.filter(pk__in=ids).order_by("pk").values_list("name", flat=True))


def towns_text(names: list[str]) -> str:
    return "、".join(names[:5]) + (f"等{len(names)}个镇街" if len(names) > 5 else "")


def _accept_overdue(upload: RosterUpload, user, reason: str, pending: int) -> str:
    """After the deadline the district accepts the towns' unreviewed rows as sent, recording why."""
    deadline = review_deadline(upload)
    towns = late_towns(upload)
    if not review_overdue(upload):
        raise ValidationError(
            f"尚有{pending}行待镇街审核（{towns_text(towns)}），审核期限为{deadline:%Y年%m月%d日}；"
            "期限届满前须等镇街审核完毕后才能确认"
        )
    if not reason.strip():
        raise ValidationError(
            f"尚有{pending}行待镇街审核（{towns_text(towns)}），审核期限{deadline:%Y年%m月%d日}已过："
            "请填写原因后确认，未审核的行将按报送内容接受"
        )
    late = reviewable_rows(upload).filter(review=Review.PENDING, town__isnull=False)
    before = towncounts.moving(late)
    n = late.update(review=Review.OVERDUE, review_reason=reason.strip(), reviewed_by=user, reviewed_at=timezone.now())
    towncounts.move(upload.pk, before, Review.OVERDUE)
    bulk.log_bulk(actor=user, obj=upload, action="逾期未审核按报送接受",
                  changes={"towns": "、".join(towns), "rows": n, "deadline": f"{deadline:%Y-%m-%d}", "reason": reason.strip()})
    return f"；{towns_text(towns)}逾期未审核的{n}行按报送接受（原因：{reason.strip()}）"


def roster_confirm(*, upload: RosterUpload, user, confirm_endings: bool = False, overdue_reason: str = "") -> RosterUpload:
    """The district confirms a reviewed roster; applying it runs as a job (roster_apply). After the
    review deadline (review_deadline) the rows of towns that did not review are accepted as sent,
    marked so, with the reason the reviewer gives (``overdue_reason``)."""
    if not can_confirm(user, upload):
        raise PermissionDenied("名单须由区医保经办或审核人员确认，且不能由上传人本人确认")
    with transaction.atomic():
        upload = _locked(upload.pk)
        if upload.status != S.TOWN_REVIEW:
            raise ValidationError(f"名单当前状态为“{upload.get_status_display()}”，不能确认")
        pending = pending_review_count(upload)
        _guard_endings(upload, user, confirm_endings)
        overdue_note = _accept_overdue(upload, user, overdue_reason, pending) if pending else ""
        upload.confirmed_by = user
        upload.save(update_fields=["confirmed_by", "endings_confirmed_by"])
        roster_set_status(upload=upload, to=S.CONFIRMING, by=user, note="区医保确认，开始生效" + overdue_note)
        _queue_apply(upload.pk, user)
    return upload


def _guard_endings(upload: RosterUpload, user, confirm_endings: bool) -> None:
    """A truncated snapshot must not silently end hundreds of people."""
    if not upload.needs_endings_confirmation:
        return
    if not confirm_endings:
        share = Decimal(upload.count_ended) / Decimal(upload.previous_open) * 100
        raise ValidationError(
            f"本名单将终止{upload.count_ended}个身份，占上月在册{upload.previous_open}个的{share:.1f}%，"
            f"超过{max_ending_share() * 100:.0f}%。请核对文件是否完整，确认无误后勾选“确认终止”再提交"
        )
    upload.endings_confirmed_by = user


def _queue_apply(upload_id: int, by=None) -> None:
    _queue_job(upload_id, RosterJob.Kind.APPLY, by)


# --- apply (D6) --------------------------------------------------------------------------------
def roster_apply(*, upload_id: int) -> bool:
    """Start and end identities per the confirmed roster, in one transaction: a worker killed mid-way
    leaves nothing half-applied, and running it again after success does nothing."""
    with transaction.atomic():
        upload = _locked(upload_id)
        if upload.status != S.CONFIRMING:
            return False
        counts = apply_roster(upload)
        with phases.phase("追溯"):
            counts["retroactive_waiting"], counts["retroactive_closed"] = _measure_retroactive(upload)
        with phases.phase("历史"):
            upload.confirmed_at = timezone.now()
            upload.job_phase = ""
            upload.save(update_fields=["confirmed_at", "job_phase"])
            roster_set_status(upload=upload, to=S.CONFIRMED, by=upload.confirmed_by, note=_apply_note(counts))
            bulk.log_bulk(actor=upload.confirmed_by, obj=upload, action="名单生效", changes=counts)
        committing = phases.clock()
    phases.add("生效提交", phases.clock() - committing)
    return True


def _measure_retroactive(upload: RosterUpload) -> tuple[int, int]:
    """What the roster's retroactive changes reach; those reaching no decision are closed by the system."""
    from .retro import measure_changes

    changes = list(RetroactiveChange.objects.filter(roster_upload=upload, status=RS.OPEN).select_related("category").order_by("pk"))
    record_start_many(RetroactiveChange, [c.pk for c in changes], by=None, reason="名单生效，记录追溯身份变化")
    return measure_changes(changes, close_empty=True)


def _apply_note(c: dict) -> str:
    return (
        f"新建人员{c['people_created']}，更新人员信息{c['people_updated']}（其中迁入新镇街{c.get('people_moved', 0)}），新增身份{c['identities_started']}，"
        f"终止身份{c['identities_ended']}，追溯变化{c['retroactive']}"
        f"（涉及已核定救助、待处理{c.get('retroactive_waiting', 0)}，未涉及、系统关闭{c.get('retroactive_closed', 0)}）"
    )


# --- the command line route (administrators) ---------------------------------------------------
def roster_import(
    *, user, department: Department, month: date, mode: str, file_name: str, data: bytes, apply: bool,
    confirm_endings: bool = False,
) -> tuple[Summary, RosterUpload | None, str]:
    """`manage.py import_roster`. Without apply: check and compare in memory and change nothing.
    With apply: store the upload, check it, and confirm it at once (the administrator confirms).
    Raises RosterUnreadable when the file cannot be read."""
    month = first_of_month(month)
    if not apply:
        sheet = open_roster(data)
        probe = RosterUpload(department=department, month=month, mode=mode)
        ctx = Context(probe)
        with gc_paused():
            for _chunk in check_roster(ctx, sheet):
                pass
        return ctx.summary, None, ""
    open_roster(data)  # refuse an unreadable file before storing anything
    result = roster_upload_create(user=user, department=department, month=month, mode=mode, file_name=file_name, data=data)
    upload = result.upload
    if upload.status == S.UPLOADED:
        roster_check(upload_id=upload.pk)  # inline: the command waits for its result
        upload.refresh_from_db()
    if upload.status != S.VALIDATED:  # confirmed already, in town review, or being applied
        note = result.message if not result.created else f"名单状态为“{upload.get_status_display()}”"
        if upload.status == S.TOWN_REVIEW:
            note = "该文件已在页面上提交镇街审核，请在页面上完成审核和确认"
        return summary_from_rows(upload), upload, note
    summary = summary_from_rows(upload)
    with transaction.atomic():
        upload = _locked(upload.pk)
        try:
            _guard_endings(upload, user, confirm_endings)
        except ValidationError as exc:
            raise RosterNotApplied(summary, upload, exc.messages[0] + "（命令行请加 --confirm-endings）") from exc
        upload.confirmed_by = user
        upload.save(update_fields=["confirmed_by", "endings_confirmed_by"])
        roster_set_status(upload=upload, to=S.CONFIRMING, by=user, note="命令行导入，管理员直接确认")
    roster_apply(upload_id=upload.pk)
    upload.refresh_from_db()
    return summary, upload, APPLIED


APPLIED = "已生效"


class RosterNotApplied(Exception):
    """`import_roster --apply` read and checked the file but did not apply it (the endings guard)."""

    def __init__(self, summary: Summary, upload: RosterUpload, message: str):
        super().__init__(message)
        self.summary, self.upload, self.message = summary, upload, message


def summary_from_rows(upload: RosterUpload) -> Summary:
    s = Summary(
        rows=upload.rows_total, valid=upload.rows_valid, invalid=upload.rows_invalid, new=upload.count_new,
        continuing=upload.count_continuing, changed=upload.count_changed, ended=upload.count_ended,
        previous_open=upload.previous_open,
    )
    for errors, warnings in RosterRow.objects.filter(upload=upload).exclude(errors=[], warnings=[]).values_list("errors", "warnings"):
        s.errors.extend(errors)
        s.warnings.extend(warnings)
    return s


# --- retroactive changes -----------------------------------------------------------------------
RS = RetroactiveChange.Status
CLOSING = (RS.REVIEWED, RS.AUTO_CLOSED, RS.CLOSED)


def retroactive_change_set_status(*, change: RetroactiveChange, to: str, by=None, note: str = "") -> RetroactiveChange:
    """A (locked) change moves through the one door (``workflow.transition``); ``by`` None is the
    system. Reaching REVIEWED, AUTO_CLOSED or CLOSED records who, when and why on the change too."""
    fields = []
    if to in CLOSING:
        change.reviewed_at, change.reviewed_by, change.review_note = timezone.now(), by, note
        fields = ["reviewed_at", "reviewed_by", "review_note"]
    transition(change, to, by=by, reason=note, update_fields=fields)
    return change


def retroactive_changes_auto_close(*, changes: list[RetroactiveChange], user=None, note: str) -> int:
    """Close, in bulk, waiting changes that reach nothing (a roster's apply: thousands of ordinary exits)."""
    ids = [c.pk for c in changes if c.status == RS.OPEN]
    if not ids:
        return 0
    qs = RetroactiveChange.objects.filter(pk__in=ids, status=RS.OPEN)
    n = transition_many(qs, RS.AUTO_CLOSED, by=user, reason=note)
    RetroactiveChange.objects.filter(pk__in=ids).update(reviewed_at=timezone.now(), reviewed_by=user, review_note=note)
    for c in changes:
        c.status = RS.AUTO_CLOSED
    return n


def can_handle_retroactive(user) -> bool:
    """Who may re-decide and close retroactive changes: the district's clerks and reviewers."""
    return bool(user.is_superuser or user.has_role(Role.DISTRICT_CLERK, Role.DISTRICT_REVIEWER))


def retroactive_changes_close(*, change_ids: list[int], user, note: str) -> int:
    """Staff close waiting changes (selected on the list) with a written reason. Returns how many."""
    if not can_handle_retroactive(user):
        raise PermissionDenied("只有区医保经办或审核人员可以关闭追溯变化")
    if not note.strip():
        raise ValidationError("关闭追溯变化须写明理由")
    n = 0
    with transaction.atomic():
        for change in lock(RetroactiveChange.objects.visible_to(user).filter(pk__in=change_ids, status=RS.OPEN)):
            retroactive_change_set_status(change=change, to=RS.CLOSED, by=user, note=note.strip())
            n += 1
    return n


def retroactive_changes_check(*, change_ids: list[int], user) -> tuple[int, int]:
    """Measure again what waiting changes reach (e.g. changes recorded before the system measured them)
    and close those that reach nothing. Returns (still reaching, closed)."""
    from .retro import measure_changes

    if not can_handle_retroactive(user):
        raise PermissionDenied("只有区医保经办或审核人员可以核查追溯变化")
    with transaction.atomic():
        changes = list(lock(RetroactiveChange.objects.visible_to(user).filter(pk__in=change_ids, status=RS.OPEN))
                       .select_related("category"))
        return measure_changes(changes, close_empty=True, user=user)


def retroactive_change_mark_reviewed(*, change: RetroactiveChange, user, note: str = "") -> RetroactiveChange:
    """Close one waiting change by hand with a note (kept for the command line and older callers)."""
    with transaction.atomic():
        change = lock_one(RetroactiveChange, change.pk)
        if change.status == RS.OPEN:
            retroactive_change_set_status(change=change, to=RS.CLOSED, by=user, note=note)
    return change


# --- dated person attributes (maker–checker, through the one status mechanism) -------------------
def _attr_overlap(person_id: int, attribute: str, start: date, end: date | None, *, exclude: int | None = None):
    from django.db.models import Q

    from .models import PersonAttribute

    qs = PersonAttribute.objects.filter(person_id=person_id, attribute=attribute).exclude(
        status=PersonAttribute.Status.REJECTED
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    if end is not None:
        qs = qs.filter(valid_from__lte=end)
    return qs.first()


def _check_span(person, attribute: str, valid_from: date, valid_to: date | None, source: str) -> None:
    from .models import PersonAttribute

    if attribute not in PersonAttribute.Kind.values:
        raise ValidationError(f"未知的人员属性：{attribute}。")
    if not (source or "").strip():
        raise ValidationError("请填写认定依据（如认定书编号、诊断证明）。")
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError(f"终止日期{valid_to}早于起始日期{valid_from}。")
    other = _attr_overlap(person.pk, attribute, valid_from, valid_to)
    if other is not None:
        raise ValidationError(
            f"与已有记录（{other.valid_from}～{other.valid_to or '至今'}，{other.get_status_display()}）重叠；"
            "请先终止已有记录。"
        )


def person_attribute_propose(*, person, attribute: str, valid_from: date, valid_to: date | None, source: str, user):
    """A district clerk records that a person holds an attribute from a date (to a date); it counts
    once a reviewer confirms it (``person_attribute_decide``)."""
    from yfbz.core.workflow import record_start

    from .models import PersonAttribute

    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise PermissionDenied("只有区医保经办人员可以登记人员属性。")
    with transaction.atomic():
        type(person).objects.select_for_update().get(pk=person.pk)  # one change of a person's attributes at a time
        _check_span(person, attribute, valid_from, valid_to, source)
        span = PersonAttribute.objects.create(
            person=person, attribute=attribute, valid_from=valid_from, valid_to=valid_to, source=source.strip(),
            recorded_by=user, status=PersonAttribute.Status.PROPOSED,
        )
        record_start(span, by=user, reason=f"登记：{span.source}")
        return span


def person_attribute_propose_end(*, span_id: int, valid_to: date, source: str, user):
    """A district clerk proposes the last day of a confirmed attribute span (e.g. treatment ended);
    the span keeps its old end until a reviewer confirms the new one."""
    from yfbz.core.workflow import transition

    from .models import PersonAttribute

    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise PermissionDenied("只有区医保经办人员可以登记人员属性。")
    if not (source or "").strip():
        raise ValidationError("请填写终止依据。")
    with transaction.atomic():
        span = PersonAttribute.objects.select_for_update().get(pk=span_id)
        if span.status != PersonAttribute.Status.CONFIRMED:
            raise ValidationError("只有已确认的记录可以登记终止。")
        if valid_to < span.valid_from:
            raise ValidationError(f"终止日期{valid_to}早于起始日期{span.valid_from}。")
        if span.valid_to is not None and valid_to >= span.valid_to:
            raise ValidationError(f"该记录已于{span.valid_to}终止。")
        span.end_proposed, span.end_source, span.end_proposed_by = valid_to, source.strip(), user
        transition(span, PersonAttribute.Status.ENDING, by=user, reason=f"拟于{valid_to}终止：{span.end_source}",
                   update_fields=["end_proposed", "end_source", "end_proposed_by"])
        return span


def person_attribute_decide(*, span_id: int, approve: bool, user, note: str = ""):
    """A district reviewer (not the one who recorded it) confirms or sends back a proposed span or a
    proposed end. Confirmed figures count for every decision made after; decisions already made are
    not rewritten (a re-decision takes the new dates)."""
    from yfbz.core.workflow import transition

    from .models import PersonAttribute

    S = PersonAttribute.Status
    if not (user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER)):
        raise PermissionDenied("只有区医保审核人员可以复核人员属性。")
    note = (note or "").strip()
    with transaction.atomic():
        span = PersonAttribute.objects.select_for_update().get(pk=span_id)
        if span.status == S.PROPOSED:
            if span.recorded_by_id == user.pk:
                raise ValidationError("登记人不能复核自己登记的人员属性（经办与审核分离）。")
            if approve:
                other = _attr_overlap(span.person_id, span.attribute, span.valid_from, span.valid_to, exclude=span.pk)
                if other is not None and other.status in PersonAttribute.COUNTING:
                    raise ValidationError("与已确认的记录重叠，不能确认。")
            span.confirmed_by, span.confirmed_at, span.note = user, timezone.now(), note
            transition(span, S.CONFIRMED if approve else S.REJECTED, by=user,
                       reason=note or ("复核确认" if approve else ""), update_fields=["confirmed_by", "confirmed_at", "note"])
        elif span.status == S.ENDING:
            if span.end_proposed_by_id == user.pk:
                raise ValidationError("登记人不能复核自己登记的终止（经办与审核分离）。")
            if approve:
                span.valid_to = span.end_proposed
            why = f"终止于{span.end_proposed}（{span.end_source}）" if approve else f"终止申请退回：{note or '未说明'}"
            span.end_proposed, span.end_proposed_by = None, None
            transition(span, S.CONFIRMED, by=user, reason=why, update_fields=["valid_to", "end_proposed", "end_proposed_by"])
        else:
            raise ValidationError("该记录没有待复核的内容。")
        return span


def person_attribute_record_migrated(
    *, person, attribute: str, valid_from: date, valid_to: date | None, source: str, entered_by, approved_by
) -> bool:
    """An attribute the old system held, brought in when the bureau adopts the product
    (``load_history``): recorded as confirmed by the two named staff, like migrated identities.
    A span already covering the period is not added twice. Returns whether a span was added."""
    from django.db.models import Q

    from yfbz.core.workflow import record_start

    from .models import PersonAttribute

    covering = PersonAttribute.objects.filter(
        person=person, attribute=attribute, status__in=PersonAttribute.COUNTING, valid_from__lte=valid_from
    )
    if valid_to is None:
        covering = covering.filter(valid_to__isnull=True)
    else:
        covering = covering.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_to))
    if covering.exists():
        return False
    _check_span(person, attribute, valid_from, valid_to, source)
    span = PersonAttribute.objects.create(
        person=person, attribute=attribute, valid_from=valid_from, valid_to=valid_to, source=source[:200],
        status=PersonAttribute.Status.CONFIRMED, recorded_by=entered_by, confirmed_by=approved_by,
        confirmed_at=timezone.now(), note="原系统迁移",
    )
    record_start(span, by=approved_by, reason=f"原系统迁移（{entered_by}录入，{approved_by}审批）")
    return True
