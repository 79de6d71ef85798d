"""Contribution subsidies (资助参保, POLICY.md §4): enrolment, the year's run and its results, routes
(a) (the tax system's list, its settlements and the 代缴明细 reconciliation) and (b) (self-paid
reports), exclusive per person and year (``SubsidyRoute``). Paid through the treasury only as
payables (``funding.payables``); no model here has a key to the treasury's."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from yfbz.core import jobs
from yfbz.core.bytes import BytesDeferredManager, BytesDeferredModel
from yfbz.core.jobs import JobSpec
from yfbz.core.scoping import ScopedManager
from yfbz.core.workflow import NEW, StatusHistory

from .base import MONEY, USER


class EnrolmentKind(models.TextChoices):
    RESIDENT_T1 = "RESIDENT_T1", "城乡居民医保一档"
    RESIDENT_T2 = "RESIDENT_T2", "城乡居民医保二档"
    EMPLOYEE_INDIVIDUAL = "EMPLOYEE_INDIVIDUAL", "以个人身份参加职工医保"
    EMPLOYEE_EMPLOYER = "EMPLOYEE_EMPLOYER", "随单位参加职工医保"
    NOT_ENROLLED = "NOT_ENROLLED", "未参保"


# --- contribution subsidies ---------------------------------------------------------------------
class Enrolment(models.Model):
    """How a person is insured in a year (from the insurance system's export, or entered by hand)."""

    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="enrolments")
    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("参保类型", max_length=20, choices=EnrolmentKind.choices)
    self_paid = models.BooleanField("个人已自行缴费", default=False, help_text="2号 二(二)：已自行缴费的，由镇街7月31日前上报，区医保局核实后资助到个人账户")
    source = models.CharField("来源", max_length=60, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(USER, verbose_name="更新人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Scoping:
        town = "person__town"

    class Meta:
        verbose_name = "参保登记"
        verbose_name_plural = "参保登记"
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="enrolment_person_year")]
        indexes = [models.Index(fields=["year", "kind"])]

    def __str__(self):
        return f"{self.year} {self.get_kind_display()}"


class SubsidyYear(models.Model):
    """Per-year settings of the subsidy: the deadline for self-paid lists is data (2号 三(二): 7月31日前)."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    self_paid_deadline = models.DateField("自行缴费名单上报截止日", help_text="渝北府办发〔2025〕2号 三(二)：每年7月31日前报区医保局")

    class Meta:
        verbose_name = "资助参保年度设置"
        verbose_name_plural = "资助参保年度设置"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year}年（自缴名单截止 {self.self_paid_deadline}）"


@jobs.register
class SubsidyRun(models.Model):
    """One calculation of a year's subsidies for everybody: a Celery job with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "计算中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    year = models.PositiveSmallIntegerField("年度")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(USER, verbose_name="发起人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    last_person_id = models.BigIntegerField("已处理至人员ID", default=0)
    progress_done = models.PositiveIntegerField("已处理人数", default=0)
    progress_total = models.PositiveIntegerField("总人数", default=0)
    count_eligible = models.PositiveIntegerField("可资助人数", default=0)
    count_new = models.PositiveIntegerField("新增", default=0)
    count_changed = models.PositiveIntegerField("变更", default=0)
    count_removed = models.PositiveIntegerField("不再资助", default=0)
    total_amount = models.DecimalField("资助总额", default=Decimal("0"), **MONEY)
    policy_version = models.CharField("政策版本", max_length=80, blank=True)
    error = models.TextField("错误", blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)

    JOB = JobSpec(label="资助参保计算", task="funding.tasks.subsidy_run_execute", queued=Status.QUEUED, running=Status.RUNNING,
                  done=Status.DONE, failed=Status.FAILED, rerun_permission="funding.add_subsidyrun")
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    class Meta:
        verbose_name = "资助参保计算"
        verbose_name_plural = "资助参保计算"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.year}年资助参保计算 #{self.pk}（{self.get_status_display()}）"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else (100 if self.status == "done" else 0)


class SubsidyRunStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "run"
    run = models.ForeignKey(SubsidyRun, verbose_name="资助参保计算", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "资助参保计算状态记录"


class SubsidyRunPart(models.Model):
    """One chunk of a year's run: a contiguous range of person ids (after ``after_id``, up to ``upto_id``
    inclusive; no upper bound on the last part), worked by a Celery task of its own (issue 14: the run
    spread over workers, as claims' ``NoticeBatchPart``). Each batch of the part commits its results, its
    changes and ``last_person_id`` together, so a part whose worker was killed resumes after its last
    committed batch and nothing is written twice; ``finished_at`` is set when the range is exhausted."""

    run = models.ForeignKey(SubsidyRun, verbose_name="计算批次", on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField("序号")
    after_id = models.BigIntegerField("起始人员ID（不含）")
    upto_id = models.BigIntegerField("截止人员ID（含）", null=True, blank=True)
    last_person_id = models.BigIntegerField("已处理至人员ID")
    progress_done = models.PositiveIntegerField("已处理人数", default=0)
    count_new = models.PositiveIntegerField("新增", default=0)
    count_changed = models.PositiveIntegerField("变更", default=0)
    count_removed = models.PositiveIntegerField("不再资助", default=0)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "资助参保计算分段"
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="subsidy_run_part_unique")]

    def __str__(self):
        return f"{self.run_id}号资助参保计算第{self.index + 1}段"


class SubsidyResult(models.Model):
    """The current subsidy of one person for one year (kept up to date by every run)."""

    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="subsidies")
    year = models.PositiveSmallIntegerField("年度")
    enrolment = models.CharField("参保类型", max_length=20, choices=EnrolmentKind.choices, blank=True)
    category = models.CharField("资助身份", max_length=30, blank=True)
    group = models.CharField("资助档次", max_length=20, blank=True)
    standard_amount = models.DecimalField("个人缴费标准", null=True, blank=True, **MONEY)
    amount = models.DecimalField("资助金额", **MONEY)
    reasons = models.CharField("原因代码", max_length=60, blank=True)
    provisional = models.BooleanField("使用暂行标准", default=False)
    policy_version = models.CharField("政策版本", max_length=80, blank=True)
    # the town (and so the district, on 31 December of the year) the record was made under (docs/areas.md)
    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="所属镇街（年末）", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # written in bulk by the year's run; lists are read by year
        db_constraint=False,  # HOT_PARENT: see below
    )
    # HOT_PARENT (issue 14): the run's rows name the run writing them and one of ~30 towns, both read by
    # the run itself; PostgreSQL's check of such a key locks the one parent row per row written (a
    # million times, from two workers at once: multixacts), about half of the run's database time.
    # Deleting a run or a town is still refused while rows name it (on_delete=PROTECT, by Django).
    run = models.ForeignKey(SubsidyRun, verbose_name="最近改变它的计算批次", on_delete=models.PROTECT, related_name="+",
                            db_constraint=False)

    objects = ScopedManager()

    class Scoping:
        # the record's own town and its year's 31 December (docs/areas.md)
        town = "town"
        on_year = "year"
        current_town = "person__town"

    class Meta:
        verbose_name = "资助参保结果"
        verbose_name_plural = "资助参保结果"
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="subsidy_person_year")]
        indexes = [models.Index(fields=["year", "amount"])]

    def __str__(self):
        return f"{self.year} {self.category} {self.amount}"

    @property
    def personal_part(self) -> Decimal | None:
        if self.standard_amount is None:
            return None
        return max(self.standard_amount - self.amount, Decimal("0.00"))


class SubsidyChange(models.Model):
    """What a re-run changed for one person (the list staff check after roster changes)."""

    run = models.ForeignKey(SubsidyRun, verbose_name="计算批次", on_delete=models.CASCADE, related_name="changes",
                            db_constraint=False)  # HOT_PARENT (SubsidyResult)
    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    old_category = models.CharField("原资助身份", max_length=30, blank=True)
    new_category = models.CharField("新资助身份", max_length=30, blank=True)
    old_amount = models.DecimalField("原金额", null=True, blank=True, **MONEY)
    new_amount = models.DecimalField("新金额", null=True, blank=True, **MONEY)
    # the town on 31 December of the run's year, as on the person's SubsidyResult (docs/areas.md): a town
    # clerk's list is read on the (run, town) index, never through every person of the run (issue 14);
    # a person who moves after the run stays on the list of the town the change was made for
    town = models.ForeignKey("beneficiaries.Town", verbose_name="所属镇街（年末）", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+", db_index=False,
                             db_constraint=False)  # HOT_PARENT (SubsidyResult)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        on_year = "run__year"
        current_town = "person__town"

    class Meta:
        verbose_name = "资助变化"
        verbose_name_plural = "资助变化"
        ordering = ["run_id", "id"]  # the run's id, not its own default order (a join and a sort of every change)
        indexes = [models.Index(fields=["run", "town", "id"], name="subsidy_change_run_town"),
                   models.Index(fields=["run", "id"], name="subsidy_change_run_order")]  # the default order (admin list)

    def __str__(self):
        return f"{self.person_id} {self.old_amount}→{self.new_amount}"


class LateReportPermission(models.Model):
    """The district's permission for a town to add to a year's self-paid list after the deadline."""

    town = models.ForeignKey("beneficiaries.Town", verbose_name="镇街", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    until = models.DateField("准许补报至")
    reason = models.CharField("理由", max_length=200)
    granted_by = models.ForeignKey(USER, verbose_name="批准人", on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField("批准时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"

    class Meta:
        verbose_name = "逾期补报许可"
        verbose_name_plural = "逾期补报许可"

    def __str__(self):
        return f"{self.town} {self.year}年补报至{self.until}"


class SelfPaidReport(models.Model):
    """Route (b): a person who paid their own contribution, reported by their town with a bank account;
    the district verifies and approves, then the subsidy is paid from the expenditure account."""

    class Status(models.TextChoices):
        REPORTED = "reported", "镇街已上报"
        APPROVED = "approved", "区医保已审核"
        REJECTED = "rejected", "已退回"
        PAID = "paid", "已支付"

    #: the allowed moves (yfbz.core.workflow.transition; history: SelfPaidReportStatusChange)
    MOVES = {
        NEW: {Status.REPORTED},
        Status.REPORTED: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: {Status.PAID},
        Status.REJECTED: set(),
        Status.PAID: set(),
    }

    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    town = models.ForeignKey("beneficiaries.Town", verbose_name="上报镇街", on_delete=models.PROTECT, related_name="+")
    enrolment = models.CharField("参保类型", max_length=20, choices=EnrolmentKind.choices)
    paid_amount = models.DecimalField("个人已缴金额", **MONEY)
    bank_name = models.CharField("开户银行", max_length=60)
    bank_account = models.CharField("银行账号", max_length=40)
    account_holder = models.CharField("户名", max_length=50)
    amount = models.DecimalField("核定资助金额", null=True, blank=True, **MONEY)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.REPORTED)
    reported_by = models.ForeignKey(USER, verbose_name="上报人", on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField("上报时间", auto_now_add=True)
    late_permission = models.ForeignKey(LateReportPermission, verbose_name="逾期补报许可", null=True, blank=True, on_delete=models.PROTECT)
    decided_by = models.ForeignKey(USER, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField("审核日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"

    class Meta:
        verbose_name = "自行缴费资助申报"
        verbose_name_plural = "自行缴费资助申报"
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], condition=~Q(status="rejected"), name="selfpaid_once_per_year")
        ]

    def __str__(self):
        return f"{self.year} {self.person.name} {self.get_status_display()}"

    @property
    def source_key(self) -> str:
        return f"subsidy-b:{self.pk}"


class SelfPaidReportStatusChange(StatusHistory):
    """Append-only: every move of a self-paid report (yfbz.core.workflow)."""

    SUBJECT = "report"
    report = models.ForeignKey(SelfPaidReport, verbose_name="自行缴费资助申报", on_delete=models.PROTECT,
                               related_name="status_changes")

    class Scoping:
        town = "report__town"

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "自行缴费资助申报状态记录"


class SubsidyRoute(models.Model):
    """Which route pays a person's contribution subsidy for a year — (a) through the town's tax-system
    list or (b) to the person who paid themselves — one row per person and year, so the two are
    exclusive in the database (issue 10, finding 2). Written only by
    ``funding.services.subsidies.subsidy_route_take``: route (b) when the district approves a
    self-paid report, route (a) for every person of a town's list when the district confirms it — from the
    tax list (``tax_list_confirm``) or from the tax system's 代缴明细 (``tax_reconciliation_settle``)."""

    class Route(models.TextChoices):
        TAX = "A", "税务代缴（途径一）"
        SELF_PAID = "B", "个人自缴后资助（途径二）"

    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    route = models.CharField("资助途径", max_length=1, choices=Route.choices)
    report = models.ForeignKey(SelfPaidReport, verbose_name="自行缴费申报", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    settlement = models.ForeignKey("TaxListSettlement", verbose_name="税务代缴结算", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="routes")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "person__town"

    class Meta:
        verbose_name = verbose_name_plural = "资助参保途径"
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="subsidy_one_route_per_person_year"),
            models.CheckConstraint(
                condition=Q(route="A", settlement__isnull=False, report__isnull=True)
                | Q(route="B", report__isnull=False, settlement__isnull=True),
                name="subsidy_route_has_its_source",
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.person_id} {self.get_route_display()}"


class TaxListSettlement(models.Model):
    """Route (a): the district confirms a town's tax-system list; its total becomes a payable of the
    month's fund request (paid to the tax authority's collection account). A later run that raises
    the total gives a supplementary settlement for the difference only."""

    year = models.PositiveSmallIntegerField("年度")
    town = models.ForeignKey("beneficiaries.Town", verbose_name="镇街", on_delete=models.PROTECT, related_name="+")
    people = models.PositiveIntegerField("人数")
    amount = models.DecimalField("本次结算金额", **MONEY)
    payee_name = models.CharField("收款单位", max_length=100)
    bank_name = models.CharField("开户银行", max_length=60)
    bank_account = models.CharField("银行账号", max_length=40)
    confirmed_by = models.ForeignKey(USER, verbose_name="确认人", on_delete=models.PROTECT, related_name="+")
    confirmed_on = models.DateField("确认日期")
    paid = models.BooleanField("已支付", default=False)

    objects = ScopedManager()

    class Scoping:
        town = "town"

    class Meta:
        verbose_name = "税务代缴资助结算"
        verbose_name_plural = "税务代缴资助结算"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.year} {self.town} {self.amount}"


# --- the tax system's 代缴明细 reconciled with the subsidy run (issue 18, docs/funding.md) -----------
class TaxCategoryWording(models.Model):
    """A 代缴类别 wording of the tax system's 代缴明细 mapped to one of our categories. Editable data:
    category names (特困人员) and the rosters' category wordings (城市低保) are recognised without a row."""

    wording = models.CharField("代缴类别写法", max_length=80, unique=True)
    category = models.ForeignKey("beneficiaries.Category", verbose_name="对应身份类别", on_delete=models.PROTECT,
                                 related_name="+")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "代缴类别写法"
        verbose_name_plural = "代缴类别写法"
        ordering = ["wording"]

    def __str__(self):
        return f"{self.wording} → {self.category}"


@jobs.register
class TaxReconciliation(BytesDeferredModel, models.Model):
    """One 代缴明细 of a year checked against the subsidy run, person by person. A background job
    (yfbz.core.jobs): the page stores the file and queues; the task reads, reconciles and writes the
    lines, and marks the row done in the same transaction — or failed with the reason, nothing kept."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "核对中"
        DONE = "done", "已核对"
        FAILED = "failed", "核对失败"

    year = models.PositiveSmallIntegerField("年度")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField("文件名", max_length=200)
    data = models.BinaryField("文件内容", editable=False, default=b"")
    file_size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    sha256 = models.CharField("SHA-256", max_length=64)
    content_sha256 = models.CharField("内容摘要", max_length=64, blank=True,
                                      help_text="明细行（身份证件号码、街道乡镇、代缴类别、代缴金额）不计顺序的摘要")
    error = models.TextField("错误", blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)
    uploaded_by = models.ForeignKey(USER, verbose_name="导入人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("导入时间", auto_now_add=True)
    reading = models.JSONField("读取情况", default=dict)
    rows = models.PositiveIntegerField("明细行数", default=0)
    counts = models.JSONField("各类结果人数", default=dict)
    agreed_total = models.DecimalField("一致金额合计", default=Decimal("0.00"), **MONEY)

    JOB = JobSpec(label="税务代缴明细核对", task="funding.tasks.tax_reconciliation", queued=Status.QUEUED,
                  running=Status.RUNNING, done=Status.DONE, failed=Status.FAILED)
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    objects = BytesDeferredManager()  # the bytes are read by the job only (yfbz.core.bytes)

    class Meta:
        verbose_name = "税务代缴明细核对"
        verbose_name_plural = "税务代缴明细核对"
        ordering = ["-id"]
        base_manager_name = "objects"

    def __str__(self):
        return f"{self.year}年税务代缴明细核对 #{self.pk}（{self.file_name}）"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def can_rerun_by(self, user) -> bool:
        """Only the one who uploaded the file reruns it (it is reconciled in their name)."""
        return user.is_superuser or user.pk == self.uploaded_by_id


class TaxReconciliationStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "reconciliation"
    reconciliation = models.ForeignKey(TaxReconciliation, verbose_name="税务代缴明细核对", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "税务代缴明细核对状态记录"


class TaxReconciliationLine(models.Model):
    """One person of the reconciliation: a row of the 代缴明细, or one of ours missing from it (漏保)."""

    class Kind(models.TextChoices):
        AGREED = "AGREED", "一致"
        AMOUNT = "AMOUNT", "金额不一致"
        CATEGORY = "CATEGORY", "类别不一致"
        NOT_ELIGIBLE = "NOT_ELIGIBLE", "按我方记录不符合资助条件"
        MISSING = "MISSING", "漏保（应代缴未在税务明细中）"
        BOTH_ROUTES = "BOTH_ROUTES", "两种方式重复资助"
        DUPLICATE = "DUPLICATE", "税务明细重复"

    reconciliation = models.ForeignKey(TaxReconciliation, verbose_name="核对", on_delete=models.CASCADE,
                                       related_name="lines", db_index=False)
    row_no = models.PositiveIntegerField("税务明细行号", null=True, blank=True)
    kind = models.CharField("结果", max_length=12, choices=Kind.choices)
    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", db_index=False)
    town = models.ForeignKey("beneficiaries.Town", verbose_name="镇街", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", db_index=False)
    id_number = models.CharField("身份证件号码", max_length=40)
    name = models.CharField("姓名", max_length=50)
    tax_category = models.CharField("代缴类别（税务）", max_length=80, blank=True)
    tax_amount = models.DecimalField("代缴金额（税务）", null=True, blank=True, **MONEY)
    our_category = models.CharField("资助身份（我方）", max_length=30, blank=True)
    our_amount = models.DecimalField("资助金额（我方）", null=True, blank=True, **MONEY)
    explanation = models.TextField("说明")

    objects = ScopedManager()

    class Scoping:
        town = "town"

    class Meta:
        verbose_name = "税务代缴明细核对结果"
        verbose_name_plural = "税务代缴明细核对结果"
        ordering = ["reconciliation_id", "town_id", "kind", "row_no", "id"]
        indexes = [models.Index(fields=["reconciliation", "town", "kind"])]

    def __str__(self):
        return f"{self.name} {self.get_kind_display()}"
