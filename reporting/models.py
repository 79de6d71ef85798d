"""The statistics' own tables (docs/statistics.md):

- ``Fact``: one narrow row per thing the statistics count — the latest approved decision of a
  hand-settled bill (historic ones included) or a one-stop settlement line of a confirmed month —
  with the cuts (town, scheme, category, level, kind, route) and the amounts in fen (integers: sums
  are exact on every database). Kept in step by ``reporting.build.refresh`` from the queue that
  the claims models' saves fill (``reporting.signals``).
- ``Aggregate``: the figures of every period of a year (each month, each quarter, the year) for
  every cut in ``reporting.cuts.GROUPINGS``, distinct people included. Pages, returns and the
  ``statistics`` command read only these rows: a page never scans decisions or facts.
- ``Presence``: per year and person, per month the cells of every cut the person appears in (sets
  of ``Cell`` numbers): the distinct people of a quarter and of the year, kept up to date a month at
  a time.
- ``RefreshQueue``: what changed since the last build (a bill, a settlement month).
- ``BuildState``: one row; locked while a build runs (one builder at a time) and saying when the
  figures were last brought up to date.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from yfbz.core.scoping import ScopedManager
from yfbz.core.workflow import NEW
from yfbz.core.workflow import StatusHistory as StatusHistoryBase


class Route(models.TextChoices):
    HAND = "HAND", "手工报销"
    ONE_STOP = "ONE_STOP", "一站式结算"


class Fact(models.Model):
    # unique (the build finds a fact by it), but without the second, LIKE index Django adds to a unique text
    # field on PostgreSQL: nothing searches a prefix of it, and every fact written paid for it (migration 0011)
    source_key = models.CharField("来源", max_length=40, help_text="bill:<票据id> 或 line:<结算明细id>")
    bill_id = models.BigIntegerField("票据", null=True, blank=True)
    settlement_month_id = models.BigIntegerField("结算月度", null=True, blank=True)
    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    settled_on = models.DateField("结算日期")
    # person, town and district as the decision or line recorded them: derived rows, written only by the
    # build from records whose own foreign keys hold them, so no constraint in the database (its check of
    # three rows per inserted fact at commit took ~4 s of a closed month arriving whole at full size);
    # PROTECT still holds for deletes through Django
    person = models.ForeignKey(
        "beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="镇街", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False, db_constraint=False,
    )
    # the district that governed the town on the settlement date (docs/areas.md): statistics by district
    district = models.ForeignKey(
        "areas.Area", verbose_name="区", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )
    route = models.CharField("结算方式", max_length=8, choices=Route.choices)
    scheme = models.CharField("救助方案", max_length=16, blank=True)
    category = models.CharField("身份类别", max_length=30, blank=True)
    level = models.PositiveSmallIntegerField("医疗机构等级")
    kind = models.CharField("类型", max_length=10)
    historic = models.BooleanField("原系统核定", default=False)
    total_cost = models.BigIntegerField("医疗总费用（分）")
    in_policy_cost = models.BigIntegerField("政策范围内费用（分）")
    self_pay = models.BigIntegerField("政策范围内个人自付（救助前，分）")
    assistance = models.BigIntegerField("医疗救助（分）")
    youfu = models.BigIntegerField("优抚对象医疗补助（分）")

    objects = ScopedManager()

    class Scoping:
        # the record's own town and date (docs/areas.md)
        town = "town"
        on = "settled_on"

    class Meta:
        verbose_name = "统计明细"
        verbose_name_plural = "统计明细"
        indexes = [
            # a month's facts, and one person's facts of a month (the build's presence, reporting.build)
            models.Index(fields=["year", "month", "person"], name="reporting_fact_month_person"),
            # a fact has a bill or a settlement month, never both: each index holds only the facts that have it
            # (a fact written updates one of the two, not both)
            models.Index(fields=["bill_id"], condition=models.Q(bill_id__isnull=False), name="reporting_fact_bill"),
            models.Index(fields=["settlement_month_id"], condition=models.Q(settlement_month_id__isnull=False),
                         name="reporting_fact_month_sm"),
        ]
        constraints = [models.UniqueConstraint(fields=["source_key"], name="reporting_fact_source_key_key")]

    def __str__(self):
        return self.source_key


class Aggregate(models.Model):
    """Figures of one period and one cell of one cut. ``period``: M01…M12, Q1…Q4 or Y; ``grouping``:
    a name of reporting.cuts.GROUPINGS ('' = the total); ``key1``/``key2``: the cell ('' = none)."""

    year = models.PositiveSmallIntegerField("年度")
    period = models.CharField("期间", max_length=3)
    grouping = models.CharField("分组", max_length=40, blank=True)
    key1 = models.CharField("分组值1", max_length=40, blank=True)
    key2 = models.CharField("分组值2", max_length=40, blank=True)
    people = models.PositiveIntegerField("救助人数", default=0)
    person_times = models.PositiveIntegerField("救助人次", default=0)
    amount = models.BigIntegerField("救助金额（分）", default=0)
    youfu_people = models.PositiveIntegerField("优抚补助人数", default=0)
    youfu_times = models.PositiveIntegerField("优抚补助人次", default=0)
    youfu_amount = models.BigIntegerField("优抚补助金额（分）", default=0)
    cases = models.PositiveIntegerField("核定人次（含未给予救助）", default=0)
    case_people = models.PositiveIntegerField("核定人数（含未给予救助）", default=0)
    total_cost = models.BigIntegerField("医疗总费用（分）", default=0)
    in_policy_cost = models.BigIntegerField("政策范围内费用（分）", default=0)
    self_pay_before = models.BigIntegerField("救助前政策范围内自付（分）", default=0)
    self_pay_after = models.BigIntegerField("救助后政策范围内自付（分）", default=0)
    built_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = "统计汇总"
        verbose_name_plural = "统计汇总"
        constraints = [
            models.UniqueConstraint(fields=["year", "period", "grouping", "key1", "key2"], name="aggregate_cell_unique")
        ]

    def __str__(self):
        return f"{self.year}{self.period} {self.grouping or '合计'} {self.key1} {self.key2}"


class Cell(models.Model):
    """A cell of a cut, numbered: (grouping, key1, key2) as ``Aggregate`` names it. The presence holds
    these numbers (four bytes a cell instead of three strings). Never deleted: a number keeps its cell."""

    # on PostgreSQL compared byte by byte (COLLATE "C", migration 0007), as the build joins the facts' keys
    grouping = models.CharField("分组", max_length=40, blank=True)
    key1 = models.CharField("分组值1", max_length=40, blank=True)
    key2 = models.CharField("分组值2", max_length=40, blank=True)

    class Meta:
        verbose_name = "统计分组单元"
        verbose_name_plural = "统计分组单元"
        constraints = [models.UniqueConstraint(fields=["grouping", "key1", "key2"], name="cell_unique")]

    def __str__(self):
        return f"{self.grouping or '合计'} {self.key1} {self.key2}"


class Signature(models.Model):
    """A fact's cells depend only on its scheme, category, town, district, level, kind and route (its
    signature, keys as ``Aggregate`` writes them): each signature met with the numbers of its cell of
    every cut (``cells``, in ``reporting.cuts.GROUPINGS`` order) and its (cell, kind) numbers, sorted
    (``seen`` any fact, ``paid`` paying assistance, ``youfu`` paying the veterans' subsidy: ``Cell`` number
    × 4 + kind). Made by the build the first time it meets the signature; never deleted or changed (a
    cell keeps its number). PostgreSQL only."""

    scheme = models.CharField("救助方案", max_length=40, blank=True)
    category = models.CharField("身份类别", max_length=40, blank=True)
    town_id = models.CharField("镇街", max_length=40, blank=True)
    district_id = models.CharField("区", max_length=40, blank=True)
    level = models.CharField("医疗机构等级", max_length=40, blank=True)
    kind = models.CharField("类型", max_length=40, blank=True)
    route = models.CharField("结算方式", max_length=40, blank=True)
    cells = ArrayField(models.IntegerField(), verbose_name="各分组单元")
    seen = ArrayField(models.IntegerField(), verbose_name="核定")
    paid = ArrayField(models.IntegerField(), verbose_name="救助")
    youfu = ArrayField(models.IntegerField(), verbose_name="优抚补助")

    class Meta:
        verbose_name = "统计明细特征"
        verbose_name_plural = "统计明细特征"
        constraints = [models.UniqueConstraint(
            fields=["scheme", "category", "town_id", "district_id", "level", "kind", "route"], name="signature_unique")]

    def __str__(self):
        return " ".join((self.scheme, self.category, self.town_id, self.district_id, self.level, self.kind, self.route))


def _month_field(month: int):
    return ArrayField(models.IntegerField(), default=list, blank=True, verbose_name=f"{month}月")


class Presence(models.Model):
    """Which months of a year a person appears in each cell of every cut (docs/statistics.md "Distinct
    people of a quarter and a year"): one row per (year, person) and, per month, the sorted set of the
    person's (cell, kind) numbers of that month — ``Cell`` number × 4 + kind, kind 0 any fact (核定),
    1 a fact paying assistance (救助), 2 a fact paying the veterans' subsidy (优抚补助). The people of a
    quarter or the year in a cell are the persons whose sets of the period's months hold the cell's
    number, so a month's build rewrites one set per person of the month and moves the quarter's and the
    year's counts by the difference of the unions (``reporting.build``, the ``intarray`` extension's
    set operations). A row left with no number is deleted. PostgreSQL only (other databases count from
    the facts)."""

    pk = models.CompositePrimaryKey("year", "person_id")
    year = models.PositiveSmallIntegerField("年度")
    person_id = models.BigIntegerField("人员")  # beneficiaries.Person, as on the facts it is derived from
    m01 = _month_field(1)
    m02 = _month_field(2)
    m03 = _month_field(3)
    m04 = _month_field(4)
    m05 = _month_field(5)
    m06 = _month_field(6)
    m07 = _month_field(7)
    m08 = _month_field(8)
    m09 = _month_field(9)
    m10 = _month_field(10)
    m11 = _month_field(11)
    m12 = _month_field(12)

    class Meta:
        verbose_name = "统计人员在册月份"
        verbose_name_plural = "统计人员在册月份"

    def __str__(self):
        return f"{self.year} {self.person_id}"


class PresenceYear(models.Model):
    """A year whose ``Presence`` rows are complete (written by a whole-year build): until then a build
    of one of its months rebuilds the year's presence from its facts first."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    built_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = "统计人员在册月份（年度）"
        verbose_name_plural = "统计人员在册月份（年度）"

    def __str__(self):
        return str(self.year)


class RefreshQueue(models.Model):
    source_key = models.CharField("变动来源", max_length=40)
    queued_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "统计待更新"
        verbose_name_plural = "统计待更新"

    def __str__(self):
        return self.source_key


class BuildState(models.Model):
    built_at = models.DateTimeField("统计更新时间", null=True, blank=True)
    seconds = models.FloatField("耗时（秒）", default=0)
    sources = models.PositiveIntegerField("本次计入的变动", default=0)

    class Meta:
        verbose_name = "统计更新状态"
        verbose_name_plural = "统计更新状态"

    def __str__(self):
        return f"{self.built_at}"


class SubsidyAggregate(models.Model):
    """Contribution subsidies of a year (资助参保), per cell of a cut: people with a subsidy above 0 and
    the amount, from funding.SubsidyResult (docs/statistics.md)."""

    year = models.PositiveSmallIntegerField("年度")
    grouping = models.CharField("分组", max_length=40, blank=True)
    key1 = models.CharField("分组值1", max_length=40, blank=True)
    key2 = models.CharField("分组值2", max_length=40, blank=True)
    people = models.PositiveIntegerField("资助人数", default=0)
    amount = models.BigIntegerField("资助金额（分）", default=0)
    built_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = "资助参保统计汇总"
        verbose_name_plural = "资助参保统计汇总"
        constraints = [
            models.UniqueConstraint(fields=["year", "grouping", "key1", "key2"], name="subsidy_aggregate_cell_unique")
        ]

    def __str__(self):
        return f"{self.year} {self.grouping or '合计'} {self.key1} {self.key2}"


# --- statutory returns -----------------------------------------------------------------------------
class StatReturn(models.Model):
    """A statutory return (统计报表) of one period: prepared by one member of staff, approved by another
    after its tie-out against the records and the ledger passed; an approved return is locked (its
    figures never change); a later correction is a new version that says what changed
    (docs/statistics.md "Returns"). Moves through yfbz.core.workflow."""

    class Kind(models.TextChoices):
        ASSISTANCE = "ASSISTANCE", "医疗救助统计表"
        SUBSIDY = "SUBSIDY", "资助参保统计表"
        FUNDS = "FUNDS", "医疗救助资金来源与使用情况表"

    class Status(models.TextChoices):
        PREPARED = "PREPARED", "已编制待审核"
        APPROVED = "APPROVED", "已审核（锁定）"
        SUPERSEDED = "SUPERSEDED", "已被更正版本取代"
        CANCELLED = "CANCELLED", "已作废"

    MOVES = {
        NEW: {Status.PREPARED},
        Status.PREPARED: {Status.APPROVED, Status.CANCELLED},
        Status.APPROVED: {Status.SUPERSEDED},
        Status.SUPERSEDED: set(),
        Status.CANCELLED: set(),
    }
    REASON_REQUIRED = {(Status.PREPARED, Status.CANCELLED)}

    kind = models.CharField("报表", max_length=12, choices=Kind.choices)
    year = models.PositiveSmallIntegerField("年度")
    period = models.CharField("期间", max_length=3, help_text="M01…M12 月报，Q1…Q4 季报")
    version = models.PositiveSmallIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PREPARED)
    figures = models.JSONField("报表数字", default=dict)
    tie_out = models.JSONField("勾稽核对结果", default=list)
    tie_out_ok = models.BooleanField("核对通过", default=False)
    tie_out_at = models.DateTimeField("核对时间", null=True, blank=True)
    changes = models.JSONField("较上一版本的变化", default=list, blank=True)
    correction_note = models.TextField("更正说明", blank=True)
    previous = models.OneToOneField(
        "self", verbose_name="更正的版本", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    unit = models.CharField("填报单位", max_length=100)
    responsible = models.CharField("单位负责人", max_length=50, blank=True)
    prepared_by = models.ForeignKey("core.User", verbose_name="填表人", on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField("编制时间", auto_now_add=True)
    approved_by = models.ForeignKey(
        "core.User", verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField("审核时间", null=True, blank=True)

    class Meta:
        verbose_name = "统计报表"
        verbose_name_plural = "统计报表"
        ordering = ["-year", "-period", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "period", "version"], name="stat_return_version_unique"),
            # one return of a kind and period in force at a time, and one draft
            models.UniqueConstraint(fields=["kind", "year", "period"], condition=models.Q(status="APPROVED"),
                                    name="stat_return_one_approved"),
            models.UniqueConstraint(fields=["kind", "year", "period"], condition=models.Q(status="PREPARED"),
                                    name="stat_return_one_draft"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period_zh} 第{self.version}版"

    @property
    def period_zh(self) -> str:
        from .cuts import Period

        return Period.from_code(self.year, self.period).zh


class StatReturnStatusChange(StatusHistoryBase):
    SUBJECT = "stat_return"
    stat_return = models.ForeignKey(StatReturn, verbose_name="统计报表", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistoryBase.Meta):
        verbose_name = "统计报表状态记录"
        verbose_name_plural = "统计报表状态记录"


# --- budgets and the fund risk warning ---------------------------------------------------------------
class FundBudget(models.Model):
    """A fund's budget for a year, by source (entered by finance on the 预算与预警 page)."""

    class Line(models.TextChoices):
        UPPER = "UPPER", "医疗救助资金 上级下拨"
        DISTRICT = "DISTRICT", "医疗救助资金 区本级安排"
        YOUFU = "YOUFU", "优抚对象医疗补助资金预算"

    FUND_OF = {"UPPER": "ASSISTANCE", "DISTRICT": "ASSISTANCE", "YOUFU": "YOUFU"}

    year = models.PositiveSmallIntegerField("年度")
    line = models.CharField("预算项目", max_length=10, choices=Line.choices)
    amount = models.DecimalField("年度预算（元）", max_digits=14, decimal_places=2)
    note = models.CharField("依据", max_length=200, blank=True)
    updated_by = models.ForeignKey("core.User", verbose_name="录入人", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField("录入时间", auto_now=True)

    class Meta:
        verbose_name = "资金年度预算"
        verbose_name_plural = "资金年度预算"
        ordering = ["-year", "line"]
        constraints = [models.UniqueConstraint(fields=["year", "line"], name="fund_budget_year_line")]

    def __str__(self):
        return f"{self.year} {self.get_line_display()} {self.amount}"

    @property
    def fund(self) -> str:
        return self.FUND_OF[self.line]


class WarningRule(models.Model):
    """A threshold of the fund risk warning, as dated data (an administrator adds a new row to change it)."""

    class Key(models.TextChoices):
        DEVIATION = "DEVIATION", "支出进度偏离预算进度超过（比例）"
        RUN_OUT_MONTH = "RUN_OUT_MONTH", "预计资金用尽早于（月份，12为年底）"

    key = models.CharField("项目", max_length=20, choices=Key.choices)
    value = models.DecimalField("数值", max_digits=8, decimal_places=4)
    effective_from = models.DateField("生效日期")
    source = models.CharField("依据", max_length=200)

    class Meta:
        verbose_name = "资金风险预警阈值"
        verbose_name_plural = "资金风险预警阈值"
        ordering = ["key", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["key", "effective_from"], name="warning_rule_key_date")]

    def __str__(self):
        return f"{self.get_key_display()} {self.value}（{self.effective_from}起）"
