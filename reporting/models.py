"""The statistics' own tables (docs/statistics.md):

- ``Fact``: one narrow row per thing the statistics count — the latest approved decision of a
  hand-settled bill (historic ones included) or a one-stop settlement line of a confirmed month —
  with the cuts (town, scheme, category, level, kind, route) and the amounts in fen (integers: sums
  are exact on every database). Kept in step by ``reporting.build.refresh`` from the queue that
  the claims models' saves fill (``reporting.signals``).
- ``Aggregate``: the figures of every period of a year (each month, each quarter, the year) for
  every cut in ``reporting.cuts.GROUPINGS``, distinct people included. Pages, returns and the
  ``statistics`` command read only these rows: a page never scans decisions or facts.
- ``RefreshQueue``: what changed since the last build (a bill, a settlement month).
- ``BuildState``: one row; locked while a build runs (one builder at a time) and saying when the
  figures were last brought up to date.
"""

from django.db import models

from yfbz.core.scoping import ScopedManager


class Route(models.TextChoices):
    HAND = "HAND", "手工报销"
    ONE_STOP = "ONE_STOP", "一站式结算"


class Fact(models.Model):
    source_key = models.CharField("来源", max_length=40, unique=True, help_text="bill:<票据id> 或 line:<结算明细id>")
    bill_id = models.BigIntegerField("票据", null=True, blank=True)
    settlement_month_id = models.BigIntegerField("结算月度", null=True, blank=True)
    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份")
    settled_on = models.DateField("结算日期")
    person = models.ForeignKey(
        "beneficiaries.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="镇街", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    # the district that governed the town on the settlement date (docs/areas.md): statistics by district
    district = models.ForeignKey(
        "areas.Area", verbose_name="区", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
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
        town = "town"

    class Meta:
        verbose_name = "统计明细"
        verbose_name_plural = "统计明细"
        indexes = [
            models.Index(fields=["year", "month"]),
            models.Index(fields=["bill_id"]),
            models.Index(fields=["settlement_month_id"]),
        ]

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
