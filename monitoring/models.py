"""High-cost monitoring (高额医疗费用监测, POLICY.md §15; docs/monitoring.md).

- ``HighCostImport``: one monthly export of the city platform, imported once (same bytes refused).
- ``HighCostRow``: its settlement rows (written by COPY), each with its burden (D10) and, for a
  recipient, what the engine would have paid as assistance (deciding the row as a one-stop line).
- ``PersonYearBurden``: each person's year-to-date burden and in-policy self-pay (D11), by ID number
  (residents with no identity are not in ``beneficiaries.Person``).
- ``SelfPayMonth``: the indicator's month totals (recipients' rows by month, category and town).
- ``Alert``: 应救未救 / 负担仍重 / 疑似因病致贫返贫 with the figures that raised it; followed up by the
  person's town (workflow: ``MOVES``; history ``AlertStatusChange``).
- ``BurdenThreshold`` / ``DisposableIncome``: the thresholds H and S as dated policy rows (D13),
  shipped PROVISIONAL.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from claims.models import money_field
from yfbz.core.bytes import BytesDeferredModel
from yfbz.core.scoping import ScopedManager
from yfbz.core.workflow import NEW, StatusHistory
from yfbz.policy.models import PolicyRecord, _check_nonneg, _check_ratio

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class AlertKind(models.TextChoices):
    YJWJ = "YJWJ", "应救未救"
    FDZZ = "FDZZ", "负担仍重"
    YBZP = "YBZP", "疑似因病致贫返贫"


# --- thresholds: dated policy data (D13) ----------------------------------------------------------
class BurdenThreshold(PolicyRecord):
    """Threshold H (负担仍重) or S (疑似因病致贫返贫) of the year-to-date burden, in force from a date:
    a fixed amount, or a share of last year's per-capita disposable income of residents
    (``DisposableIncome``) — the amount applies while that year's income is not entered."""

    SECTION = "monitoring"
    KEY_FIELDS = ("alert",)
    alert = models.CharField("预警", max_length=4, choices=[(AlertKind.FDZZ, AlertKind.FDZZ.label), (AlertKind.YBZP, AlertKind.YBZP.label)])
    amount = money_field("金额标准", help_text="年度个人负担达到该金额即预警；按收入比例计算时作为上年收入未录入时的标准。")
    income_share = models.DecimalField(
        "占上年居民人均可支配收入比例", max_digits=6, decimal_places=4, null=True, blank=True,
        help_text="如填写：标准 = 该比例 × 上年居民人均可支配收入（须已录入）。",
    )

    class Meta(PolicyRecord.Meta):
        verbose_name = "监测预警标准"
        verbose_name_plural = "监测预警标准"
        constraints = [models.UniqueConstraint(fields=["alert", "effective_from"], name="burden_threshold_alert_date")]

    def __str__(self) -> str:
        how = f"上年居民人均可支配收入的{self.income_share * 100:g}%" if self.income_share is not None else f"{self.amount:,.2f}元"
        return f"{self.get_alert_display()}：{how}（{self.effective_from}起，{self.get_status_display()}）"

    def record_fields(self) -> dict:
        return {"alert": self.alert, "amount": self.amount, "income_share": self.income_share}

    def validate_fields(self, errors: dict) -> None:
        _check_nonneg(self.amount, "amount", errors)
        _check_ratio(self.income_share, "income_share", errors)


class DisposableIncome(PolicyRecord):
    """The per-capita disposable income of residents of a year (统计公报), the base of a share threshold."""

    SECTION = "monitoring"
    KEY_FIELDS = ("year",)
    year = models.PositiveSmallIntegerField("年度")
    amount = money_field("居民人均可支配收入")

    class Meta(PolicyRecord.Meta):
        verbose_name = "居民人均可支配收入"
        verbose_name_plural = "居民人均可支配收入"
        constraints = [models.UniqueConstraint(fields=["year", "effective_from"], name="disposable_income_year_date")]

    def __str__(self) -> str:
        return f"{self.year}年居民人均可支配收入{self.amount:,.2f}元"

    def record_fields(self) -> dict:
        return {"year": self.year, "amount": self.amount}

    def validate_fields(self, errors: dict) -> None:
        _check_nonneg(self.amount, "amount", errors)


# --- imports --------------------------------------------------------------------------------------
class HighCostImport(models.Model):
    month = models.DateField("月份", help_text="该月第一天")
    file_name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("文件指纹", max_length=64, db_index=True)
    reading = models.JSONField("读取说明", default=dict, blank=True)
    rows = models.PositiveIntegerField("行数", default=0)
    valid = models.PositiveIntegerField("有效行", default=0)
    invalid = models.PositiveIntegerField("无效行", default=0)
    duplicates = models.PositiveIntegerField("重复行", default=0)
    people = models.PositiveIntegerField("人数", default=0)
    alerts = models.JSONField("新增预警", default=dict, blank=True)
    errors = models.JSONField("错误", default=list, blank=True)
    warnings = models.JSONField("提示", default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "高额医疗费用明细导入"
        verbose_name_plural = "高额医疗费用明细导入"
        ordering = ["-month", "-id"]

    def __str__(self) -> str:
        return f"{self.month:%Y年%m月}高额医疗费用明细（{self.file_name}）"


class HighCostRow(models.Model):
    """One settlement of the export. ``assistance_paid`` includes tilted assistance (倾斜救助)."""

    class Kind(models.TextChoices):
        INPATIENT = "INPATIENT", "住院"
        OUTPATIENT = "OUTPATIENT", "门诊"

    # No database foreign-key constraints on the rows and the year burdens (written a million at a time by
    # COPY: the per-row trigger events at commit cost as much as the COPY itself); the import locks every
    # town, institution and person referred to FOR KEY SHARE once and checks they exist
    # (importing._lock_referenced), and PROTECT still refuses deletes through Django.
    high_cost_import = models.ForeignKey(HighCostImport, verbose_name="导入", on_delete=models.PROTECT, related_name="lines", db_index=False,
                                         db_constraint=False)
    row_number = models.PositiveIntegerField("行号")
    settlement_no = models.CharField("结算编号", max_length=60)  # unique: Meta (no second, LIKE index)
    id_number = models.CharField("公民身份号码", max_length=18)
    name = models.CharField("姓名", max_length=50)
    person = models.ForeignKey(
        "beneficiaries.Person", verbose_name="人员", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    town = models.ForeignKey("beneficiaries.Town", verbose_name="所属镇街", on_delete=models.PROTECT, related_name="+", db_index=False,
                             db_constraint=False)
    settled_on = models.DateField("结算日期")
    year = models.PositiveSmallIntegerField("年度")
    institution = models.ForeignKey(
        "claims.Institution", verbose_name="医疗机构", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    institution_text = models.CharField("医疗机构（文件中）", max_length=120, blank=True)
    level = models.PositiveSmallIntegerField("机构等级", default=0)
    kind = models.CharField("就诊类型", max_length=10, choices=Kind.choices)
    disease = models.CharField("疾病名称", max_length=60, blank=True)
    total_cost = money_field("医疗总费用")
    in_policy_cost = money_field("政策范围内费用")
    basic_paid = money_field("基本医保支付")
    critical_paid = money_field("大病保险支付")
    large_paid = money_field("职工大额医疗保险支付")
    assistance_paid = money_field("医疗救助支付（含倾斜救助）")
    youfu_paid = money_field("优抚补助支付")
    other_paid = money_field("其他支付（扶贫济困、渝快保）")
    burden = money_field("个人负担")
    self_pay_before = money_field("政策范围内自付（救助前）")
    self_pay_after = money_field("政策范围内自付（救助后）")
    engine_assistance = money_field("按政策应付医疗救助")
    scheme = models.CharField("救助方案", max_length=16, blank=True)
    category = models.CharField("适用身份", max_length=30, blank=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        department = "person__identities__category__department"

    class Meta:
        verbose_name = "高额医疗费用结算"
        verbose_name_plural = "高额医疗费用结算"
        constraints = [models.UniqueConstraint(fields=["settlement_no"], name="highcost_row_settlement_once")]
        indexes = [models.Index(fields=["id_number", "year"], name="highcost_row_person_year"),
                   models.Index(fields=["high_cost_import", "row_number"], name="highcost_row_import")]

    def __str__(self) -> str:
        return f"{self.settlement_no} {self.name}"


class PersonYearBurden(models.Model):
    """A person's year-to-date burden (D11) and in-policy self-pay: every imported row and every
    approved hand-settled bill of the calendar year."""

    id_number = models.CharField("公民身份号码", max_length=18)
    year = models.PositiveSmallIntegerField("年度")
    name = models.CharField("姓名", max_length=50)
    person = models.ForeignKey(
        "beneficiaries.Person", verbose_name="人员", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    town = models.ForeignKey("beneficiaries.Town", verbose_name="所属镇街", on_delete=models.PROTECT, related_name="+", db_index=False,
                             db_constraint=False)
    burden = money_field("年度个人负担")
    bills_burden = money_field("其中本系统手工报销的个人负担")
    self_pay_before = money_field("年度政策范围内自付（救助前）")
    self_pay_after = money_field("年度政策范围内自付（救助后）")
    in_policy_cost = money_field("年度政策范围内费用")
    settlements = models.PositiveIntegerField("结算次数", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        department = "person__identities__category__department"

    class Meta:
        verbose_name = "年度个人负担"
        verbose_name_plural = "年度个人负担"
        constraints = [models.UniqueConstraint(fields=["id_number", "year"], name="person_year_burden_once")]

    def __str__(self) -> str:
        return f"{self.name} {self.year}年个人负担{self.burden:,.2f}元"


class SelfPayMonth(models.Model):
    """The indicator's month totals (issue 12 item 5): recipients' high-cost rows summed by settlement
    month, category and town, added by each import in its transaction (``indicator.add_import``), so
    that a page reads a few hundred cells, never a year of rows. Equal to the rows by construction;
    ``indicator.rebuild_months`` (``python manage.py rebuild_self_pay``) makes them again from the rows."""

    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    category = models.CharField("适用身份", max_length=30)
    town = models.ForeignKey("beneficiaries.Town", verbose_name="所属镇街", on_delete=models.PROTECT, related_name="+")
    settlements = models.PositiveIntegerField("结算笔数", default=0)
    in_policy_cost = money_field("政策范围内费用")
    self_pay_before = money_field("政策范围内自付（救助前）")
    self_pay_after = money_field("政策范围内自付（救助后）")

    objects = ScopedManager()

    class Scoping:
        town = "town"

    class Meta:
        verbose_name = "救助对象自付比例月度合计"
        verbose_name_plural = "救助对象自付比例月度合计"
        constraints = [models.UniqueConstraint(fields=["year", "month", "category", "town"], name="self_pay_month_once")]

    def __str__(self) -> str:
        return f"{self.year}年{self.month}月 {self.category} 结算{self.settlements}笔"


class Alert(models.Model):
    """One warning with the figures that raised it (``figures``: Chinese label → value as text)."""

    class Status(models.TextChoices):
        OPEN = "OPEN", "待跟进"
        FOLLOWING = "FOLLOWING", "跟进中"
        REFERRED = "REFERRED", "已转部门认定"
        CLOSED = "CLOSED", "已办结"

    #: the town's actions move an alert (monitoring.followup); a department's outcome returns a
    #: referred alert to the town (FOLLOWING), which then closes it
    MOVES = {
        NEW: {Status.OPEN},
        Status.OPEN: {Status.FOLLOWING, Status.REFERRED, Status.CLOSED},
        Status.FOLLOWING: {Status.FOLLOWING, Status.REFERRED, Status.CLOSED},
        Status.REFERRED: {Status.FOLLOWING},
        Status.CLOSED: set(),
    }
    OPEN_STATUSES = (Status.OPEN, Status.FOLLOWING)

    # No database foreign-key constraints on the references an import writes (a month raises a quarter of a
    # million alerts: five trigger checks each at commit cost seconds); the import locks the towns and people
    # FOR KEY SHARE once and checks they exist (importing._lock_referenced), the rows and the import are its
    # own, and PROTECT still refuses deletes through Django. The history keeps its constraint on the alert.
    kind = models.CharField("预警类型", max_length=4, choices=AlertKind.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    id_number = models.CharField("公民身份号码", max_length=18)
    name = models.CharField("姓名", max_length=50)
    person = models.ForeignKey(
        "beneficiaries.Person", verbose_name="人员", null=True, blank=True, on_delete=models.PROTECT, related_name="monitoring_alerts",
        db_constraint=False,
    )
    town = models.ForeignKey("beneficiaries.Town", verbose_name="所属镇街", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    year = models.PositiveSmallIntegerField("年度")
    row = models.ForeignKey(HighCostRow, verbose_name="结算", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts",
                            db_constraint=False)
    burden = money_field("年度个人负担")
    threshold = models.DecimalField("预警标准", max_digits=14, decimal_places=2, null=True, blank=True)
    expected = money_field("按政策应付医疗救助")
    figures = models.JSONField("预警依据", default=dict)
    raised_by_import = models.ForeignKey(HighCostImport, verbose_name="产生于导入", on_delete=models.PROTECT, related_name="+",
                                         db_constraint=False)
    updated_by_import = models.ForeignKey(HighCostImport, verbose_name="最近更新于导入", on_delete=models.PROTECT, related_name="+",
                                          db_constraint=False)
    due_on = models.DateField("跟进期限", null=True, blank=True)
    created_at = models.DateTimeField("产生时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        department = "person__identities__category__department"

    class Meta:
        verbose_name = "监测预警"
        verbose_name_plural = "监测预警"
        ordering = ["-created_at", "-id"]
        constraints = [
            # D12: one 负担仍重 / 疑似因病致贫返贫 per person and year; 应救未救 once per settlement row
            models.UniqueConstraint(fields=["kind", "id_number", "year"], condition=~Q(kind="YJWJ"), name="alert_once_per_person_year"),
            models.UniqueConstraint(fields=["row"], condition=Q(kind="YJWJ"), name="alert_once_per_row"),
        ]
        indexes = [models.Index(fields=["id_number", "year"], name="alert_person_year")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.name}（{self.year}年）"

    @property
    def late(self) -> bool:
        """Not closed (nor waiting for a department) and past its deadline."""
        from django.utils import timezone

        return self.status in self.OPEN_STATUSES and self.due_on is not None and self.due_on < timezone.localdate()


class AlertStatusChange(StatusHistory):
    SUBJECT = "alert"
    alert = models.ForeignKey(Alert, verbose_name="预警", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "alert__town"

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "监测预警状态记录"


# --- the follow-up loop ---------------------------------------------------------------------------
class FollowUp(models.Model):
    """What the town did about an alert, with the date it was done (append-only: a new action is a new row)."""

    class Action(models.TextChoices):
        CONTACTED = "CONTACTED", "已联系"
        HELPED_APPLY = "HELPED_APPLY", "已协助申请救助"
        REFERRED = "REFERRED", "已转部门认定"
        NOT_ELIGIBLE = "NOT_ELIGIBLE", "经核实不符合条件"
        DECLINED = "DECLINED", "本人拒绝"
        UNREACHABLE = "UNREACHABLE", "无法联系"

    alert = models.ForeignKey(Alert, verbose_name="预警", on_delete=models.PROTECT, related_name="follow_ups")
    action = models.CharField("跟进措施", max_length=14, choices=Action.choices)
    done_on = models.DateField("办理日期")
    note = models.TextField("情况说明", blank=True)
    department = models.ForeignKey(
        "beneficiaries.Department", verbose_name="转至部门", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "alert__town"

    class Meta:
        verbose_name = "预警跟进记录"
        verbose_name_plural = "预警跟进记录"
        ordering = ["done_on", "id"]

    def __str__(self) -> str:
        return f"{self.done_on} {self.get_action_display()}"


class Referral(models.Model):
    """A person referred to a certifying department (from an alert, or from an application for a
    person not yet certified); the department's officer records the outcome."""

    class Status(models.TextChoices):
        WAITING = "WAITING", "待部门认定"
        CERTIFIED = "CERTIFIED", "已认定"
        NOT_CERTIFIED = "NOT_CERTIFIED", "不予认定"

    MOVES = {
        NEW: {Status.WAITING},
        Status.WAITING: {Status.CERTIFIED, Status.NOT_CERTIFIED},
        Status.CERTIFIED: set(),
        Status.NOT_CERTIFIED: set(),
    }
    REASON_REQUIRED = {(Status.WAITING, Status.NOT_CERTIFIED)}

    alert = models.ForeignKey(Alert, verbose_name="预警", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    application = models.ForeignKey("Application", verbose_name="救助申请", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="referrals")
    department = models.ForeignKey("beneficiaries.Department", verbose_name="认定部门", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("beneficiaries.Town", verbose_name="所属镇街", on_delete=models.PROTECT, related_name="+")
    id_number = models.CharField("公民身份号码", max_length=18)
    name = models.CharField("姓名", max_length=50)
    person = models.ForeignKey(
        "beneficiaries.Person", verbose_name="人员", null=True, blank=True, on_delete=models.PROTECT, related_name="monitoring_referrals"
    )
    status = models.CharField("状态", max_length=14, choices=Status.choices, default=Status.WAITING)
    referred_on = models.DateField("转介日期")
    due_on = models.DateField("认定期限")
    note = models.TextField("转介说明", blank=True)
    certified_from = models.DateField("认定起始日期", null=True, blank=True)
    category = models.ForeignKey(
        "beneficiaries.Category", verbose_name="认定身份类别", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome_reason = models.TextField("认定结果说明", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="认定结果登记人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField("认定结果日期", null=True, blank=True)
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="转介人", on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Scoping:
        town = "town"
        department = "department"

    class Meta:
        verbose_name = "转部门认定"
        verbose_name_plural = "转部门认定"
        ordering = ["-referred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.name}转{self.department}认定（{self.get_status_display()}）"

    @property
    def late(self) -> bool:
        from django.utils import timezone

        return self.status == self.Status.WAITING and self.due_on < timezone.localdate()


class ReferralStatusChange(StatusHistory):
    SUBJECT = "referral"
    referral = models.ForeignKey(Referral, verbose_name="转介", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "referral__town"
        department = "referral__department"

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "转部门认定状态记录"


def round_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- deadlines: dated policy data -----------------------------------------------------------------
class DeadlineRule(PolicyRecord):
    """How many working days (official calendar) a step of the loop or of an application may take,
    in force from a date (监测与依申请救助办理时限). Shipped PROVISIONAL (migration 0004)."""

    class Step(models.TextChoices):
        ALERT_FOLLOW_UP = "ALERT_FOLLOW_UP", "镇街跟进预警"
        REFERRAL = "REFERRAL", "部门认定转介"
        APP_TOWN_REVIEW = "APP_TOWN_REVIEW", "镇街审核申请资料"
        APP_DISTRICT = "APP_DISTRICT", "区医保局审批申请"

    SECTION = "monitoring"
    KEY_FIELDS = ("step",)
    step = models.CharField("办理环节", max_length=16, choices=Step.choices)
    working_days = models.PositiveSmallIntegerField("时限（工作日）")

    class Meta(PolicyRecord.Meta):
        verbose_name = "监测与申请办理时限"
        verbose_name_plural = "监测与申请办理时限"
        constraints = [models.UniqueConstraint(fields=["step", "effective_from"], name="deadline_rule_step_date")]

    def __str__(self) -> str:
        return f"{self.get_step_display()}：{self.working_days}个工作日（{self.effective_from}起，{self.get_status_display()}）"

    def record_fields(self) -> dict:
        return {"step": self.step, "working_days": self.working_days}

    def validate_fields(self, errors: dict) -> None:
        if self.working_days is not None and self.working_days < 1:
            errors["working_days"] = "时限至少为1个工作日。"


# --- assistance on application (依申请救助) ----------------------------------------------------------
class Application(models.Model):
    """An application for assistance (依申请救助, 2号 五(二)(三)): registered by the person's town (on
    their behalf if need be: 委托代办) with the bill, the papers and the reason; the town reviews the
    papers (资料审核) and sends it to the district — or, for a person not certified on the bill's date,
    to a department as a referral first; the district clerk gives an opinion and a district reviewer
    (another person) decides. A granted application becomes a hand-settled bill (claims) that goes the
    normal way: decided by the engine, approved by a reviewer, notice."""

    class Status(models.TextChoices):
        REGISTERED = "REGISTERED", "待镇街审核资料"
        INCOMPLETE = "INCOMPLETE", "资料待补正"
        REFERRED = "REFERRED", "待部门认定身份"
        SUBMITTED = "SUBMITTED", "待区医保局初审"
        PROPOSED = "PROPOSED", "待区医保局审批"
        GRANTED = "GRANTED", "已批准（转入报销核定）"
        # after the grant the application follows its bill (claims.services.bill_set_status → follow_bill)
        DECIDED = "DECIDED", "已批准，报销已核定待审批"
        APPROVED = "APPROVED", "已批准，报销已审批待支付"
        BILL_REFUSED = "BILL_REFUSED", "已批准，报销核定不予救助"
        PAID = "PAID", "已批准，救助金已支付"
        REFUSED = "REFUSED", "不予救助"
        CLOSED = "CLOSED", "部门不予认定，已终止"
        WITHDRAWN = "WITHDRAWN", "已撤回"

    S = Status
    MOVES = {
        NEW: {S.REGISTERED},
        S.REGISTERED: {S.SUBMITTED, S.INCOMPLETE, S.REFERRED, S.WITHDRAWN},
        S.INCOMPLETE: {S.REGISTERED, S.WITHDRAWN},
        S.REFERRED: {S.REGISTERED, S.CLOSED},
        S.SUBMITTED: {S.PROPOSED, S.INCOMPLETE},
        S.PROPOSED: {S.GRANTED, S.REFUSED, S.SUBMITTED},
        # the bill's moves (Bill.MOVES), mirrored: entered → decided → approved/refused → paid; re-decided or sent back
        S.GRANTED: {S.DECIDED},
        S.DECIDED: {S.GRANTED, S.APPROVED, S.BILL_REFUSED},
        S.APPROVED: {S.PAID, S.DECIDED},
        S.BILL_REFUSED: {S.DECIDED},
        S.PAID: {S.DECIDED},
        S.REFUSED: set(), S.CLOSED: set(), S.WITHDRAWN: set(),
    }
    #: an application granted: its status is its bill's (Bill.Status → Application.Status)
    FOLLOWS_BILL = {"ENTERED": S.GRANTED, "DECIDED": S.DECIDED, "APPROVED": S.APPROVED, "REFUSED": S.BILL_REFUSED,
                    "PAID": S.PAID}
    REASON_REQUIRED = {
        (S.REGISTERED, S.INCOMPLETE), (S.SUBMITTED, S.INCOMPLETE), (S.REGISTERED, S.WITHDRAWN),
        (S.INCOMPLETE, S.WITHDRAWN), (S.PROPOSED, S.REFUSED), (S.PROPOSED, S.SUBMITTED), (S.REFERRED, S.CLOSED),
    }
    #: who acts next, by status: the town (review, papers), the department, the district clerk, the reviewer
    WAITING_TOWN = (S.REGISTERED, S.INCOMPLETE)
    WAITING_DISTRICT = (S.SUBMITTED, S.PROPOSED)
    OPEN_STATUSES = (S.REGISTERED, S.INCOMPLETE, S.REFERRED, S.SUBMITTED, S.PROPOSED)

    class Opinion(models.TextChoices):
        GRANT = "GRANT", "建议给予救助"
        REFUSE = "REFUSE", "建议不予救助"

    person = models.ForeignKey("beneficiaries.Person", verbose_name="申请人", on_delete=models.PROTECT,
                               related_name="monitoring_applications")
    town = models.ForeignKey("beneficiaries.Town", verbose_name="受理镇街", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.REGISTERED)
    on_behalf = models.BooleanField("委托代办", default=False)
    agent_name = models.CharField("代办人姓名", max_length=50, blank=True)
    agent_relation = models.CharField("代办人与申请人关系", max_length=30, blank=True)
    reason = models.TextField("申请事由")
    alert = models.ForeignKey(Alert, verbose_name="来源预警", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="applications")
    # the bill applied for (becomes a claims.Bill when granted)
    institution = models.ForeignKey("claims.Institution", verbose_name="医疗机构", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=10, choices=HighCostRow.Kind.choices)
    disease = models.CharField("疾病（重特大疾病目录名称）", max_length=60, blank=True)
    admitted_on = models.DateField("入院日期", null=True, blank=True)
    settled_on = models.DateField("结算日期")
    total_cost = money_field("医疗总费用")
    in_policy_cost = money_field("政策范围内费用")
    basic_paid = money_field("基本医保支付")
    critical_paid = money_field("大病保险支付")
    account_holder = models.CharField("收款人", max_length=50, blank=True)
    bank_name = models.CharField("开户银行", max_length=80, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    # the steps, each dated
    registered_on = models.DateField("登记日期")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="资料审核人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_on = models.DateField("资料审核日期", null=True, blank=True)
    opinion = models.CharField("初审意见", max_length=8, choices=Opinion.choices, blank=True)
    opinion_note = models.TextField("初审说明", blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="初审人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    proposed_on = models.DateField("初审日期", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField("审批日期", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    bill = models.OneToOneField("claims.Bill", verbose_name="报销票据", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="monitoring_application")
    due_on = models.DateField("本环节办理期限", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        department = "person__identities__category__department"

    class Meta:
        verbose_name = "依申请救助"
        verbose_name_plural = "依申请救助"
        ordering = ["-registered_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(in_policy_cost__lte=models.F("total_cost")), name="application_in_policy_le_total",
                                   violation_error_message="政策范围内费用不能大于医疗总费用。"),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}的医疗救助申请（{self.registered_on}）"

    @property
    def late(self) -> bool:
        from django.utils import timezone

        return (self.status in self.OPEN_STATUSES and self.status != self.S.REFERRED and self.due_on is not None
                and self.due_on < timezone.localdate())


class ApplicationStatusChange(StatusHistory):
    SUBJECT = "application"
    application = models.ForeignKey(Application, verbose_name="申请", on_delete=models.PROTECT, related_name="status_changes")

    class Scoping:
        town = "application__town"

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "依申请救助状态记录"


class ApplicationPaper(BytesDeferredModel, models.Model):
    """A scanned paper of an application (PDF, JPEG or PNG, checked by its bytes)."""

    application = models.ForeignKey(Application, verbose_name="申请", on_delete=models.PROTECT, related_name="papers")
    file_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    data = models.BinaryField("内容", editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "application__town"

    class Meta:
        verbose_name = "申请资料扫描件"
        verbose_name_plural = "申请资料扫描件"
        base_manager_name = "objects"
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return self.file_name
