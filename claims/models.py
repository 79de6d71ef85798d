"""Claims: designated institutions, hand-settled bills, decisions and the year's use of each cap,
one-stop settlement files and their lines, decision notices (docs/claims.md).

State changes go through ``claims.services``; queries through ``claims.selectors``. Money is
``DecimalField(max_digits=14, decimal_places=2)``; every model that reaches a person is scoped
(``objects = ScopedManager()`` with a ``Scoping`` path to the person's town).
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
from yfbz.rules.codes import SCHEME_ZH, YOUFU, YOUFU_BURDEN, YOUFU_ZH

ZERO = Decimal("0.00")


def money_field(verbose_name: str, **kw) -> models.DecimalField:
    kw.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kw)


class Scheme(models.TextChoices):
    """The four assistance schemes of POLICY.md §5–§7a (codes shared with yfbz.rules)."""

    OUTPATIENT = "OUTPATIENT", SCHEME_ZH["OUTPATIENT"]
    INPATIENT = "INPATIENT", SCHEME_ZH["INPATIENT"]
    MAJOR_DISEASE = "MAJOR_DISEASE", SCHEME_ZH["MAJOR_DISEASE"]
    LARGE_EXPENSE = "LARGE_EXPENSE", SCHEME_ZH["LARGE_EXPENSE"]


class CapKey(models.TextChoices):
    """What a CapUsage row counts: each assistance scheme's cap (D3), the veterans' subsidy cap,
    and the two running totals of employees' outpatient pooling (渝医保发〔2023〕32号 第四、六条)."""

    OUTPATIENT = "OUTPATIENT", SCHEME_ZH["OUTPATIENT"]
    INPATIENT = "INPATIENT", SCHEME_ZH["INPATIENT"]
    MAJOR_DISEASE = "MAJOR_DISEASE", SCHEME_ZH["MAJOR_DISEASE"]
    LARGE_EXPENSE = "LARGE_EXPENSE", SCHEME_ZH["LARGE_EXPENSE"]
    YOUFU = YOUFU, YOUFU_ZH
    YOUFU_BURDEN = YOUFU_BURDEN, "优抚对象医疗补助：本年累计救助后自付（计入年度起付额）"
    POOLING = "POOLING", "职工普通门诊统筹支付"
    POOLING_DEDUCTIBLE = "POOLING_DEDUCTIBLE", "职工普通门诊起付标准已计"


#: the fixed order in which a person's cap rows are locked (claims.caps.lock, the one cap ledger)
CAP_KEYS = tuple(sorted(CapKey.values))


# --- institutions -------------------------------------------------------------------------------
class Institution(models.Model):
    """定点医药机构. Level 0 = 未定级 (treated as level 1, D5)."""

    LEVELS = [(0, "未定级"), (1, "一级"), (2, "二级"), (3, "三级")]

    code = models.CharField("机构编码", max_length=30, unique=True)
    name = models.CharField("机构名称", max_length=120)
    level = models.PositiveSmallIntegerField("医院等级", choices=LEVELS, default=0)
    in_city = models.BooleanField("市内", default=True)
    networked = models.BooleanField("联网一站式结算", default=True)
    bank_name = models.CharField("开户银行", max_length=80, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    active = models.BooleanField("启用", default=True)
    # 渝北府办发〔2025〕2号 二(五): major-disease assistance only for costs at a designated institution
    # (定点医疗机构); the engine asks on the settlement date (parameter MAJOR_DISEASE_DESIGNATED_ONLY)
    designated = models.BooleanField(
        "定点医疗机构", default=True, help_text="取消勾选：非定点机构（如市外未签约医院），其费用不适用重特大疾病医疗救助。"
    )
    designated_from = models.DateField("定点起始日期", null=True, blank=True, help_text="留空：一直为定点。")
    designated_to = models.DateField("定点终止日期", null=True, blank=True, help_text="留空：仍为定点。")

    class Meta:
        verbose_name = "定点医药机构"
        verbose_name_plural = "定点医药机构"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    def designated_on(self, day) -> bool:
        """Designated (定点) on that day: flagged, and within the designation's dates."""
        return (
            self.designated
            and (self.designated_from is None or self.designated_from <= day)
            and (self.designated_to is None or day <= self.designated_to)
        )


class InstitutionBankChange(models.Model):
    """A change of an institution's bank account (money follows it): proposed with a reason, then
    confirmed or rejected by a reviewer or finance officer who did not propose it (maker ≠ checker).
    Only a confirmed change writes the account (claims.services.institution_bank_decide)."""

    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", "待确认"
        CONFIRMED = "CONFIRMED", "已确认生效"
        REJECTED = "REJECTED", "已退回"

    institution = models.ForeignKey(Institution, verbose_name="医疗机构", on_delete=models.PROTECT, related_name="bank_changes")
    bank_name = models.CharField("新开户银行", max_length=80)
    bank_account = models.CharField("新银行账号", max_length=40)
    old_bank_name = models.CharField("原开户银行", max_length=80, blank=True, editable=False)
    old_bank_account = models.CharField("原银行账号", max_length=40, blank=True, editable=False)
    reason = models.CharField("变更原因", max_length=200)
    document_ref = models.CharField("依据文件", max_length=120, help_text="机构来函或开户证明的编号")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PROPOSED, editable=False)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, editable=False,
                                    on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField("提出时间", auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, editable=False,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("确认时间", null=True, blank=True, editable=False)
    decision_note = models.CharField("确认说明", max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = "机构银行账号变更"
        verbose_name_plural = "机构银行账号变更"
        ordering = ["-proposed_at", "-id"]

    def __str__(self):
        return f"{self.institution.name} 银行账号变更（{self.get_status_display()}）"


# --- bills ----------------------------------------------------------------------------------------
class Bill(models.Model):
    """A hand-settled bill (手工报销, 2号 三(三)) moving ENTERED → DECIDED → APPROVED | REFUSED → PAID
    through ``services.bill_set_status`` only."""

    class Kind(models.TextChoices):
        INPATIENT = "INPATIENT", "住院"
        OUTPATIENT = "OUTPATIENT", "门诊"

    class Status(models.TextChoices):
        ENTERED = "ENTERED", "已录入"
        DECIDED = "DECIDED", "已核定待审批"
        APPROVED = "APPROVED", "已审批"
        REFUSED = "REFUSED", "不予救助"
        PAID = "PAID", "已支付"
        # decided and paid by the old system before the bureau adopted this product (load_history
        # --historic): counts against the caps and in the statistics, never paid here, never re-decided
        HISTORIC = "HISTORIC", "原系统已核定"

    class Employment(models.TextChoices):
        IN_SERVICE = "IN_SERVICE", "在职"
        RETIRED = "RETIRED", "退休"

    class Tier(models.TextChoices):
        EMPLOYER = "EMPLOYER", "随单位参保"
        INDIVIDUAL_T2 = "INDIVIDUAL_T2", "以个人身份参保（二档）"
        INDIVIDUAL_T1 = "INDIVIDUAL_T1", "以个人身份参保（一档）"

    #: the allowed moves (yfbz.core.workflow.transition): a re-decision moves DECIDED/APPROVED/REFUSED/PAID
    #: back to DECIDED with a reason; a reviewer sends a DECIDED bill back to ENTERED
    MOVES = {
        NEW: {Status.ENTERED, Status.HISTORIC},
        Status.ENTERED: {Status.DECIDED},
        Status.DECIDED: {Status.DECIDED, Status.ENTERED, Status.APPROVED, Status.REFUSED},
        Status.APPROVED: {Status.PAID, Status.DECIDED},
        Status.REFUSED: {Status.DECIDED},
        Status.PAID: {Status.DECIDED},
        Status.HISTORIC: set(),  # the old system's decision, recorded as it was: final here
    }
    REASON_REQUIRED = {
        (Status.DECIDED, Status.ENTERED), (Status.DECIDED, Status.DECIDED), (Status.APPROVED, Status.DECIDED),
        (Status.REFUSED, Status.DECIDED), (Status.PAID, Status.DECIDED),
    }

    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="bills")
    institution = models.ForeignKey(Institution, verbose_name="医疗机构", on_delete=models.PROTECT, related_name="bills")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    disease = models.CharField("疾病（重特大疾病目录名称）", max_length=60, blank=True)
    admitted_on = models.DateField("入院日期", null=True, blank=True)
    settled_on = models.DateField("结算日期", help_text="出院日期（住院）或就诊日期（门诊）；决定资格与限额年度（D1）")
    total_cost = money_field("医疗总费用")
    in_policy_cost = money_field("政策范围内费用")
    basic_paid = money_field("基本医保支付")
    critical_paid = money_field("大病保险支付")
    # employees' ordinary outpatient pooling settled by the bureau (渝医保发〔2023〕32号, POLICY.md §10)
    employee_pooling = models.BooleanField("职工普通门诊（由本局计算统筹支付）", default=False)
    employment = models.CharField("在职/退休", max_length=12, choices=Employment.choices, blank=True)
    tier = models.CharField("参保档次", max_length=16, choices=Tier.choices, blank=True)
    fixed_items_paid = money_field("已按定额报销的项目", help_text="诊察费、一般诊疗费、两病、门特、国谈药（第六条）")
    pharmacy = models.BooleanField("药店外配处方", default=False)
    prescribing_level = models.PositiveSmallIntegerField(
        "开具处方机构等级", null=True, blank=True, choices=Institution.LEVELS
    )
    # payment
    account_holder = models.CharField("收款人", max_length=50, blank=True)
    bank_name = models.CharField("开户银行", max_length=80, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    # the town (and so the district, on the settlement date) the record was made under (docs/areas.md)
    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="所属镇街（结算日）", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ENTERED)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)
    note = models.TextField("备注", blank=True)
    # issue 10, finding 3: a bill matching an earlier one (same person, institution, dates and in-policy
    # cost) is entered only with a written reason, kept here; one matching an approved bill is refused
    duplicate_of = models.ForeignKey(
        "self", verbose_name="疑似重复的票据", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    duplicate_reason = models.TextField("重复录入理由", blank=True)

    objects = ScopedManager()

    class Scoping:
        # the record's own town and date (docs/areas.md)
        town = "town"
        on = "settled_on"
        current_town = "person__town"

    class Meta:
        verbose_name = "手工报销票据"
        verbose_name_plural = "手工报销票据"
        ordering = ["-settled_on", "-id"]
        indexes = [
            models.Index(fields=["status", "settled_on"]), models.Index(fields=["person", "settled_on"]),
            models.Index(fields=["settled_on", "id"], name="bill_default_order"),  # the list's order (issue 14)
        ]
        constraints = [
            models.CheckConstraint(condition=Q(in_policy_cost__lte=models.F("total_cost")), name="bill_in_policy_le_total",
                                   violation_error_message="政策范围内费用不能大于医疗总费用。"),
            models.CheckConstraint(condition=Q(total_cost__gte=0) & Q(basic_paid__gte=0) & Q(critical_paid__gte=0),
                                   name="bill_amounts_not_negative", violation_error_message="金额不能为负数。"),
        ]

    def __str__(self):
        return f"票据{self.pk} {self.person.name} {self.settled_on}"

    @property
    def current_decision(self) -> Decision | None:
        return self.decisions.filter(is_current=True).first()


class BillAttachment(BytesDeferredModel, models.Model):
    """A scanned paper of a bill, kept in the database so every web process and worker reads it."""

    bill = models.ForeignKey(Bill, verbose_name="票据", on_delete=models.PROTECT, related_name="attachments")
    file_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    data = models.BinaryField("内容", editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "bill__town"
        on = "bill__settled_on"

    class Meta:
        verbose_name = "票据扫描件"
        verbose_name_plural = "票据扫描件"
        base_manager_name = "objects"  # the bytes stay deferred behind a lazy foreign key (yfbz.core.bytes)
        ordering = ["bill_id", "id"]

    def __str__(self):
        return self.file_name


class BillStatusChange(StatusHistory):
    """Append-only: every move of a bill — who, when, from, to, why (yfbz.core.workflow)."""

    SUBJECT = "bill"
    bill = models.ForeignKey(Bill, verbose_name="票据", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "bill__town"
        on = "bill__settled_on"

    class Meta(StatusHistory.Meta):
        verbose_name = "票据状态记录"
        verbose_name_plural = "票据状态记录"


# --- decisions and caps ---------------------------------------------------------------------------
class Decision(models.Model):
    """The engine's result for one bill, as it was when decided (policy version kept). A re-decision
    creates a new row that supersedes this one and records the difference."""

    bill = models.ForeignKey(Bill, verbose_name="票据", on_delete=models.PROTECT, related_name="decisions")
    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("限额年度")
    settled_on = models.DateField("结算日期")
    # the town (and so the district, on the settlement date) the record was made under (docs/areas.md)
    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="所属镇街（结算日）", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    policy_version = models.CharField("政策版本", max_length=80)
    scheme = models.CharField("救助方案", max_length=16, choices=Scheme.choices, blank=True)
    category = models.CharField("适用身份", max_length=30, blank=True)
    category_name = models.CharField("适用身份名称", max_length=80, blank=True)
    group = models.CharField("待遇组", max_length=30, blank=True)
    ratio = models.DecimalField("救助比例", max_digits=6, decimal_places=4, null=True, blank=True)
    base = money_field("救助基数（政策范围内自付）")
    pooling_paid = money_field("职工门诊统筹支付（本局计算）")
    pooling_deductible = money_field("职工门诊本次计入起付标准")
    assistance = money_field("医疗救助金额")
    cap = models.DecimalField("年度限额", max_digits=14, decimal_places=2, null=True, blank=True)
    cap_left_before = models.DecimalField("本次前剩余限额", max_digits=14, decimal_places=2, null=True, blank=True)
    cap_left_after = models.DecimalField("本次后剩余限额", max_digits=14, decimal_places=2, null=True, blank=True)
    youfu_category = models.CharField("优抚补助身份", max_length=30, blank=True)
    youfu_ratio = models.DecimalField("优抚补助比例", max_digits=6, decimal_places=4, null=True, blank=True)
    youfu_subsidy = money_field("优抚对象医疗补助")
    youfu_cap_left_after = models.DecimalField(
        "优抚补助本次后剩余限额", max_digits=14, decimal_places=2, null=True, blank=True
    )
    youfu_burden = money_field("计入优抚补助年度起付额的自付")
    reasons = models.JSONField("原因代码", default=list)
    explanation = models.TextField("核定说明")
    layers = models.JSONField("各层计算", default=list)
    considered = models.JSONField("比较过的方案", default=list)
    # the engine's own record of the decision (yfbz.rules Decision.to_dict()): every reader of a stored
    # decision (simulate-equal output of load_history, retroactive re-decisions, notices) reads this
    snapshot = models.JSONField("核定快照（引擎原始结果）", default=dict, blank=True)
    provisional = models.BooleanField("使用暂行规则", default=False)
    provisional_sources = models.JSONField("暂行规则依据", default=list)
    historic = models.BooleanField(
        "原系统核定", default=False,
        help_text="采用本系统前由原系统核定并支付（历史数据迁移）：计入年度限额和统计，本系统不再支付",
    )
    # re-decision
    is_current = models.BooleanField("现行", default=True)
    supersedes = models.OneToOneField(
        "self", verbose_name="取代的核定", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    redecision_reason = models.TextField("重新核定原因", blank=True)
    retroactive_change = models.ForeignKey(
        "beneficiaries.RetroactiveChange", verbose_name="所因追溯身份变化", null=True, blank=True, on_delete=models.PROTECT,
        related_name="redecisions",
    )
    prior_paid_assistance = money_field("此前已支付救助")
    prior_paid_youfu = money_field("此前已支付优抚补助")
    assistance_difference = money_field("救助差额（较前次）")
    youfu_difference = money_field("优抚补助差额（较前次）")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核定人", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("核定时间", auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("审批时间", null=True, blank=True)
    provisional_confirmed = models.BooleanField("审核人已确认暂行规则", default=False)
    refusal_reason = models.TextField("不予救助理由（审核人）", blank=True)
    #: a key of yfbz.rules.codes.REFUSAL_REASONS (data: label and legal basis), not a choices field so
    #: that the table stays data
    refusal_code = models.CharField("不予救助理由类别", max_length=30, blank=True)
    assistance_paid_on = models.DateField("救助支付日期", null=True, blank=True)
    assistance_paid_amount = money_field("救助已支付金额")
    youfu_paid_on = models.DateField("优抚补助支付日期", null=True, blank=True)
    youfu_paid_amount = money_field("优抚补助已支付金额")

    objects = ScopedManager()

    class Scoping:
        # the record's own town and date (docs/areas.md)
        town = "town"
        on = "settled_on"
        current_town = "person__town"

    class Meta:
        verbose_name = "核定结果"
        verbose_name_plural = "核定结果"
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["is_current", "reviewed_at"]), models.Index(fields=["person", "year"]),
            models.Index(fields=["decided_at", "id"], name="decision_default_order"),  # the admin's order
            # the bill list's scheme and category filters find the current decisions (issue 14)
            models.Index(fields=["scheme", "bill"], condition=Q(is_current=True), name="decision_current_scheme"),
            models.Index(fields=["category", "bill"], condition=Q(is_current=True), name="decision_current_category"),
            # the admin's 使用暂行规则 filter finds the few provisional decisions in the admin's order (issue 14)
            models.Index(fields=["decided_at", "id"], condition=Q(provisional=True), name="decision_provisional"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["bill"], condition=Q(is_current=True), name="one_current_decision_per_bill"),
            models.CheckConstraint(condition=Q(assistance__gte=0) & Q(youfu_subsidy__gte=0), name="decision_amounts_not_negative"),
        ]

    def __str__(self):
        return f"核定{self.pk}（票据{self.bill_id}）"

    @property
    def scheme_label(self) -> str:
        return Scheme(self.scheme).label if self.scheme else "不予救助"

    @property
    def total(self) -> Decimal:
        return self.assistance + self.youfu_subsidy

    @property
    def assistance_payable(self) -> Decimal:
        """What is still to be paid of the assistance (a top-up after a re-decision pays only the difference)."""
        d = self.assistance - self.prior_paid_assistance
        return d if d > ZERO else ZERO

    @property
    def youfu_payable(self) -> Decimal:
        d = self.youfu_subsidy - self.prior_paid_youfu
        return d if d > ZERO else ZERO


class CapUsage(models.Model):
    """What a person's annual cap of one scheme has used in one calendar year, kept exactly:
    changed only by the one cap ledger, ``claims.caps``, with the row locked (select_for_update, fixed order)."""

    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="cap_usages")
    year = models.PositiveSmallIntegerField("年度")
    scheme = models.CharField("方案", max_length=20, choices=CapKey.choices)
    used = money_field("已使用")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Scoping:
        town = "person__town"
        person = "person"

    class Meta:
        verbose_name = "年度限额使用"
        verbose_name_plural = "年度限额使用"
        ordering = ["person_id", "year", "scheme"]
        constraints = [
            models.UniqueConstraint(fields=["person", "year", "scheme"], name="cap_usage_unique"),
            models.CheckConstraint(condition=Q(used__gte=0), name="cap_usage_not_negative"),
        ]

    def __str__(self):
        return f"{self.person_id} {self.year} {self.scheme} {self.used}"


class Adjustment(models.Model):
    """The money difference when a paid decision is replaced — an overpayment to recover or an
    underpayment to top up — for a person's bill (``decision``) or for an institution's one-stop line
    decided again after it was confirmed (``settlement_line``: recovered from or topped up to the
    institution). A recovery is also opened as a receivable in funding (``receivable_ref``); an
    institution's top-up is a payable of its own (``source_key``, paid on ``paid_on``); a person's
    top-up is paid as what remains payable on the new decision."""

    class Kind(models.TextChoices):
        RECOVERY = "RECOVERY", "多付追回"
        TOP_UP = "TOP_UP", "少付补发"

    class Payee(models.TextChoices):
        PERSON = "PERSON", "个人"
        INSTITUTION = "INSTITUTION", "医疗机构"

    decision = models.ForeignKey(Decision, verbose_name="新核定", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="adjustments")
    settlement_line = models.ForeignKey("SettlementLine", verbose_name="一站式结算明细", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="adjustments")
    payee_kind = models.CharField("对象", max_length=12, choices=Payee.choices, default=Payee.PERSON)
    paid_on = models.DateField("补发支付日期", null=True, blank=True)
    person = models.ForeignKey("beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    # the town (and so the district, on the settlement date of its decision or line) the record was made under (docs/areas.md)
    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="所属镇街（结算日）", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    fund = models.CharField("资金", max_length=12, choices=[("ASSISTANCE", "医疗救助资金"), ("YOUFU", "优抚对象医疗补助资金")])
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    amount = money_field("金额")
    source_key = models.CharField("来源标识", max_length=60, unique=True)
    reason = models.TextField("原因")
    receivable_ref = models.CharField("应收款登记", max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        # the record's own town and date (docs/areas.md)
        town = "town"
        on = ("decision__settled_on", "settlement_line__settled_on")

    class Meta:
        verbose_name = "重新核定差额"
        verbose_name_plural = "重新核定差额"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__isnull=False, settlement_line__isnull=True) | Q(decision__isnull=True, settlement_line__isnull=False),
                name="adjustment_of_a_decision_or_a_line",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"


# --- notices --------------------------------------------------------------------------------------
class DocumentCounter(models.Model):
    """The year's last document number per prefix; locked with select_for_update when a number is taken."""

    prefix = models.CharField("文号前缀", max_length=40)
    year = models.PositiveSmallIntegerField("年度")
    last = models.PositiveIntegerField("已用到", default=0)

    class Meta:
        verbose_name = "文号计数"
        verbose_name_plural = "文号计数"
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="doc_counter_unique")]

    def __str__(self):
        return f"{self.prefix}〔{self.year}〕{self.last:04d}"


class Notice(models.Model):
    """A decision notice with its document number (taken at first print, kept on reprints)."""

    class Kind(models.TextChoices):
        APPROVAL = "APPROVAL", "医疗救助待遇核定通知书"
        REFUSAL = "REFUSAL", "不予救助决定书"

    decision = models.OneToOneField(Decision, verbose_name="核定", on_delete=models.PROTECT, related_name="notice")
    kind = models.CharField("文书", max_length=10, choices=Kind.choices)
    year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveIntegerField("序号")
    doc_number = models.CharField("文号", max_length=60, unique=True)
    issued_on = models.DateField("落款日期")
    created_at = models.DateTimeField("编号时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "decision__town"
        on = "decision__settled_on"

    class Meta:
        verbose_name = "决定文书"
        verbose_name_plural = "决定文书"
        ordering = ["-year", "-number"]

    def __str__(self):
        return self.doc_number


@jobs.register
class NoticeBatch(BytesDeferredModel, models.Model):
    """Notices printed into one PDF by a Celery task; progress is committed as it goes. One notice
    printed from its bill's page is a batch of one (issue 14: never rendered in the web process).
    A ``read_only`` batch renders notices already issued, for a read-only role (审计): it takes no
    number and records no print."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "排队中"
        RUNNING = "RUNNING", "生成中"
        DONE = "DONE", "已完成"
        FAILED = "FAILED", "失败"

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decision_ids = models.JSONField("核定", default=list)
    read_only = models.BooleanField("只读查看（不编号、不记打印）", default=False)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField("已完成", default=0)
    progress_total = models.PositiveIntegerField("总数", default=0)
    pdf = models.BinaryField("PDF", null=True, editable=False)
    error = models.TextField("错误", blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)

    JOB = JobSpec(label="批量打印决定文书", task="claims.tasks.notice_batch", queued=Status.QUEUED, running=Status.RUNNING,
                  done=Status.DONE, failed=Status.FAILED, rerun_permission="claims.view_bill")
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    objects = BytesDeferredManager()  # the PDF is read by the download only (yfbz.core.bytes)

    class Meta:
        verbose_name = "批量打印"
        verbose_name_plural = "批量打印"
        base_manager_name = "objects"
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"批量打印{self.pk}（{self.progress_done}/{self.progress_total}）"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class NoticeBatchStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "batch"
    batch = models.ForeignKey(NoticeBatch, verbose_name="批量打印", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "批量打印状态记录"


class NoticeBatchPart(BytesDeferredModel, models.Model):
    """One chunk of a notice batch, rendered by its own Celery task (issue 14, jobs spread over
    workers). The coordinator numbers the chunk's notices and records their prints in the same
    transaction that creates this row, so a part that exists is numbered and printed; ``pdf`` is empty
    until a part task has rendered it. The last step merges the parts' PDFs in ``index`` order."""

    batch = models.ForeignKey(NoticeBatch, verbose_name="批量打印", on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField("序号")
    notice_ids = models.JSONField("文书", default=list)
    pdf = models.BinaryField("PDF", null=True, editable=False)
    pages = models.PositiveIntegerField("页数", default=0)
    rendered_at = models.DateTimeField("生成时间", null=True, blank=True)

    objects = BytesDeferredManager()  # the part's PDF is read by the merge only

    class Meta:
        verbose_name = "批量打印分段"
        verbose_name_plural = "批量打印分段"
        base_manager_name = "objects"
        ordering = ["batch", "index"]
        constraints = [models.UniqueConstraint(fields=["batch", "index"], name="notice_batch_part_unique")]

    def __str__(self):
        return f"批量打印{self.batch_id}第{self.index + 1}段"


class NoticePrint(models.Model):
    """Append-only: every print and reprint of a notice."""

    notice = models.ForeignKey(Notice, verbose_name="文书", on_delete=models.PROTECT, related_name="prints")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="打印人", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("打印时间", auto_now_add=True)
    reprint = models.BooleanField("重印", default=False)
    batch = models.ForeignKey(NoticeBatch, verbose_name="批量打印", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Scoping:
        town = "notice__decision__town"
        on = "notice__decision__settled_on"

    class Meta:
        verbose_name = "打印记录"
        verbose_name_plural = "打印记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.notice} {'重印' if self.reprint else '首印'}"


# --- one-stop settlement audit --------------------------------------------------------------------
class SettlementMonth(models.Model):
    """One institution's one-stop settlements of one month: OPEN while files come in and disputes are
    settled, CONFIRMED by a reviewer (the agreed total is then fixed and payable), PAID by funding."""

    class Status(models.TextChoices):
        OPEN = "OPEN", "审核中"
        CONFIRMED = "CONFIRMED", "已确认待支付"
        PAID = "PAID", "已支付"

    institution = models.ForeignKey(Institution, verbose_name="医疗机构", on_delete=models.PROTECT, related_name="settlement_months")
    month = models.DateField("结算月份", help_text="该月第一天")
    #: the allowed moves (yfbz.core.workflow.transition): a reviewer may reopen a confirmed month with a reason
    MOVES = {
        NEW: {Status.OPEN},
        Status.OPEN: {Status.CONFIRMED},
        Status.CONFIRMED: {Status.PAID, Status.OPEN},
        Status.PAID: set(),
    }
    REASON_REQUIRED = {(Status.CONFIRMED, Status.OPEN)}

    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    reopened = models.PositiveSmallIntegerField("重新打开次数", default=0, editable=False)
    agreed_total = money_field("确认支付总额")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    paid_on = models.DateField("支付日期", null=True, blank=True)

    class Meta:
        verbose_name = "一站式结算月度"
        verbose_name_plural = "一站式结算月度"
        ordering = ["-month", "institution_id"]
        constraints = [models.UniqueConstraint(fields=["institution", "month"], name="settlement_month_unique")]

    def __str__(self):
        return f"{self.institution.name} {self.month:%Y年%m月}"

    @property
    def source_key(self) -> str:
        """The payable of this confirmation: a month reopened and confirmed again is a new payable
        (``…:r1``), since the withdrawn line keeps the old key."""
        base = f"settlement:{self.institution.code}:{self.month:%Y-%m}"
        return f"{base}:r{self.reopened}" if self.reopened else base


class SettlementMonthStatusChange(StatusHistory):
    SUBJECT = "settlement_month"
    settlement_month = models.ForeignKey(SettlementMonth, verbose_name="结算月度", on_delete=models.PROTECT,
                                         related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "一站式结算月度状态记录"


@jobs.register
class SettlementFile(BytesDeferredModel, models.Model):
    """An institution's monthly settlement file, kept in the database. The same bytes are never
    imported twice (sha256 unique)."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "排队中"
        RUNNING = "RUNNING", "导入中"
        DONE = "DONE", "已导入"
        FAILED = "FAILED", "导入失败"

    settlement_month = models.ForeignKey(SettlementMonth, verbose_name="结算月度", on_delete=models.PROTECT, related_name="files")
    file_name = models.CharField("文件名", max_length=200)
    data = models.BinaryField("文件内容", editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("导入时间", auto_now_add=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField("错误", blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)
    lines_total = models.PositiveIntegerField("行数", default=0)
    lines_agreed = models.PositiveIntegerField("无异议", default=0)
    lines_disputed = models.PositiveIntegerField("有异议", default=0)
    advanced_total = money_field("机构垫付合计")
    agreed_total = money_field("无异议合计")

    objects = BytesDeferredManager()  # the bytes are read by the import only (yfbz.core.bytes)
    JOB = JobSpec(label="一站式结算文件导入", task="claims.tasks.settlement_import", queued=Status.QUEUED,
                  running=Status.RUNNING, done=Status.DONE, failed=Status.FAILED,
                  rerun_permission="claims.add_settlementfile")
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    class Meta:
        verbose_name = "一站式结算文件"
        verbose_name_plural = "一站式结算文件"
        base_manager_name = "objects"
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return self.file_name


class SettlementFileStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "file"
    file = models.ForeignKey(SettlementFile, verbose_name="一站式结算文件", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "一站式结算文件状态记录"


class SettlementFilePart(models.Model):
    """One chunk of a settlement file's audit (issue 14, jobs spread over workers): the lines of some
    people, read and checked by the coordinator (``rows``, as read), decided again by its own Celery
    task. Every line of a person is in one part, so a person's caps are consumed in one transaction,
    in date order; the part's lines, its cap additions and ``done_at`` commit together — a part whose
    worker was killed wrote nothing and runs again from the start. The last step adds the parts'
    figures up on the file and marks it imported."""

    file = models.ForeignKey(SettlementFile, verbose_name="文件", on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField("序号")
    rows = models.JSONField("明细（读取结果）", default=list, help_text="导入完成后清空")
    lines = models.PositiveIntegerField("行数", default=0)
    tries = models.PositiveSmallIntegerField("已尝试次数", default=0)
    lines_agreed = models.PositiveIntegerField("无异议", default=0)
    lines_disputed = models.PositiveIntegerField("有异议", default=0)
    advanced_total = money_field("机构垫付合计")
    agreed_total = money_field("无异议合计")
    caps_changed = models.PositiveIntegerField("更新年度限额行", default=0)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = BytesDeferredManager()  # select_related("file") leaves the file's bytes behind

    class Meta:
        verbose_name = "一站式结算文件分段"
        verbose_name_plural = "一站式结算文件分段"
        ordering = ["file", "index"]
        constraints = [models.UniqueConstraint(fields=["file", "index"], name="settlement_file_part_unique")]

    def __str__(self):
        return f"{self.file}第{self.index + 1}段"


@jobs.register
class PlatformSettlementFile(BytesDeferredModel, models.Model):
    """The city platform's monthly settlement detail (结算明细): one file for all institutions of a
    month, split by institution on import into one ``SettlementFile`` each (``claims.platform``).
    Lines of an institution we do not know wait here, listed for the administrator to add (with its
    level); splitting again after that imports them. Read and split by a background job
    (yfbz.core.jobs): the page stores the file and queues."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "排队中"
        RUNNING = "RUNNING", "拆分中"
        DONE = "DONE", "已拆分"
        FAILED = "FAILED", "拆分失败"

    month = models.DateField("结算月份", help_text="该月第一天")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField("错误", blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)
    file_name = models.CharField("文件名", max_length=200)
    data = models.BinaryField("文件内容", editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    content_sha256 = models.CharField("内容摘要", max_length=64, blank=True, db_index=True,
                                      help_text="各结算行（不计行序和标题）的摘要：同月内容相同的明细不再导入")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("导入时间", auto_now_add=True)
    reading = models.JSONField("读取情况", default=dict, help_text="表头所在行、使用和未使用的列")
    lines_total = models.PositiveIntegerField("行数", default=0)
    #: [{"code", "name", "file": SettlementFile id, "rows"}] of the institutions split off so far
    parts = models.JSONField("已拆分的机构", default=list)
    #: [{"name", "code", "rows", "advanced"}] of the institutions the file names that we do not know
    unknown = models.JSONField("待添加的机构", default=list)
    #: [{"period": "2025-02", "rows", "advanced", "first_row", "row_numbers"}]: lines whose 清算期 is another
    #: month than the upload's — flagged, never split into this month
    other_periods = models.JSONField("其他清算期的明细", default=list, blank=True)

    objects = BytesDeferredManager()  # the bytes are read by the split only (yfbz.core.bytes)
    JOB = JobSpec(label="平台结算明细拆分", task="claims.tasks.platform_split", queued=Status.QUEUED,
                  running=Status.RUNNING, done=Status.DONE, failed=Status.FAILED,
                  rerun_permission="claims.add_settlementfile",
                  extra_moves=((Status.DONE, Status.QUEUED),))  # 重新拆分 after institutions were added
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    class Meta:
        verbose_name = "平台结算明细"
        verbose_name_plural = "平台结算明细"
        base_manager_name = "objects"
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.file_name}（{self.month:%Y年%m月}）"

    def can_rerun_by(self, user) -> bool:
        """Only the one who uploaded the file reruns it (it is split in their name)."""
        return user.is_superuser or user.pk == self.uploaded_by_id


class PlatformSettlementFileStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "file"
    file = models.ForeignKey(PlatformSettlementFile, verbose_name="平台结算明细", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "平台结算明细状态记录"


class SettlementLine(models.Model):
    """One settlement of the file, decided again by the engine and sorted agreed / disputed."""

    class Outcome(models.TextChoices):
        AGREED = "AGREED", "无异议"
        DISPUTED = "DISPUTED", "有异议"

    class Dispute(models.TextChoices):
        NOT_ELIGIBLE = "NOT_ELIGIBLE", "结算日不符合救助条件"
        WRONG_RATIO = "WRONG_RATIO", "救助比例或金额不符"
        CAP_EXCEEDED = "CAP_EXCEEDED", "超过年度救助限额"
        UNKNOWN_PERSON = "UNKNOWN_PERSON", "查无此人"
        DUPLICATE = "DUPLICATE", "重复结算"

    class Resolution(models.TextChoices):
        PENDING = "", "待处理"
        ENGINE = "ENGINE", "按核定金额支付"
        ADVANCED = "ADVANCED", "按机构垫付金额支付"
        NONE = "NONE", "不予支付"

    # FK indexes that a composite index or unique constraint below already covers are left out: each
    # index costs time on every one of a 200,000-line import
    file = models.ForeignKey(SettlementFile, verbose_name="文件", on_delete=models.PROTECT, related_name="lines", db_index=False)
    settlement_month = models.ForeignKey(
        SettlementMonth, verbose_name="结算月度", on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    institution = models.ForeignKey(Institution, verbose_name="医疗机构", on_delete=models.PROTECT, related_name="+", db_index=False)
    line_no = models.PositiveIntegerField("行号")
    settlement_no = models.CharField("结算编号", max_length=60)
    person = models.ForeignKey(
        "beneficiaries.Person", verbose_name="人员", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # the town (and so the district, on the settlement date) the record was made under (docs/areas.md)
    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="所属镇街（结算日）", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # no index of its own: 200,000-line imports; lines are read by month
    )
    id_number = models.CharField("公民身份号码", max_length=40)
    name = models.CharField("姓名", max_length=50)
    kind = models.CharField("类型", max_length=10, choices=Bill.Kind.choices)
    disease = models.CharField("疾病", max_length=60, blank=True)
    admitted_on = models.DateField("入院日期", null=True, blank=True)
    settled_on = models.DateField("结算日期")
    total_cost = money_field("医疗总费用")
    in_policy_cost = money_field("政策范围内费用")
    basic_paid = money_field("基本医保支付")
    critical_paid = money_field("大病保险支付")
    # employees' large-amount insurance (大额报销金额): a layer before assistance, like critical-illness
    large_paid = money_field("职工大额医疗保险支付")
    # 倾斜救助: assistance the platform paid outside our schemes: recorded and shown, not decided here
    tilted_paid = money_field("倾斜救助（方案外）")
    advanced = money_field("机构垫付救助")
    scheme = models.CharField("核定方案", max_length=16, choices=Scheme.choices, blank=True)
    category = models.CharField("适用身份", max_length=30, blank=True)
    ratio = models.DecimalField("核定比例", max_digits=6, decimal_places=4, null=True, blank=True)
    decided = money_field("核定救助")
    difference = money_field("差额（垫付−核定）")
    reasons = models.JSONField("原因代码", default=list)
    policy_version = models.CharField("政策版本", max_length=80, blank=True)
    outcome = models.CharField("审核结果", max_length=10, choices=Outcome.choices)
    dispute = models.CharField("异议原因", max_length=16, choices=Dispute.choices, blank=True)
    dispute_text = models.TextField("异议说明", blank=True)
    # the platform's 救助身份 of the line, compared with ours on the settlement date (issue 18)
    platform_identity = models.CharField("救助身份（平台）", max_length=40, blank=True)
    identity_note = models.TextField("身份比对", blank=True, help_text="平台救助身份与我方结算日身份不一致时的说明；一致或未比对时为空")
    duplicate = models.BooleanField("重复行", default=False)
    resolution = models.CharField("处理结果", max_length=10, choices=Resolution.choices, blank=True, default="")
    resolution_note = models.TextField("处理说明", blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    payable = money_field("应付机构")
    retroactive_change = models.ForeignKey(
        "beneficiaries.RetroactiveChange", verbose_name="所因追溯身份变化", null=True, blank=True, on_delete=models.PROTECT,
        related_name="settlement_lines", db_index=False,
    )
    prior_payable = models.DecimalField(
        "重新审核前已确认金额", max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="已确认月份的明细因身份追溯变化重新成为异议时，此前确认支付机构的金额；处理后的差额向机构追回或补付",
    )

    objects = ScopedManager()

    class Scoping:
        # the record's own town and date (docs/areas.md)
        town = "town"
        on = "settled_on"

    class Meta:
        verbose_name = "一站式结算明细"
        verbose_name_plural = "一站式结算明细"
        ordering = ["file_id", "line_no"]
        indexes = [
            # (an index in the month page's order, (settlement month, file, line), was tried in the tenth round with
            # the one below and taken out again with it: with both the settlement audit on two workers took 33.4 and
            # 38.5 s where it took 26.7 and 27.9 s without; docs/scaling.md)
            models.Index(fields=["settlement_month", "outcome"]),
            # a town clerk's settlement months (those holding a line of their town) without reading every line
            # (87 ms at 700,000 lines, a sequential scan); its cost measured in the eleventh round: 200,000 lines
            # inserted in 3.29-3.44 s against 2.79-2.90 s without it (docs/scaling.md)
            models.Index(fields=["town", "settlement_month"], name="settlement_line_town_month"),
            models.Index(fields=["person", "settled_on"]),
            # an institution's lines of a month (the settlement pages' and exports' 医疗机构 + 结算月份 filter)
            models.Index(fields=["institution", "settled_on"], name="settlement_line_inst_day"),
            # the lines whose 救助身份 disagrees (few): their page counts them by town without reading every line
            models.Index(fields=["town", "settled_on"], condition=~Q(identity_note=""), name="settlement_line_identity_note"),
            # the admin's 异议原因 and 处理结果 filters find the few disputed or resolved lines in the list's order
            models.Index(fields=["file", "line_no"], condition=~Q(dispute=""), name="settlement_line_disputed"),
            models.Index(fields=["file", "line_no"], condition=~Q(resolution=""), name="settlement_line_resolved"),
            # the disputes still waiting (the reviewer's home page counts them; a month with one is not ready)
            models.Index(fields=["settlement_month"], condition=Q(outcome="DISPUTED", resolution=""),
                         name="settlement_line_dispute_open"),
        ]
        constraints = [
            # a settlement is paid once: one non-duplicate line per institution and settlement number
            models.UniqueConstraint(
                fields=["institution", "settlement_no"], condition=Q(duplicate=False), name="settlement_line_once"
            ),
            models.UniqueConstraint(fields=["file", "line_no"], name="settlement_line_no_unique"),
        ]

    def __str__(self):
        return f"第{self.line_no}行 {self.name} {self.settlement_no}"

    @property
    def pending(self) -> bool:
        return self.outcome == self.Outcome.DISPUTED and not self.resolution
