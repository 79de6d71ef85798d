"""Contribution subsidies (资助参保, POLICY.md §4, D8; 渝北府办发〔2025〕2号 二(一)(二), 三(二)).

The year's run is a Celery job (funding.tasks.subsidy_run_execute) that goes through people in
batches ordered by id. The run row is a job of yfbz.core.jobs: one worker at a time holds it, running
the task twice is harmless, any error fails it with the reason in Chinese, and a run whose worker died
is offered "重新运行" at once; each batch commits its results together with the progress, so a rerun
resumes where the last committed batch ended.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from beneficiaries.models import Person, Town
from yfbz.core import jobs
from yfbz.core.audit import audit_bulk
from yfbz.core.workflow import record_start, transition
from yfbz.policy.inputs import (
    PoliciesByTown,
    decide_subsidy,
    person_for_engine,
    persons_for_engine,
    policy_for,
)
from yfbz.policy.selectors import policy_book
from yfbz.rules import Reason

from ..bulk import copy_fields, copy_lines, insert_rows, is_postgresql
from ..models import Enrolment as EnrolmentRow
from ..models import (
    EnrolmentKind,
    LateReportPermission,
    SelfPaidReport,
    SubsidyChange,
    SubsidyResult,
    SubsidyRoute,
    SubsidyRun,
    SubsidyRunPart,
    SubsidyYear,
    TaxListSettlement,
)
from .errors import FundingError

BATCH_SIZE = 5000  # people per committed batch (settings.SUBSIDY_BATCH_SIZE; the worker-kill test makes it small)
PART_SIZE = 25_000  # people per part, one Celery task each (settings.SUBSIDY_PART_SIZE)
PART_LOCK = 0x5B5D  # advisory lock class of a part being worked (with the part's id)
NO_GROUP = {Reason.SUBSIDY_NO_QUALIFYING_IDENTITY, Reason.SUBSIDY_AGE_NOT_MET}
# the fields of a result a run computes; a row is rewritten only when one of them changed
# (and the town on 31 December of the year, the town the subsidy is made under: docs/areas.md)
RESULT_FIELDS = ("enrolment", "category", "group", "standard_amount", "amount", "reasons", "provisional", "policy_version",
                 "town_id")


def log_bulk(model, *, user, summary: dict, object_repr: str) -> None:
    """One audit row per bulk write (bulk_create/update bypass django-auditlog's signals)."""
    audit_bulk(actor=user, what=object_repr, summary=summary, model=model)


def subsidy_year(year: int) -> SubsidyYear:
    """The year's settings; created on first use with the deadline of 2号 三(二) (31 July), editable in the admin."""
    row, _ = SubsidyYear.objects.get_or_create(year=year, defaults={"self_paid_deadline": date(year, 7, 31)})
    return row


# --- enrolment ---------------------------------------------------------------------------------------
def _in_area(user, person: Person, year: int, what: str) -> None:
    """A year's subsidy follows the person's town on 31 December (as the policy, D8): a town under
    another district that day is that district's to handle (docs/areas.md)."""
    from beneficiaries.towns import town_on
    from yfbz.core.scoping import check_in_area

    on = date(year, 12, 31)
    check_in_area(user, name=person.name, town_id=town_on(person, on), on=on, what=what)


def enrolment_set(*, person: Person, year: int, kind: str, user, self_paid: bool = False, source: str = "手工录入") -> EnrolmentRow:
    if kind not in EnrolmentKind.values:
        raise FundingError(f"参保类型「{kind}」无效")
    if not Person.objects.visible_to(user).filter(pk=person.pk).exists():
        raise FundingError("无权修改该人员的参保登记")
    _in_area(user, person, year, "登记参保")
    # a person whose route (b) subsidy is approved stays self-paid: an edit never puts them on the tax list
    self_paid = self_paid or SubsidyRoute.objects.filter(person=person, year=year, route=SubsidyRoute.Route.SELF_PAID).exists()
    row, _ = EnrolmentRow.objects.update_or_create(
        person=person, year=year, defaults={"kind": kind, "self_paid": self_paid, "source": source, "updated_by": user}
    )
    return row


# --- routes (a) and (b): exclusive per person and year -------------------------------------------------
ROUTE_CLASH = "{names}{year}年已由「{route}」资助参保，途径一（税务代缴）和途径二（自缴后资助）不能同时享受"


def subsidy_route_take(*, year: int, route: str, person_ids: list[int], report: SelfPaidReport | None = None,
                       settlement: TaxListSettlement | None = None) -> int:
    """The one door both routes go through: record that ``route`` pays these people's subsidy for
    ``year``. Refused (nothing written) when any of them is already paid by the other route; people
    already on this route are left as they are (a supplementary tax-list settlement). The database's
    unique (person, year) row makes the two routes exclusive even for two requests at the same moment.
    Returns how many rows were written. Call inside the caller's transaction."""
    taken = dict(SubsidyRoute.objects.filter(year=year, person_id__in=person_ids).values_list("person_id", "route"))
    clash = sorted(pid for pid, r in taken.items() if r != route)
    if clash:
        names = "、".join(Person.objects.filter(pk__in=clash[:5]).order_by("pk").values_list("name", flat=True))
        more = f"等{len(clash)}人" if len(clash) > 5 else ""
        other = SubsidyRoute.Route(taken[clash[0]]).label
        raise FundingError(ROUTE_CLASH.format(names=names + more, year=year, route=other))
    rows = [SubsidyRoute(person_id=pid, year=year, route=route, report=report, settlement=settlement)
            for pid in person_ids if pid not in taken]
    try:
        with transaction.atomic():
            SubsidyRoute.objects.bulk_create(rows, batch_size=5000)
    except IntegrityError:  # the other route was recorded for one of them at the same moment
        raise FundingError(f"{year}年资助参保途径正被同时登记（途径一和途径二不能同时享受），请刷新后重试") from None
    return len(rows)


# --- the year's run ----------------------------------------------------------------------------------
def subsidy_run_start(*, year: int, user) -> SubsidyRun:
    """Queue a run for ``year`` (one at a time per year); the task starts after commit."""
    from ..tasks import subsidy_run_execute

    with transaction.atomic():
        busy = SubsidyRun.objects.select_for_update().filter(year=year, status__in=[SubsidyRun.Status.QUEUED, SubsidyRun.Status.RUNNING]).first()
        if busy and jobs.stalled(busy):
            raise FundingError(f"{year}年资助参保计算 #{busy.pk} 已中断（{busy.progress_done}/{busy.progress_total}），"
                               "请在该计算上点“重新运行”从中断处继续")
        if busy:
            raise FundingError(f"{year}年资助参保计算 #{busy.pk} 正在进行中（{busy.progress_done}/{busy.progress_total}），请等待完成")
        run = SubsidyRun.objects.create(year=year, started_by=user, progress_total=Person.objects.count())
        jobs.queue(run, by=user, reason="发起计算")
        transaction.on_commit(lambda: subsidy_run_execute.delay(run.pk))
    return run


def subsidy_run_execute(*, run_id: int, batch_size: int | None = None, part_size: int | None = None,
                        inline: bool = True) -> SubsidyRun:
    """Compute everybody's subsidy for the run's year, spread over Celery workers (issue 14).

    The coordinator (this, under yfbz.core.jobs: claimed with a fresh token, failed with the reason on
    any error, offered "重新运行" at once when nobody works on it) splits the people into parts of
    contiguous person ids (``SubsidyRunPart``, ``SUBSIDY_PART_SIZE`` people each; made once, a rerun
    keeps them) and sends a Celery chord: one ``funding.subsidy_run_part`` task per part not finished,
    then ``funding.subsidy_run_finish`` — when called by the task ``funding.subsidy_run_execute``
    (``inline=False``). Called directly (demo data, the bench's one-process time, tests) the parts run
    here one after the other, as they do under CELERY_TASK_ALWAYS_EAGER. Safe to call twice; a rerun
    resumes each part after its last committed batch."""
    from django.conf import settings

    size = batch_size or getattr(settings, "SUBSIDY_BATCH_SIZE", BATCH_SIZE)
    psize = part_size or getattr(settings, "SUBSIDY_PART_SIZE", PART_SIZE)
    jobs.run(SubsidyRun, run_id, lambda token: _coordinate(run_id, token, size, psize, inline))
    return SubsidyRun.objects.get(pk=run_id)


def _split(run: SubsidyRun, part_size: int) -> None:
    """The run's parts: every ``part_size``-th person id (after what the run had done before parts
    existed) is a boundary; the last part has no upper bound (people added during the run are in it)."""
    start = run.last_person_id
    table = Person._meta.db_table

    with connection.cursor() as cur:
        cur.execute(
            f'SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM "{table}" WHERE id > %s) AS t '
            "WHERE n %% %s = 0 ORDER BY id",
            [start, part_size],
        )
        bounds = [r[0] for r in cur.fetchall()]
    edges = [start, *bounds]
    parts = [SubsidyRunPart(run=run, index=i, after_id=lo, upto_id=hi, last_person_id=lo)
             for i, (lo, hi) in enumerate(zip(edges, [*bounds, None], strict=True))]
    SubsidyRunPart.objects.bulk_create(parts)


def _coordinate(run_id: int, token: str, batch_size: int, part_size: int, inline: bool) -> None:
    from celery import chord

    from ..tasks import subsidy_run_finish, subsidy_run_part

    with transaction.atomic():
        if not jobs.still_mine(SubsidyRun, run_id, token):
            return
        run = SubsidyRun.objects.get(pk=run_id)
        if run.started_at is None:
            SubsidyRun.objects.filter(pk=run_id).update(started_at=timezone.now())
        if not SubsidyRunPart.objects.filter(run_id=run_id).exists():
            _split(run, part_size)
    todo = list(SubsidyRunPart.objects.filter(run_id=run_id, finished_at__isnull=True).order_by("index")
                .values_list("pk", flat=True))
    if inline or not todo:
        for pk in todo:
            subsidy_run_part_work(part_id=pk, token=token, batch_size=batch_size)
        subsidy_run_finish_now(run_id=run_id, token=token)
        return
    chord(subsidy_run_part.si(pk, token, batch_size) for pk in todo)(subsidy_run_finish.si(run_id, token))


def _part_lock(part_id: int) -> bool:
    """Whether this worker may work on the part now (a part is worked by one worker at a time: a
    session advisory lock, released when the worker's connection goes, e.g. when it is killed)."""

    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [PART_LOCK, part_id])
        return cur.fetchone()[0]


def _part_unlock(part_id: int) -> None:

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", [PART_LOCK, part_id])


def subsidy_run_part_work(*, part_id: int, token: str, batch_size: int | None = None) -> int:
    """A part task: work this part batch by batch, then any other part of the run not finished and
    not being worked (a worker left idle helps with the rest; a part whose worker was killed is taken
    over), then finish the run if every part is finished. Each batch commits its results, changes and
    the part's progress together under the run's token (``jobs.still_mine_shared``): a rerun, a failed
    run or a finished part stops it, and a batch rolled back by a killed worker is simply done again.
    Any error fails the run with the reason in Chinese. Returns the number of people worked here."""
    from django.conf import settings

    size = batch_size or getattr(settings, "SUBSIDY_BATCH_SIZE", BATCH_SIZE)
    part = SubsidyRunPart.objects.filter(pk=part_id).values("run_id").first()
    if part is None:
        return 0
    run_id = part["run_id"]
    worked = 0
    try:
        with jobs.helping(SubsidyRun, run_id, token):
            run = SubsidyRun.objects.get(pk=run_id)
            if not (run.status == SubsidyRun.Status.RUNNING and run.job_token == token):
                return 0
            # the first run of a year lists no changes (everybody would be "new"); later runs list each one
            record_changes = SubsidyRun.objects.filter(year=run.year, status=SubsidyRun.Status.DONE).exclude(pk=run_id).exists()
            deciding = _Deciding(run, policy_book(), record_changes, dict(Town.objects.values_list("code", "pk")))
            pk = _next_part(run_id, first=part_id)
            while pk is not None:
                try:
                    done = _work_part(run, pk, token, size, deciding)
                finally:
                    _part_unlock(pk)
                if done is None:
                    return worked  # the run is no longer this token's (failed, or rerun by another)
                worked += done
                pk = _next_part(run_id)
        if not SubsidyRunPart.objects.filter(run_id=run_id, finished_at__isnull=True).exists():
            subsidy_run_finish_now(run_id=run_id, token=token)
        return worked
    except Exception as exc:  # noqa: BLE001 — recorded on the run in Chinese, offered "重新运行"
        text = jobs.fail(SubsidyRun, run_id, token, exc)
        raise jobs.JobError(text) from exc


def _next_part(run_id: int, first: int | None = None) -> int | None:
    """The next part of the run this worker takes (its lock held): ``first`` if free, else the first
    part not finished and not being worked by another worker."""
    candidates = [first] if first is not None else []
    candidates += SubsidyRunPart.objects.filter(run_id=run_id, finished_at__isnull=True).order_by("index") \
        .values_list("pk", flat=True)
    for pk in candidates:
        if _part_lock(pk):
            return pk
    return None


def _work_part(run: SubsidyRun, part_id: int, token: str, batch_size: int, deciding: _Deciding) -> int | None:
    """The part's batches, each committed with the part's progress; None when the token no longer holds."""
    worked = 0
    while True:
        with transaction.atomic():
            if not jobs.still_mine_shared(SubsidyRun, run.pk, token):
                return None
            part = SubsidyRunPart.objects.select_for_update().get(pk=part_id)
            if part.finished_at is not None:
                return worked
            people = Person.objects.filter(pk__gt=part.last_person_id)
            if part.upto_id is not None:
                people = people.filter(pk__lte=part.upto_id)
            ids = list(people.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                SubsidyRunPart.objects.filter(pk=part_id).update(finished_at=timezone.now())
                return worked
            counts = _run_batch(ids, deciding)
            if is_postgresql():
                # the rows' foreign keys checked now, before the run's row is locked by the update below:
                # the other workers' batches wait for this commit only, not for these checks
                with connection.cursor() as cur:
                    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            SubsidyRunPart.objects.filter(pk=part_id).update(
                last_person_id=ids[-1], progress_done=F("progress_done") + len(ids),
                count_new=F("count_new") + counts["new"], count_changed=F("count_changed") + counts["changed"],
                count_removed=F("count_removed") + counts["removed"],
            )
            # the page's progress and counts (the run row is updated last: its lock is held for the commit only)
            SubsidyRun.objects.filter(pk=run.pk).update(
                progress_done=F("progress_done") + len(ids), count_new=F("count_new") + counts["new"],
                count_changed=F("count_changed") + counts["changed"], count_removed=F("count_removed") + counts["removed"],
            )
            worked += len(ids)


def subsidy_run_finish_now(*, run_id: int, token: str) -> bool:
    """The run's one end: when every part is finished, and only while ``token`` holds the run (the
    row locked FOR UPDATE: a second caller — the chord's callback after the last part finished the run,
    a stale worker — finds it done and does nothing), the year's totals are stored and the run is
    marked done, with one audit row. Returns whether it was finished here."""
    try:
        with transaction.atomic():
            if not jobs.still_mine(SubsidyRun, run_id, token):
                return False
            if SubsidyRunPart.objects.filter(run_id=run_id, finished_at__isnull=True).exists():
                return False
            run = SubsidyRun.objects.get(pk=run_id)
            policy = policy_for(date(run.year, 12, 31))
            agg = SubsidyResult.objects.filter(year=run.year).aggregate(n=Count("pk", filter=Q(amount__gt=0)), total=Sum("amount"))
            jobs.done(SubsidyRun, run_id, token, finished_at=timezone.now(), count_eligible=agg["n"] or 0,
                      total_amount=agg["total"] or Decimal("0"), policy_version=policy.version[:80],
                      progress_total=run.progress_done)
            run.refresh_from_db()
            log_bulk(SubsidyResult, user=run.started_by, object_repr=f"{run.year}年资助参保计算 #{run.pk}",
                     summary={"新增": run.count_new, "变更": run.count_changed, "不再资助": run.count_removed,
                              "可资助人数": run.count_eligible, "资助总额": run.total_amount})
        return True
    except Exception as exc:
        text = jobs.fail(SubsidyRun, run_id, token, exc)
        raise jobs.JobError(text) from exc


class _Deciding:
    """What a part worker keeps from batch to batch: the policy per town (31 December of the year), and
    per distinct decision what is stored for it — a million people share a few hundred (issue 14)."""

    def __init__(self, run: SubsidyRun, book, record_changes: bool, town_ids: dict):
        self.run_id, self.year, self.end = run.pk, run.year, date(run.year, 12, 31)
        self.policies = PoliciesByTown(self.end, book)
        self.record_changes, self.town_ids = record_changes, town_ids
        self.reasons: dict[tuple, tuple[str, bool]] = {}  # reasons → (stored text, no group)
        self.standards: dict[tuple, object] = {}  # (policy's id, category) → contribution standard
        self.result_text: dict[tuple, str] = {}  # a result's values → its COPY text after the person id
        self.change_text: dict[tuple, str] = {}  # a change's values → its COPY text after the person id

    def reasons_of(self, reasons: tuple) -> tuple[str, bool]:
        r = self.reasons.get(reasons)
        if r is None:
            r = self.reasons[reasons] = (",".join(str(int(x)) for x in reasons), not NO_GROUP.isdisjoint(reasons))
        return r

    def standard(self, policy, category: str):
        key = (id(policy), category)  # the policies are kept in self.policies: their ids stay theirs
        if key not in self.standards:
            self.standards[key] = policy.standard_for(self.year, category)
        return self.standards[key]


def _run_batch(ids: list[int], deciding: _Deciding) -> dict:
    year, end = deciding.year, deciding.end
    # the batch is a contiguous range of person ids: range lookups instead of 5,000-element IN lists
    in_batch = {"person_id__gte": ids[0], "person_id__lte": ids[-1]}
    persons = persons_for_engine(ids, period=(date(year, 1, 1), end))
    enrol = dict(EnrolmentRow.objects.filter(**in_batch, year=year).values_list("person_id", "kind"))
    old = {row[0]: row[1:] for row in SubsidyResult.objects.filter(**in_batch, year=year).values_list("person_id", *RESULT_FIELDS)}
    policies, town_ids, reasons_of, standard = deciding.policies, deciding.town_ids, deciding.reasons_of, deciding.standard
    t1, t2, not_enrolled = EnrolmentKind.RESIDENT_T1, EnrolmentKind.RESIDENT_T2, EnrolmentKind.NOT_ENROLLED
    new, updated, changes, removed = [], [], [], []
    counts = {"new": 0, "changed": 0, "removed": 0}
    for pk, person in persons.items():
        idents = person.identities
        if not idents and pk not in old:
            continue
        kind = enrol.get(pk)
        enr = None if kind is None or kind == not_enrolled else kind
        d = decide_subsidy(person, year, enr, policies=policies)
        reasons, no_group = reasons_of(d.reasons)
        if no_group or not idents:
            if pk in old:
                removed.append(pk)
                counts["removed"] += 1
                changes.append((pk, old[pk][1], "", old[pk][4], None, old[pk][-1]))
            continue
        category = d.category or _best_category(idents)
        std = standard(policies.of(person), category)
        due = None
        if std is not None and kind == t1:
            due = std.t1
        elif std is not None and kind == t2:
            due = std.t2
        values = (kind or "", category, d.group or "", due, d.amount, reasons, d.uses_provisional_rule, d.policy_version[:80],
                  town_ids.get(person.town_on(end)))
        before = old.get(pk)
        if before == values:
            continue  # unchanged: not rewritten (a re-run writes only what moved)
        if before is None:
            new.append((pk, values))
            counts["new"] += 1
            changes.append((pk, "", category, None, d.amount, values[-1]))
        else:
            updated.append((pk, *values))
            if (before[1], before[4]) != (category, d.amount):
                counts["changed"] += 1
                changes.append((pk, before[1], category, before[4], d.amount, values[-1]))
    if removed:
        SubsidyResult.objects.filter(year=year, person_id__in=removed).delete()
    _insert_results(new, deciding)
    _upsert_results(updated, year=year, run_id=deciding.run_id)
    if deciding.record_changes:
        _insert_changes(changes, deciding)
    return counts


RESULT_COPY = ["person_id", *RESULT_FIELDS, "year", "run_id"]
CHANGE_COLUMNS = [("person_id", "bigint"), ("old_category", "varchar"), ("new_category", "varchar"),
                  ("old_amount", "numeric"), ("new_amount", "numeric"), ("town_id", "bigint")]


def _insert_results(rows: list[tuple], deciding: _Deciding) -> None:
    """People with no result for the year yet ((person id, values) pairs): on PostgreSQL by COPY, one
    line per person from the text of its values made once per distinct values (issue 14). Inside a
    savepoint: should a result have been written for one of them since the batch read the year's
    results, the batch is upserted instead."""
    if not rows:
        return
    if not is_postgresql():
        _upsert_results([(pk, *values) for pk, values in rows], year=deciding.year, run_id=deciding.run_id)
        return
    text, tail = deciding.result_text, (deciding.year, deciding.run_id)
    lines = []
    for pk, values in rows:
        t = text.get(values)
        if t is None:
            t = text[values] = copy_fields(values + tail)
        lines.append(f"{pk}\t{t}\n")
    try:
        with transaction.atomic():
            copy_lines("funding_subsidyresult", RESULT_COPY, lines)
    except IntegrityError:
        _upsert_results([(pk, *values) for pk, values in rows], year=deciding.year, run_id=deciding.run_id)


def _insert_changes(rows: list[tuple], deciding: _Deciding) -> None:
    """A run's changes: tuples (no model instances: the first run of a year makes none, and building
    a million unused ones cost ~15% of it, issue 14); on PostgreSQL by COPY."""
    if not rows:
        return
    names = [c for c, _ in CHANGE_COLUMNS]
    if not is_postgresql():
        SubsidyChange.objects.bulk_create([SubsidyChange(run_id=deciding.run_id, **dict(zip(names, r, strict=True)))
                                           for r in rows], batch_size=2000)
        return
    text, tail = deciding.change_text, (deciding.run_id,)
    lines = []
    for r in rows:
        rest = r[1:]
        t = text.get(rest)
        if t is None:
            t = text[rest] = copy_fields(rest + tail)
        lines.append(f"{r[0]}\t{t}\n")
    copy_lines("funding_subsidychange", [*names, "run_id"], lines)


def _upsert_results(rows: list[tuple], *, year: int, run_id: int) -> None:
    if not rows:
        return
    if is_postgresql():
        insert_rows(
            "funding_subsidyresult",
            [("person_id", "bigint"), ("enrolment", "varchar"), ("category", "varchar"), ("group", "varchar"),
             ("standard_amount", "numeric"), ("amount", "numeric"), ("reasons", "varchar"), ("provisional", "boolean"),
             ("policy_version", "varchar"), ("town_id", "bigint")],
            rows, constants={"year": ("smallint", year), "run_id": ("bigint", run_id)},
            conflict="person_id, year", update=[*RESULT_FIELDS, "run_id"],
        )
        return
    SubsidyResult.objects.bulk_create(
        [SubsidyResult(person_id=r[0], year=year, run_id=run_id, **dict(zip(RESULT_FIELDS, r[1:], strict=True))) for r in rows],
        batch_size=2000, update_conflicts=True, unique_fields=["person", "year"], update_fields=[*RESULT_FIELDS, "run"],
    )


def _best_category(identities) -> str:
    """When nothing is payable (not enrolled …) the list still names the identity held latest in the year."""
    return max(identities, key=lambda i: (i.valid_to or date.max, i.valid_from)).category


# --- route (b): people who paid themselves ---------------------------------------------------------
def selfpaid_report(*, person: Person, year: int, enrolment: str, paid_amount: Decimal, bank_name: str,
                    bank_account: str, account_holder: str, user, today: date | None = None) -> SelfPaidReport:
    """A town reports a person who paid their own contribution. After the year's deadline only with the
    district's permission (LateReportPermission)."""
    today = today or timezone.localdate()
    town = user.town
    if town is None or not Person.objects.visible_to(user).filter(pk=person.pk, town=town).exists():
        raise FundingError("只能上报本镇街的人员")
    if enrolment not in (EnrolmentKind.RESIDENT_T1, EnrolmentKind.RESIDENT_T2, EnrolmentKind.EMPLOYEE_INDIVIDUAL):
        raise FundingError("参保类型应为城乡居民一档、二档或以个人身份参加职工医保")
    if not bank_account.strip() or not bank_name.strip() or not account_holder.strip():
        raise FundingError("请填写开户银行、银行账号和户名")
    if paid_amount is None or paid_amount <= 0:
        raise FundingError("个人已缴金额应大于零")
    deadline = subsidy_year(year).self_paid_deadline
    permission = None
    if today > deadline:
        permission = LateReportPermission.objects.filter(town=town, year=year, until__gte=today).order_by("-until").first()
        if permission is None:
            raise FundingError(f"{year}年自行缴费名单已于{deadline:%Y年%m月%d日}截止上报，须经区医保局准许后方可补报")
    _in_area(user, person, year, "上报自行缴费资助")
    with transaction.atomic():
        if SelfPaidReport.objects.filter(person=person, year=year).exclude(status=SelfPaidReport.Status.REJECTED).exists():
            raise FundingError(f"{person.name} 的{year}年自行缴费资助已上报过")
        if SubsidyRoute.objects.filter(person=person, year=year, route=SubsidyRoute.Route.TAX).exists():
            raise FundingError(ROUTE_CLASH.format(names=person.name, year=year, route=SubsidyRoute.Route.TAX.label))
        report = SelfPaidReport.objects.create(
            person=person, year=year, town=town, enrolment=enrolment, paid_amount=paid_amount, bank_name=bank_name.strip(),
            bank_account=bank_account.strip(), account_holder=account_holder.strip(), reported_by=user,
            late_permission=permission,
        )
        record_start(report, by=user, reason=f"逾期补报（准许至{permission.until:%Y-%m-%d}）" if permission else "镇街上报")
        return report


def selfpaid_decide(*, report_id: int, approve: bool, user, note: str = "", on: date | None = None) -> SelfPaidReport:
    """The district verifies a report: the subsidy is computed by the engine for the enrolment reported,
    at most what the person paid."""
    on = on or timezone.localdate()
    with transaction.atomic():
        report = SelfPaidReport.objects.select_for_update().select_related("person").get(pk=report_id)
        _in_area(user, report.person, report.year, "审核自行缴费资助")
        if report.status != SelfPaidReport.Status.REPORTED:
            raise FundingError(f"该申报当前为「{report.get_status_display()}」，不能再审核")
        if report.reported_by_id == user.pk:
            raise FundingError("上报人不能审核自己上报的名单")
        if not approve:
            to = SelfPaidReport.Status.REJECTED
        else:
            d = subsidy_for(report.person, report.year, report.enrolment)
            if d.amount <= 0:
                why = "；".join(Reason(int(r)).zh for r in d.reasons) or "不符合资助条件"
                raise FundingError(f"{report.person.name} {report.year}年无可资助金额：{why}")
            report.amount = min(d.amount, report.paid_amount)
            to = SelfPaidReport.Status.APPROVED
            subsidy_route_take(year=report.year, route=SubsidyRoute.Route.SELF_PAID, person_ids=[report.person_id],
                               report=report)
            EnrolmentRow.objects.update_or_create(
                person=report.person, year=report.year,
                defaults={"kind": report.enrolment, "self_paid": True, "source": "自行缴费申报", "updated_by": user},
            )
        report.note, report.decided_by, report.decided_on = note, user, on
        transition(report, to, by=user, reason=note, update_fields=["amount", "note", "decided_by", "decided_on"])
    return report


def subsidy_for(person: Person, year: int, enrolment: str | None):
    """The engine's subsidy decision for one person (the policy in force at the end of the year)."""
    return decide_subsidy(
        person_for_engine(person), year, enrolment if enrolment != EnrolmentKind.NOT_ENROLLED else None
    )


def tax_list_confirm(*, year: int, town_id: int, payee_name: str, bank_name: str, bank_account: str, user,
                     on: date | None = None) -> TaxListSettlement:
    """Route (a): confirm a town's list after the tax system took it; the amount not yet settled for the
    town and year becomes payable (a supplementary settlement after a re-run pays only the difference)."""
    from ..selectors import tax_list

    if not (payee_name.strip() and bank_name.strip() and bank_account.strip()):
        raise FundingError("请填写收款单位、开户银行和银行账号")
    with transaction.atomic():
        Town.objects.select_for_update().get(pk=town_id)  # one confirmation per town at a time
        if SubsidyRun.objects.filter(year=year, status__in=[SubsidyRun.Status.QUEUED, SubsidyRun.Status.RUNNING]).exists():
            raise FundingError(f"{year}年资助参保正在计算，请完成后再确认")
        agg = tax_list(user, year=year, town_id=town_id).aggregate(n=Count("pk"), total=Sum("amount"))
        settled = TaxListSettlement.objects.filter(year=year, town_id=town_id).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
        amount = (agg["total"] or Decimal("0.00")) - settled
        if amount <= 0:
            raise FundingError(f"该镇街{year}年税务代缴名单没有尚未结算的金额（已结算 {settled} 元）")
        settlement = TaxListSettlement.objects.create(
            year=year, town_id=town_id, people=agg["n"] or 0, amount=amount, payee_name=payee_name.strip(),
            bank_name=bank_name.strip(), bank_account=bank_account.strip(), confirmed_by=user,
            confirmed_on=on or timezone.localdate(),
        )
        # everyone on the list is now paid by route (a) for the year: route (b) is closed to them
        people = list(tax_list(user, year=year, town_id=town_id).values_list("person_id", flat=True))
        subsidy_route_take(year=year, route=SubsidyRoute.Route.TAX, person_ids=people, settlement=settlement)
        return settlement
