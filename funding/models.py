"""Contribution subsidies (POLICY.md §4), the special funds' double-entry ledger, monthly fund
requests, payment batches and receivables (POLICY.md §12; 渝北府办发〔2025〕2号 四).

Money rules (docs/funding.md):
- journal entries and their lines are append-only (model guard here, a trigger on PostgreSQL,
  migration 0002); a mistake is corrected by a reversing entry;
- balances are the sum of lines; an own account never goes below zero (services lock the
  account rows before checking);
- no entry touches both the assistance fund's accounts and the veterans' fund's account.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from yfbz.core import jobs
from yfbz.core.bytes import BytesDeferredManager, BytesDeferredModel
from yfbz.core.jobs import JobSpec
from yfbz.core.scoping import ScopedManager
from yfbz.core.workflow import NEW, StatusHistory

MONEY = {"max_digits": 14, "decimal_places": 2}
USER = settings.AUTH_USER_MODEL


class Fund(models.TextChoices):
    ASSISTANCE = "ASSISTANCE", "医疗救助资金"
    YOUFU = "YOUFU", "优抚对象医疗补助资金"


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

    class Meta:
        verbose_name = "资助参保计算"
        verbose_name_plural = "资助参保计算"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.year}年资助参保计算 #{self.pk}（{self.get_status_display()}）"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else (100 if self.status == "done" else 0)


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
    )
    run = models.ForeignKey(SubsidyRun, verbose_name="最近改变它的计算批次", on_delete=models.PROTECT, related_name="+")

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

    run = models.ForeignKey(SubsidyRun, verbose_name="计算批次", on_delete=models.CASCADE, related_name="changes")
    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    old_category = models.CharField("原资助身份", max_length=30, blank=True)
    new_category = models.CharField("新资助身份", max_length=30, blank=True)
    old_amount = models.DecimalField("原金额", null=True, blank=True, **MONEY)
    new_amount = models.DecimalField("新金额", null=True, blank=True, **MONEY)

    objects = ScopedManager()

    class Scoping:
        town = "person__town"

    class Meta:
        verbose_name = "资助变化"
        verbose_name_plural = "资助变化"
        ordering = ["run", "id"]

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


# --- the ledger ---------------------------------------------------------------------------------
class Account(models.Model):
    """A ledger account: the bureau's own accounts (never below zero) and counterparts (external)."""

    class Kind(models.TextChoices):
        OWN = "own", "本单位账户"
        EXTERNAL = "external", "往来对方"

    code = models.CharField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=60)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    fund = models.CharField("所属资金", max_length=12, choices=Fund.choices, blank=True, help_text="往来对方不属于任何一项资金")
    # the pool it belongs to (docs/areas.md): a district's pool during a transition, the city's after it
    area = models.ForeignKey(
        "areas.Area", verbose_name="资金池（服务区域）", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="本单位账户所属的区或市级资金池；为空：本局管辖区的资金池",
    )

    class Meta:
        verbose_name = "资金账户"
        verbose_name_plural = "资金账户"
        ordering = ["id"]

    def __str__(self):
        return self.name


class EntryKind(models.TextChoices):
    INCOME_CENTRAL = "INCOME_CENTRAL", "中央财政下拨"
    INCOME_CITY = "INCOME_CITY", "市级财政下拨"
    INCOME_DISTRICT = "INCOME_DISTRICT", "区本级安排"
    INTEREST = "INTEREST", "利息收入"
    AUDIT_REFUND = "AUDIT_REFUND", "整改退款"
    DONATION = "DONATION", "社会捐赠"
    TRANSFER = "TRANSFER", "专户划拨至支出户"
    PAY_SUBSIDY = "PAY_SUBSIDY", "资助参保支出"
    PAY_PERSON = "PAY_PERSON", "个人救助待遇支出"
    PAY_INSTITUTION = "PAY_INSTITUTION", "定点医疗机构垫付结算"
    PAY_YOUFU = "PAY_YOUFU", "优抚对象医疗补助支出"
    RECOVERY = "RECOVERY", "追回资金"
    RETURN_TO_SPECIAL = "RETURN_TO_SPECIAL", "撤回款项退回财政专户"
    POOL_TRANSFER = "POOL_TRANSFER", "资金池间划转"
    REVERSAL = "REVERSAL", "冲销"


class Period(models.Model):
    """A month of the ledger; a closed month takes no more entries."""

    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    closed_at = models.DateTimeField("结账时间", null=True, blank=True)
    closed_by = models.ForeignKey(USER, verbose_name="结账人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entry_seq = models.PositiveIntegerField("本月凭证序号", default=0)

    class Meta:
        verbose_name = "会计期间"
        verbose_name_plural = "会计期间"
        constraints = [models.UniqueConstraint(fields=["year", "month"], name="period_year_month")]
        ordering = ["-year", "-month"]

    def __str__(self):
        return f"{self.year}年{self.month}月{'（已结账）' if self.closed_at else ''}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("记账凭证只能新增，不能修改；请用冲销凭证更正。")

    def delete(self):
        raise PermissionError("记账凭证只能新增，不能删除；请用冲销凭证更正。")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("记账凭证只能新增，不能修改；请用冲销凭证更正。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("记账凭证只能新增，不能删除；请用冲销凭证更正。")


class JournalEntry(AppendOnly):
    """One movement of money: lines summing to zero, a counterpart, a source document, maker and checker."""

    number = models.CharField("凭证号", max_length=20, unique=True)
    date = models.DateField("记账日期")
    kind = models.CharField("类别", max_length=20, choices=EntryKind.choices)
    fund = models.CharField("资金", max_length=12, choices=Fund.choices)
    counterpart = models.ForeignKey(Account, verbose_name="对方单位", on_delete=models.PROTECT, related_name="+")
    source_document = models.CharField("原始凭据", max_length=120)
    description = models.CharField("摘要", max_length=200)
    entered_by = models.ForeignKey(USER, verbose_name="录入人", on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(USER, verbose_name="审核人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    reverses = models.OneToOneField(
        "self", verbose_name="冲销的凭证", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    fund_request = models.ForeignKey("FundRequest", verbose_name="资金申请", null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    payment_batch = models.ForeignKey("PaymentBatch", verbose_name="支付批次", null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    receivable = models.ForeignKey("Receivable", verbose_name="应收款", null=True, blank=True, on_delete=models.PROTECT, related_name="entries")

    class Meta:
        verbose_name = "记账凭证"
        verbose_name_plural = "记账凭证"
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["date"])]

    def __str__(self):
        return f"{self.number} {self.get_kind_display()} {self.description}"


class JournalLine(AppendOnly):
    """Positive = money into the account, negative = out of it. Lines of an entry sum to zero."""

    entry = models.ForeignKey(JournalEntry, verbose_name="凭证", on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, verbose_name="账户", on_delete=models.PROTECT, related_name="lines")
    amount = models.DecimalField("金额", **MONEY)

    class Meta:
        verbose_name = "凭证分录"
        verbose_name_plural = "凭证分录"
        indexes = [models.Index(fields=["account", "entry"])]

    def __str__(self):
        return f"{self.account} {self.amount}"


# --- monthly fund requests and payments -----------------------------------------------------------
class FundRequest(models.Model):
    """资金申请: what was approved for a month, requested from the finance bureau (2号 四(三))."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已审核报送"
        FUNDED = "funded", "财政已划拨"
        CANCELLED = "cancelled", "已作废"

    #: the allowed moves (yfbz.core.workflow.transition)
    MOVES = {
        NEW: {Status.DRAFT},
        Status.DRAFT: {Status.SUBMITTED, Status.CANCELLED},
        Status.SUBMITTED: {Status.FUNDED},
        Status.FUNDED: set(),
        Status.CANCELLED: set(),
    }
    REASON_REQUIRED = {(Status.DRAFT, Status.CANCELLED)}

    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    number = models.CharField("申请编号", max_length=20, unique=True)
    # the district it serves (docs/areas.md); empty: the bureau's district
    district = models.ForeignKey(
        "areas.Area", verbose_name="服务的区", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(USER, verbose_name="编制人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("编制时间", auto_now_add=True)
    approved_by = models.ForeignKey(USER, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    total_assistance = models.DecimalField("医疗救助资金合计", default=Decimal("0"), **MONEY)
    total_youfu = models.DecimalField("优抚对象医疗补助合计", default=Decimal("0"), **MONEY)
    line_count = models.PositiveIntegerField("明细笔数", default=0)
    carried_in = models.DecimalField(
        "上期撤回款项抵减", default=Decimal("0"), **MONEY,
        help_text="此前已划拨、其明细后来撤回而留存在支出户的款项，抵减本次应划拨的医疗救助资金",
    )
    transferred_assistance = models.DecimalField("财政实际划拨", null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = "资金申请"
        verbose_name_plural = "资金申请"
        ordering = ["-year", "-month", "-id"]

    def __str__(self):
        return f"{self.number} {self.year}年{self.month}月资金申请（{self.get_status_display()}）"


class FundRequestStatusChange(StatusHistory):
    """Append-only: every move of a fund request (yfbz.core.workflow)."""

    SUBJECT = "request"
    request = models.ForeignKey(FundRequest, verbose_name="资金申请", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = "资金申请状态记录"
        verbose_name_plural = "资金申请状态记录"


class Spending(models.TextChoices):
    SUBSIDY = "SUBSIDY", "资助参保"
    BENEFIT_PERSON = "BENEFIT_PERSON", "个人救助待遇"
    INSTITUTION = "INSTITUTION", "定点医疗机构一站式结算"


class PayableLine(models.Model):
    """One payable in a fund request: a person's benefit or subsidy, or an institution's agreed total.
    A source key is requested once (unique), so nothing is requested or paid twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "待支付"
        IN_BATCH = "in_batch", "支付中"
        PAID = "paid", "已支付"
        WITHDRAWN = "withdrawn", "来源已撤回（不支付）"
        CANCELLED = "cancelled", "所属申请已作废"

    #: the allowed moves (yfbz.core.workflow.transition; history: PayableLineStatusChange). A failed
    #: payment brings its line back to PENDING; a cancelled draft request's lines are CANCELLED, which
    #: frees their source keys for the next request (the unique constraint leaves cancelled lines out).
    MOVES = {
        NEW: {Status.PENDING},
        Status.PENDING: {Status.IN_BATCH, Status.WITHDRAWN, Status.CANCELLED},
        Status.IN_BATCH: {Status.PAID, Status.PENDING},
        Status.PAID: set(),
        Status.WITHDRAWN: {Status.CANCELLED},
        Status.CANCELLED: set(),
    }

    request = models.ForeignKey(FundRequest, verbose_name="资金申请", on_delete=models.PROTECT, related_name="lines")
    provider = models.CharField("来源模块", max_length=20)
    source_key = models.CharField("来源编号", max_length=80, db_index=True)
    payee_kind = models.CharField("收款方类型", max_length=12, choices=[("PERSON", "个人"), ("INSTITUTION", "医疗机构")])
    payee_name = models.CharField("收款方", max_length=100)
    bank_name = models.CharField("开户银行", max_length=60, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    fund = models.CharField("资金", max_length=12, choices=Fund.choices)
    spending = models.CharField("支出类别", max_length=20, choices=Spending.choices)
    scheme = models.CharField("救助项目", max_length=30, blank=True)
    town = models.ForeignKey("beneficiaries.Town", verbose_name="镇街", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField("金额", **MONEY)
    status = models.CharField("支付状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    paid_on = models.DateField("支付日期", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_reason = models.CharField("撤回原因", max_length=200, blank=True, default="", db_default="")

    objects = ScopedManager()

    class Scoping:
        town = "town"

    class Meta:
        verbose_name = "申请明细"
        verbose_name_plural = "申请明细"
        indexes = [models.Index(fields=["request", "fund", "status"])]
        constraints = [
            # a source key is on one live line only: nothing is requested or paid twice
            models.UniqueConstraint(fields=["source_key"], condition=~Q(status="cancelled"), name="payableline_source_once"),
        ]

    def __str__(self):
        return f"{self.payee_name} {self.amount}"


class PayableLineStatusChange(StatusHistory):
    """Append-only: every move of a payable line (yfbz.core.workflow)."""

    SUBJECT = "line"
    line = models.ForeignKey(PayableLine, verbose_name="申请明细", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "line__town"

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "申请明细状态记录"


class PaymentBatch(models.Model):
    class Status(models.TextChoices):
        EXPORTED = "exported", "已生成支付文件"
        CONFIRMED = "confirmed", "银行已回单"

    #: the allowed moves (yfbz.core.workflow.transition; history: PaymentBatchStatusChange)
    MOVES = {NEW: {Status.EXPORTED}, Status.EXPORTED: {Status.CONFIRMED}, Status.CONFIRMED: set()}

    request = models.ForeignKey(FundRequest, verbose_name="资金申请", on_delete=models.PROTECT, related_name="batches")
    number = models.CharField("批次号", max_length=24, unique=True)
    fund = models.CharField("资金", max_length=12, choices=Fund.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.EXPORTED)
    created_by = models.ForeignKey(USER, verbose_name="制单人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("制单时间", auto_now_add=True)
    confirmed_by = models.ForeignKey(USER, verbose_name="回单确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField("银行支付日期", null=True, blank=True)
    total = models.DecimalField("金额合计", default=Decimal("0"), **MONEY)

    class Meta:
        verbose_name = "支付批次"
        verbose_name_plural = "支付批次"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.number}（{self.get_status_display()}）"


class PaymentBatchStatusChange(StatusHistory):
    """Append-only: every move of a payment batch (yfbz.core.workflow)."""

    SUBJECT = "batch"
    batch = models.ForeignKey(PaymentBatch, verbose_name="支付批次", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "支付批次状态记录"


class Payment(models.Model):
    """One attempt to pay a line. A line has at most one attempt that is not failed (constraint)."""

    class Status(models.TextChoices):
        SENT = "sent", "已发送银行"
        PAID = "paid", "已支付"
        FAILED = "failed", "支付失败"

    #: the allowed moves (yfbz.core.workflow.transition; history: PaymentStatusChange)
    MOVES = {NEW: {Status.SENT}, Status.SENT: {Status.PAID, Status.FAILED}, Status.PAID: set(), Status.FAILED: set()}

    batch = models.ForeignKey(PaymentBatch, verbose_name="支付批次", on_delete=models.PROTECT, related_name="payments")
    line = models.ForeignKey(PayableLine, verbose_name="申请明细", on_delete=models.PROTECT, related_name="payments")
    bank_name = models.CharField("开户银行", max_length=60, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    amount = models.DecimalField("金额", **MONEY)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.SENT)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)

    objects = ScopedManager()

    class Scoping:
        town = "line__town"

    class Meta:
        verbose_name = "支付明细"
        verbose_name_plural = "支付明细"
        constraints = [
            models.UniqueConstraint(fields=["line"], condition=~Q(status="failed"), name="payment_one_live_attempt_per_line")
        ]

    def __str__(self):
        return f"{self.bank_account} {self.amount}（{self.get_status_display()}）"


class PaymentStatusChange(StatusHistory):
    """Append-only: every move of a payment (yfbz.core.workflow)."""

    SUBJECT = "payment"
    payment = models.ForeignKey(Payment, verbose_name="支付明细", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "payment__line__town"

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "支付明细状态记录"


class WithdrawnFunds(models.Model):
    """Money the finance bureau already transferred into 支出户 for an assistance line that was later
    withdrawn (its claim decided again or refused before payment). It is never left unexplained:
    HELD in 支出户 and taken off the next fund request's transfer (APPLIED), or RETURNED to 财政专户
    by a ledger entry."""

    class Status(models.TextChoices):
        HELD = "held", "留存支出户，抵减下次申请"
        APPLIED = "applied", "已抵减下次申请"
        RETURNED = "returned", "已退回财政专户"

    MOVES = {
        NEW: {Status.HELD},
        Status.HELD: {Status.APPLIED, Status.RETURNED},
        Status.APPLIED: {Status.HELD},  # the request that used it was cancelled
        Status.RETURNED: set(),
    }

    line = models.OneToOneField(PayableLine, verbose_name="撤回的明细", on_delete=models.PROTECT, related_name="withdrawn_funds")
    request = models.ForeignKey(FundRequest, verbose_name="划拨所属申请", on_delete=models.PROTECT, related_name="withdrawn_funds")
    amount = models.DecimalField("金额", **MONEY)
    status = models.CharField("处理", max_length=10, choices=Status.choices, default=Status.HELD)
    applied_to = models.ForeignKey(FundRequest, verbose_name="抵减的申请", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="carried_funds")
    entry = models.ForeignKey("JournalEntry", verbose_name="退回凭证", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "撤回明细的已划拨款项"
        verbose_name_plural = "撤回明细的已划拨款项"
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawn_funds_positive")]

    def __str__(self):
        return f"{self.line.payee_name} {self.amount}（{self.get_status_display()}）"


class WithdrawnFundsStatusChange(StatusHistory):
    SUBJECT = "funds"
    funds = models.ForeignKey(WithdrawnFunds, verbose_name="撤回款项", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = "撤回款项处理记录"
        verbose_name_plural = "撤回款项处理记录"


# --- recoveries -------------------------------------------------------------------------------------
class Receivable(models.Model):
    """应收款: money paid wrongly (a decision made again, an institution at fault, 2号 五(四))."""

    class Status(models.TextChoices):
        OPEN = "open", "待追回"
        PARTLY = "partly", "部分追回"
        SETTLED = "settled", "已追回"

    #: the allowed moves (yfbz.core.workflow.transition; history: ReceivableStatusChange); each
    #: recovery is one move, a second partial recovery too (部分追回 → 部分追回)
    MOVES = {
        NEW: {Status.OPEN},
        Status.OPEN: {Status.PARTLY, Status.SETTLED},
        Status.PARTLY: {Status.PARTLY, Status.SETTLED},
        Status.SETTLED: set(),
    }

    source_key = models.CharField("来源编号", max_length=80, unique=True)
    debtor_name = models.CharField("欠款方", max_length=100)
    fund = models.CharField("资金", max_length=12, choices=Fund.choices)
    amount = models.DecimalField("应收金额", **MONEY)
    recovered = models.DecimalField("已追回", default=Decimal("0"), **MONEY)
    reason = models.CharField("原因", max_length=300)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(USER, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "应收款"
        verbose_name_plural = "应收款"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.debtor_name} {self.amount}（{self.get_status_display()}）"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.recovered


class ReceivableStatusChange(StatusHistory):
    """Append-only: every move of a receivable (yfbz.core.workflow)."""

    SUBJECT = "receivable"
    receivable = models.ForeignKey(Receivable, verbose_name="应收款", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "应收款状态记录"


class YoufuBudget(models.Model):
    """The year's budget of the veterans' fund, compared with what was spent."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    amount = models.DecimalField("年度预算", **MONEY)

    class Meta:
        verbose_name = "优抚对象医疗补助年度预算"
        verbose_name_plural = "优抚对象医疗补助年度预算"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year}年预算 {self.amount}"


class EntryProposal(models.Model):
    """Maker–checker for entries keyed in by hand: money received, or the reversal of a wrong entry.
    One person proposes, another approves; only then is the journal entry written."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已记账"
        REJECTED = "rejected", "已退回"

    #: the allowed moves (yfbz.core.workflow.transition; history: EntryProposalStatusChange)
    MOVES = {NEW: {Status.PENDING}, Status.PENDING: {Status.APPROVED, Status.REJECTED}, Status.APPROVED: set(),
             Status.REJECTED: set()}

    kind = models.CharField("类别", max_length=20, choices=EntryKind.choices)
    account = models.ForeignKey(Account, verbose_name="本单位账户", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    counterpart = models.ForeignKey(Account, verbose_name="对方单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField("金额", null=True, blank=True, **MONEY)
    on = models.DateField("记账日期")
    source_document = models.CharField("原始凭据", max_length=120)
    description = models.CharField("摘要", max_length=200)
    reverses = models.ForeignKey(JournalEntry, verbose_name="冲销的凭证", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    receivable = models.ForeignKey("Receivable", verbose_name="追回的应收款", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(USER, verbose_name="录入人", on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField("录入时间", auto_now_add=True)
    decided_by = models.ForeignKey(USER, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(JournalEntry, verbose_name="记账凭证", null=True, blank=True, on_delete=models.PROTECT, related_name="proposal")
    note = models.CharField("审核意见", max_length=200, blank=True)

    class Meta:
        verbose_name = "待审核凭证"
        verbose_name_plural = "待审核凭证"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount or ''}（{self.get_status_display()}）"


class EntryProposalStatusChange(StatusHistory):
    """Append-only: every move of a proposed entry (yfbz.core.workflow)."""

    SUBJECT = "proposal"
    proposal = models.ForeignKey(EntryProposal, verbose_name="待审核凭证", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "待审核凭证状态记录"


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


@jobs.register
class FileImport(BytesDeferredModel, models.Model):
    """An uploaded data file imported by a background task (issue 9, finding 10): the web request only
    stores the file and queues; the task reads, checks and applies it in one transaction (yfbz.core.jobs:
    failed with the reason, "重新运行", never stuck)."""

    class Kind(models.TextChoices):
        ENROLMENT = "enrolment", "参保数据导入"
        BANK_RETURN = "bank_return", "银行回单导入"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "导入中"
        DONE = "done", "已导入"
        FAILED = "failed", "导入失败"

    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    params = models.JSONField("参数", default=dict, blank=True, help_text="年度；支付批次和银行支付日期")
    file_name = models.CharField("文件名", max_length=200)
    data = models.BinaryField("文件内容", editable=False)
    file_size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    created_by = models.ForeignKey(USER, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField("错误", blank=True)
    result = models.TextField("结果", blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)

    JOB = JobSpec(label="数据文件导入", task="funding.tasks.file_import", queued=Status.QUEUED, running=Status.RUNNING,
                  done=Status.DONE, failed=Status.FAILED)

    objects = BytesDeferredManager()  # the bytes are read by the import only (yfbz.core.bytes)

    class Meta:
        verbose_name = "数据文件导入"
        verbose_name_plural = "数据文件导入"
        ordering = ["-id"]
        base_manager_name = "objects"

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def can_rerun_by(self, user) -> bool:
        """Only the one who uploaded the file reruns it (it is applied in their name)."""
        return user.is_superuser or user.pk == self.created_by_id
