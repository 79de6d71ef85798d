"""Areas as a dated tree (docs/areas.md): city → district → town (镇街).

- ``Area``: the city, its districts, and named sets of towns (镇街组合, e.g. 原渝北区镇街) that a
  policy can apply to.
- ``TownDistrict``: which district governed a town between two dates. A town has at most one
  district on a day, so "which district governed this town on this day" has one answer.
- ``Bureau``: the bureau that runs this installation, as from a date: its name, document-number
  prefix, site title, the body that hears reconsiderations, and the district it serves (its
  jurisdiction on a day is the set of towns under that district on that day). A rename is a new
  row with its date; a notice printed earlier keeps the name it was printed with.

Changed through ``yfbz.areas.services`` (moves, arrivals, imports) or the admin (reference data, by
the system administrator); read through ``yfbz.areas.tree`` (one cached snapshot per revision).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from yfbz.core.params import FIRST

#: the start of "always": spans carried over from before areas were dated begin here
DATE_MIN = FIRST  # an open start: the first plausible date (yfbz.core.params)


class Area(models.Model):
    class Kind(models.TextChoices):
        CITY = "CITY", "市"
        DISTRICT = "DISTRICT", "区"
        GROUP = "GROUP", "镇街组合"

    code = models.CharField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=40)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        help_text="区的上级为市；市和镇街组合不填。",
    )
    towns = models.ManyToManyField(
        "beneficiaries.Town", verbose_name="包含镇街", blank=True, related_name="groups", through="GroupTown",
        help_text="仅镇街组合填写：政策适用于这些镇街（如原渝北区的镇街），各镇街带起止日期。",
    )
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "区域"
        verbose_name_plural = "区域"
        ordering = ["kind", "code"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.kind == self.Kind.DISTRICT:
            if self.parent_id is None or self.parent.kind != self.Kind.CITY:
                errors["parent"] = "区的上级必须是市。"
        elif self.parent_id is not None:
            errors["parent"] = "市和镇街组合不设上级。"
        if errors:
            raise ValidationError(errors)


class GroupTown(models.Model):
    """A town in a set of towns (镇街组合) from ``valid_from`` to ``valid_to`` (open: still): a policy
    of the set applies to the town on the days it is in it (docs/areas.md). One span per town and set:
    a town leaves a set by its end date (``yfbz.areas.services.group_leave``)."""

    area = models.ForeignKey(Area, verbose_name="镇街组合", on_delete=models.CASCADE, limit_choices_to={"kind": "GROUP"})
    town = models.ForeignKey("beneficiaries.Town", verbose_name="镇街", on_delete=models.CASCADE)
    valid_from = models.DateField("起始日期", default=DATE_MIN)
    valid_to = models.DateField("终止日期", null=True, blank=True, help_text="为空：至今")
    source = models.CharField("依据", max_length=200, blank=True)

    class Meta:
        db_table = "areas_area_towns"  # the set's towns before they were dated: same rows, now with dates
        verbose_name = "镇街组合成员"
        verbose_name_plural = "镇街组合成员"
        unique_together = [("area", "town")]

    def __str__(self):
        return f"{self.area} ∋ {self.town}（{self.valid_from}～{self.valid_to or '至今'}）"

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def clean(self):
        if self.valid_to is not None and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "终止日期不能早于起始日期。"})


class TownDistrict(models.Model):
    """A town under a district from ``valid_from`` to ``valid_to`` (open: still). Spans of one town
    never overlap (``services`` lock the town's spans before writing; ``clean`` checks in the admin)."""

    town = models.ForeignKey("beneficiaries.Town", verbose_name="镇街", on_delete=models.PROTECT, related_name="district_spans")
    district = models.ForeignKey(
        Area, verbose_name="所属区", on_delete=models.PROTECT, related_name="town_spans",
        limit_choices_to={"kind": Area.Kind.DISTRICT},
    )
    valid_from = models.DateField("起始日期")
    valid_to = models.DateField("终止日期", null=True, blank=True, help_text="为空：至今")
    source = models.CharField("依据", max_length=200, blank=True, help_text="区划调整文件或本局通知")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "镇街所属区"
        verbose_name_plural = "镇街所属区"
        ordering = ["town_id", "valid_from"]
        indexes = [models.Index(fields=["town", "valid_from"]), models.Index(fields=["district", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="town_district_to_not_before_from",
                violation_error_message="终止日期不能早于起始日期。",
            ),
            models.UniqueConstraint(fields=["town", "valid_from"], name="town_district_once_per_day"),
        ]

    def __str__(self):
        return f"{self.town} → {self.district}（{self.valid_from}～{self.valid_to or '至今'}）"

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def clean(self):
        if self.district_id and self.district.kind != Area.Kind.DISTRICT:
            raise ValidationError({"district": "镇街只能隶属于区。"})
        if self.town_id and self.valid_from:
            end = self.valid_to or date.max
            overlapping = TownDistrict.objects.filter(town_id=self.town_id, valid_from__lte=end).filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from)
            ).exclude(pk=self.pk)
            if overlapping.exists():
                other = overlapping.first()
                raise ValidationError(f"与已有记录重叠：{other}。划转请用“镇街划转”，不要直接修改。")


class Bureau(models.Model):
    """The bureau, as from ``valid_from``: the row in force on a day is the latest one on or before it."""

    valid_from = models.DateField("起始日期", unique=True)
    name = models.CharField("本局名称", max_length=60, help_text="如：重庆市渝北区医疗保障局；印在文书落款")
    site_title = models.CharField("系统名称", max_length=60, help_text="页面标题，如：渝北区医疗救助管理系统")
    doc_prefix = models.CharField("文号前缀", max_length=40, help_text="如：渝北医保救助 → 渝北医保救助〔2025〕0001号")
    reconsideration_body = models.CharField("行政复议机关", max_length=60, help_text="印在不予救助决定书上")
    district = models.ForeignKey(
        Area, verbose_name="管辖区", on_delete=models.PROTECT, related_name="+", limit_choices_to={"kind": Area.Kind.DISTRICT},
        help_text="本局服务的区：某日的辖区为当日隶属该区的镇街。",
    )
    default_policy_area = models.ForeignKey(
        Area, verbose_name="默认政策区域", on_delete=models.PROTECT, related_name="+",
        help_text="未登记镇街的人员按该区域的政策核定（如原渝北区镇街，适用2号文）。",
    )
    source = models.CharField("依据", max_length=200, blank=True)

    class Meta:
        verbose_name = "本局信息"
        verbose_name_plural = "本局信息"
        ordering = ["-valid_from"]

    def __str__(self):
        return f"{self.name}（{self.valid_from}起）"
