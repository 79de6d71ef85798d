"""The treasury: the special funds' double-entry ledger, monthly fund
requests, payment batches and receivables (POLICY.md §12; 渝北府办发〔2025〕2号 四).
It knows nothing of contribution subsidies (``subsidies``): it pays what ``funding.payables`` lists.

Money rules (docs/funding.md):
- journal entries and their lines are append-only (model guard here, a trigger on PostgreSQL,
  migration 0002); a mistake is corrected by a reversing entry;
- balances are the sum of lines; an own account never goes below zero (services lock the
  account rows before checking);
- no entry touches both the assistance fund's accounts and the veterans' fund's account.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from yfbz.core.scoping import ScopedManager
from yfbz.core.workflow import NEW, StatusHistory

from .base import MONEY, USER


class Fund(models.TextChoices):
    ASSISTANCE = "ASSISTANCE", "医疗救助资金"
    YOUFU = "YOUFU", "优抚对象医疗补助资金"


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
    # the district whose pool it returns to (docs/areas.md): the opener's; empty: the bureau's district
    district = models.ForeignKey(
        "areas.Area", verbose_name="所属区", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
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
