"""Policy as data: every rate, cap, threshold, group membership, the disease catalogue and the
yearly contribution standards are rows with an effective-from date, a source document and a
status (confirmed / provisional).

The policy in force on a date takes, per natural key, the latest row effective on or before
that date (an inactive row ends the key from its date). Rows already in effect are never
edited: a correction is a new row with a later date, so decisions made earlier keep the figures
they were made with (and they store the policy version). See ``yfbz/rules/policy.py``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from yfbz.core.display import code_label, money, pct
from yfbz.core.memo import forget, remembered
from yfbz.rules.codes import ENROLMENT_ZH, YOUFU, Enrolment, Scheme, group_scheme
from yfbz.rules.defaults import default_records
from yfbz.rules.policy import PARAMETER_KEYS, age_condition_zh

GROUP_RE = re.compile(r"^(OUT|IN|MAJ|LRG|SUB)_[A-Z0-9_]+$")


def category_records() -> list[dict]:
    """The identity categories: the editable beneficiaries.Category table (so a category an
    administrator adds is known to the policy), or the shipped list before it exists. Read once per
    request (a field's choices ask for them per row drawn: yfbz.core.memo)."""
    return [dict(c) for c in remembered("categories", _category_records)]


def _category_records() -> list[dict]:
    from django.apps import apps
    from django.db import DatabaseError

    try:
        Category = apps.get_model("beneficiaries", "Category")
        rows = list(Category.objects.order_by("id").values("code", "name", "department__code"))
    except (LookupError, DatabaseError):
        rows = []
    shipped = {c["code"]: c for c in default_records()["categories"]}
    if not rows:
        return list(shipped.values())
    # shipped categories keep their record metadata (so an unedited database gives exactly the
    # shipped policy version); names edited and categories added by an administrator come from the table
    return [
        {**shipped.get(r["code"], {}), "code": r["code"], "name": r["name"], "department": r["department__code"]}
        for r in rows
    ]


def category_choices() -> list[tuple[str, str]]:
    return [(c["code"], f"{c['code']} {c['name']}") for c in category_records()]


def known_categories() -> set[str]:
    return {c["code"] for c in category_records()}


def _check_category(value: str | None, field: str, errors: dict, *, required: bool = False) -> None:
    if not value:
        if required:
            errors[field] = "请填写身份类别。"
        return
    if value not in known_categories():
        errors[field] = f"未知的身份类别编码：{value}。"


def known_groups() -> set[str]:
    """Every benefit group any policy row names (all versions), and YOUFU: a group code typed in the
    admin must be one of these unless the administrator ticks that a new group is meant."""
    groups = {YOUFU} | set(BenefitGroup.objects.values_list("code", flat=True))
    for model in (GroupMembership, SchemeRule, SubsidyRule):
        groups.update(model.objects.values_list("group", flat=True).distinct())
    return groups


def _check_known_group(record: PolicyRecord, errors: dict) -> None:
    """``IN_8O_75`` (a letter O for a zero) is refused, naming the nearest known groups."""
    import difflib

    group = record.group or ""
    if "group" in errors:
        return
    if getattr(record, "allow_new_group", False):
        name = (getattr(record, "new_group_name", "") or "").strip()
        if group not in group_names() and not name:
            errors["group"] = f"新设待遇组“{group}”须同时填写“新待遇组名称”（页面和文书只显示名称，不显示编码）。"
        elif name and BenefitGroup.objects.filter(name=name).exclude(code=group).exists():
            errors["group"] = f"待遇组名称“{name}”已被其他待遇组使用，请换一个名称。"
        return
    known = known_groups()
    if group in known:
        return
    near = difflib.get_close_matches(group, sorted(known), n=3, cutoff=0.6)
    hint = f"是否应为{'、'.join(near)}？" if near else ""
    errors["group"] = (
        f"待遇组编码“{group}”在现有政策中不存在。{hint}"
        "如确需新设待遇组，请勾选“新设待遇组”并同时录入其救助比例或资助规则。"
    )


class PolicyRowInForce(Exception):
    """A policy row already in force cannot be deleted (decisions were made under it)."""


def _check_ratio(value, field: str, errors: dict) -> None:
    if value is not None and not (Decimal("0") <= value <= Decimal("1")):
        errors[field] = f"比例应在0%到100%之间，不能是{value * 100:g}%。"


def _check_nonneg(value, field: str, errors: dict, what: str = "金额") -> None:
    if value is not None and value < 0:
        errors[field] = f"{what}不能为负数。"


class Status(models.TextChoices):
    CONFIRMED = "confirmed", "已确认"
    PROVISIONAL = "provisional", "暂行（待确认）"


class PolicyRevision(models.Model):
    """A counter bumped on every change to a policy row, so every process knows its cache is stale."""

    counter = models.BigIntegerField("修订号", default=0)

    class Meta:
        verbose_name = "政策修订号"
        verbose_name_plural = "政策修订号"

    def __str__(self) -> str:
        return f"政策修订号 {self.counter}"


class BenefitGroup(models.Model):
    """The Chinese name of a benefit group (OUT_700 → 门诊700元限额组): staff read the name wherever a
    group is shown (the policy page, the admin, decisions); the code stays the key policy rows share.
    Data: shipped in yfbz/rules/defaults.json ("group_names"), edited in the admin."""

    code = models.CharField("待遇组编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60, unique=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "待遇组名称"
        verbose_name_plural = "待遇组名称"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def group_names() -> dict[str, str]:
    """{group code: its Chinese name}, read once per request (yfbz.core.memo); the shipped names before the
    table exists or when it is empty."""
    return remembered("group_names", _read_group_names)


def _read_group_names() -> dict[str, str]:
    from django.db import DatabaseError

    try:
        return dict(BenefitGroup.objects.values_list("code", "name")) or shipped_group_names()
    except DatabaseError:
        return shipped_group_names()


def forget_group_names() -> None:
    forget("group_names")


def shipped_group_names() -> dict[str, str]:
    return {g["code"]: g["name"] for g in default_records().get("group_names", [])}


def group_name(code: str | None) -> str:
    """A group code in words; an unknown code is shown as "待遇组（code）" rather than bare."""
    if not code:
        return "—"
    name = group_names().get(code)
    return name if name else f"未命名待遇组（{code}）"


def category_name(code: str) -> str:
    """A category code in words (the code itself for an unknown one): the names built once per request
    (an admin list asked for them per cell, building the dict and the field's choices each time)."""
    return remembered("category-name-of", lambda: {c["code"]: c["name"] for c in category_records()}).get(code, code)




class PolicyRecord(models.Model):
    SECTION = ""
    #: fields that form the natural key together with effective_from
    KEY_FIELDS: tuple[str, ...] = ()
    #: ratios stored as fractions (0.75) and entered and shown as percentages (75) in the admin
    PERCENT_FIELDS: tuple[str, ...] = ()

    effective_from = models.DateField("生效日期", help_text="自该日起适用；此前的结算仍按原规则。")
    source = models.CharField("依据文件", max_length=300, help_text="如：渝北府办发〔2025〕2号 二(四)")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    active = models.BooleanField(
        "有效", default=True, help_text="取消勾选：自生效日期起停用此项（如目录删除某病种）。"
    )
    note = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        abstract = True
        ordering = ("-effective_from",)

    def save(self, *args, **kwargs):
        name = (getattr(self, "new_group_name", "") or "").strip()
        if name and getattr(self, "group", None):  # a new group comes with its name (data, not code)
            BenefitGroup.objects.get_or_create(code=self.group, defaults={"name": name})
        return super().save(*args, **kwargs)

    # --- conversion to the engine's plain records
    def record_fields(self) -> dict:
        raise NotImplementedError

    def to_record(self) -> dict:
        rec = self.record_fields()
        rec.update(
            area=self.area.code if getattr(self, "area_id", None) else None,
            effective_from=self.effective_from,
            source=self.source,
            status=self.status,
            active=self.active,
        )
        return rec

    @property
    def is_provisional(self) -> bool:
        return self.status == Status.PROVISIONAL

    @property
    def in_force(self) -> bool:
        """Effective today or earlier: decisions may have been made under it."""
        return self.effective_from <= timezone.localdate()

    def delete(self, *args, **kwargs):
        """Only a row not yet in force may be deleted; one in force is ended by a new row (inactive,
        or with the corrected figures) with a later date, so earlier decisions keep their basis."""
        if self.pk and type(self).objects.filter(pk=self.pk, effective_from__lte=timezone.localdate()).exists():
            raise PolicyRowInForce(
                f"该记录已于{self.effective_from}生效，不能删除（已作出的决定以它为依据）。"
                "如需停用或更正，请新增一条生效日期更晚的记录（停用请取消勾选“有效”）。"
            )
        return super().delete(*args, **kwargs)

    def describe_zh(self) -> str:
        """One line for staff on the policy page."""
        return str(self)

    # --- validation
    def validate_fields(self, errors: dict) -> None:
        """Per-model checks; put Chinese messages into ``errors`` by field name."""

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if not (self.source or "").strip():
            errors["source"] = "请填写依据文件（文号及条款）。"
        self.validate_fields(errors)
        if self.pk:
            old = type(self).objects.filter(pk=self.pk).first()
            if old is not None and old.effective_from <= timezone.localdate():
                changed = [
                    f.name
                    for f in self._meta.concrete_fields
                    if f.name not in ("id", "note", "created_at", "updated_at")
                    and getattr(old, f.attname) != getattr(self, f.attname)
                ]
                if changed:
                    errors["__all__"] = (
                        f"该记录已于{old.effective_from}生效，不能修改（以免改变已作出的决定）。"
                        "如需更正或确认，请新增一条生效日期更晚的记录。"
                    )
        if errors:
            raise ValidationError(errors)


class AreaPolicyRecord(PolicyRecord):
    """A policy row of the engine's book, held per area (docs/areas.md)."""

    # where it applies (docs/areas.md): the city, a district or a set of towns (镇街组合); the engine
    # takes the rows of the areas of the person's town on the bill's date. Empty: the bureau's default
    # policy area (Bureau.default_policy_area, shipped: 原渝北区镇街).
    area = models.ForeignKey(
        "areas.Area", verbose_name="适用区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="全市、某区或镇街组合（如原渝北区镇街适用2号文）；按人员在结算日所在镇街的区域选用。为空：本局默认政策区域。",
    )

    class Meta(PolicyRecord.Meta):
        abstract = True


class PolicyParameter(AreaPolicyRecord):
    SECTION = "parameters"
    KEY_FIELDS = ("key",)
    key = models.CharField("参数", max_length=40, choices=sorted(PARAMETER_KEYS.items()))
    value = models.CharField("数值", max_length=40)

    class Meta(PolicyRecord.Meta):
        verbose_name = "政策参数"
        verbose_name_plural = "政策参数"
        constraints = [
            models.UniqueConstraint(fields=["key", "area", "effective_from"], name="policy_parameter_key_date")
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} = {self.value}（{self.effective_from}起）"

    def record_fields(self) -> dict:
        return {"key": self.key, "value": self.value}

    def validate_fields(self, errors: dict) -> None:
        try:
            v = Decimal(self.value)
        except Exception:
            errors["value"] = "数值格式错误。"
            return
        if self.key == "LARGE_EXPENSE_MIN_COST" and v < 0:
            errors["value"] = "起点金额不能为负数。"
        if self.key in ("LARGE_EXPENSE_MIN_LEVEL", "UNGRADED_LEVEL") and v not in (1, 2, 3):
            errors["value"] = "医疗机构等级应为1、2或3。"
        if self.key == "MAJOR_DISEASE_DESIGNATED_ONLY" and v not in (0, 1):
            errors["value"] = "应填1（仅限定点医疗机构）或0（不限）。"


class CategoryCondition(AreaPolicyRecord):
    """An age condition of an identity category (POLICY.md §3), checked by the engine on the bill's
    settlement date and, for the contribution subsidy, on each day of the year (D8). Data with a
    date, never read from the category's name: 60周岁以上农村籍退役人员 → 年满60周岁 (52号 第二条)."""

    SECTION = "category_conditions"
    KEY_FIELDS = ("category",)
    category = models.CharField("身份类别", max_length=40, choices=category_choices)
    min_age = models.PositiveSmallIntegerField("年满（周岁，含）", null=True, blank=True)
    max_age = models.PositiveSmallIntegerField("未满（周岁）", null=True, blank=True)

    class Meta(PolicyRecord.Meta):
        verbose_name = "身份类别年龄条件"
        verbose_name_plural = "身份类别年龄条件"
        constraints = [
            models.UniqueConstraint(fields=["category", "area", "effective_from"], name="policy_condition_key_date")
        ]

    def __str__(self) -> str:
        return f"{self.category}：{self.condition_zh()}"

    def describe_zh(self) -> str:
        return f"{category_name(self.category)}：{self.condition_zh()}"

    def condition_zh(self) -> str:
        return age_condition_zh(self.min_age, self.max_age) or "无年龄条件"

    def record_fields(self) -> dict:
        return {"category": self.category, "min_age": self.min_age, "max_age": self.max_age}

    def validate_fields(self, errors: dict) -> None:
        _check_category(self.category, "category", errors, required=True)
        for f in ("min_age", "max_age"):
            v = getattr(self, f)
            if v is not None and v > 120:
                errors[f] = "年龄条件不合理（应在0到120周岁之间）。"
        if self.min_age is None and self.max_age is None and self.active:
            errors["min_age"] = "请至少填写一项年龄条件；如要取消该类别的年龄条件，请取消勾选“有效”。"
        if self.min_age is not None and self.max_age is not None and self.min_age >= self.max_age:
            errors["max_age"] = f"“未满{self.max_age}周岁”应大于“年满{self.min_age}周岁”。"


class GroupMembership(AreaPolicyRecord):
    SECTION = "memberships"
    KEY_FIELDS = ("category", "group")
    category = models.CharField("身份类别", max_length=40, choices=category_choices)
    group = models.CharField("待遇组", max_length=40, help_text="如 OUT_700、IN_80_75、MAJ_37、SUB_T1、YOUFU")
    min_age = models.PositiveSmallIntegerField("条件：年满（周岁）", null=True, blank=True)
    also_holds = models.CharField("条件：同时持有身份", max_length=40, blank=True, choices=category_choices)
    attribute = models.CharField(
        "条件：人员属性",
        max_length=60,
        blank=True,
        help_text="如 needs_maintenance_treatment（需院外维持治疗的重病患者）",
    )
    otherwise = models.BooleanField(
        "其余情形",
        default=False,
        help_text="仅当同类别在同一救助项目下没有其他待遇组适用时才适用（如低保对象的OUT_400）。",
    )

    class Meta(PolicyRecord.Meta):
        verbose_name = "身份类别与待遇组"
        verbose_name_plural = "身份类别与待遇组"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "group", "area", "effective_from"], name="policy_membership_key_date"
            )
        ]

    def __str__(self) -> str:
        return f"{category_name(self.category)} → {group_name(self.group)}"

    def describe_zh(self) -> str:
        return f"{category_name(self.category)} → {group_name(self.group)}；条件：{self.condition_zh()}"

    def condition_zh(self) -> str:
        parts = []
        if self.min_age is not None:
            parts.append(f"年满{self.min_age}周岁")
        if self.also_holds:
            parts.append(f"同时为{category_name(self.also_holds)}")
        if self.attribute:
            parts.append(f"属于{code_label(self.attribute)}")
        text = "或".join(parts)
        if self.otherwise:
            text = (text + "；" if text else "") + "其余情形"
        return text or "无条件"

    def record_fields(self) -> dict:
        return {
            "category": self.category,
            "group": self.group,
            "min_age": self.min_age,
            "also_holds": self.also_holds or None,
            "attribute": self.attribute or None,
            "otherwise": self.otherwise,
        }

    def validate_fields(self, errors: dict) -> None:
        _check_category(self.category, "category", errors, required=True)
        if self.also_holds:
            _check_category(self.also_holds, "also_holds", errors)
        if self.group != YOUFU and not GROUP_RE.match(self.group or ""):
            errors["group"] = "待遇组编码无效：应为 OUT_/IN_/MAJ_/LRG_/SUB_ 开头的大写编码，或 YOUFU。"
        _check_known_group(self, errors)
        if self.min_age is not None and self.min_age > 120:
            errors["min_age"] = "年龄条件不合理。"
        if self.otherwise and (self.min_age is not None or self.also_holds or self.attribute):
            errors["otherwise"] = "“其余情形”不能同时设置其他条件。"


class SchemeRule(AreaPolicyRecord):
    SECTION = "scheme_rules"
    PERCENT_FIELDS = ("ratio_level1", "ratio_level2", "ratio_level3")
    KEY_FIELDS = ("scheme", "group", "category")
    scheme = models.CharField("救助项目", max_length=20, choices=[(s.value, s.zh) for s in Scheme])
    group = models.CharField("待遇组", max_length=40)
    category = models.CharField(
        "限于身份类别",
        max_length=40,
        blank=True,
        choices=category_choices,
        help_text="留空：适用于该组所有类别。",
    )
    ratio_level1 = models.DecimalField("一级（含未定级）比例", max_digits=5, decimal_places=4)
    ratio_level2 = models.DecimalField("二级比例", max_digits=5, decimal_places=4)
    ratio_level3 = models.DecimalField("三级比例", max_digits=5, decimal_places=4)
    annual_cap = models.DecimalField("年度限额（元）", max_digits=14, decimal_places=2)

    class Meta(PolicyRecord.Meta):
        verbose_name = "救助比例与年度限额"
        verbose_name_plural = "救助比例与年度限额"
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "group", "category", "area", "effective_from"], name="policy_schemerule_key_date"
            )
        ]

    def __str__(self) -> str:
        return self.describe_zh()

    def describe_zh(self) -> str:
        who = f"（{category_name(self.category)}）" if self.category else ""
        return f"{self.get_scheme_display()} {group_name(self.group)}{who}"

    def record_fields(self) -> dict:
        return {
            "scheme": self.scheme,
            "group": self.group,
            "category": self.category or None,
            "ratio_level1": self.ratio_level1,
            "ratio_level2": self.ratio_level2,
            "ratio_level3": self.ratio_level3,
            "annual_cap": self.annual_cap,
        }

    def validate_fields(self, errors: dict) -> None:
        if not GROUP_RE.match(self.group or "") or group_scheme(self.group) is None:
            errors["group"] = "待遇组编码无效：应为 OUT_/IN_/MAJ_/LRG_ 开头的大写编码。"
        elif self.scheme and group_scheme(self.group) != self.scheme:
            errors["group"] = f"待遇组{self.group}不属于所选救助项目（{Scheme(self.scheme).zh}）。"
        _check_known_group(self, errors)
        _check_category(self.category, "category", errors)
        for f in ("ratio_level1", "ratio_level2", "ratio_level3"):
            _check_ratio(getattr(self, f), f, errors)
        _check_nonneg(self.annual_cap, "annual_cap", errors, "年度限额")


class CatalogueDisease(AreaPolicyRecord):
    SECTION = "catalogue"
    KEY_FIELDS = ("name",)
    name = models.CharField("病种名称", max_length=100)

    class Meta(PolicyRecord.Meta):
        verbose_name = "重特大疾病目录病种"
        verbose_name_plural = "重特大疾病目录"
        constraints = [
            models.UniqueConstraint(fields=["name", "area", "effective_from"], name="policy_disease_key_date")
        ]

    def __str__(self) -> str:
        return self.name

    def record_fields(self) -> dict:
        return {"name": self.name}

    def validate_fields(self, errors: dict) -> None:
        if not (self.name or "").strip():
            errors["name"] = "请填写病种名称。"


class ContributionStandard(AreaPolicyRecord):
    SECTION = "contribution_standards"
    KEY_FIELDS = ("year", "category")
    year = models.PositiveSmallIntegerField("年度")
    category = models.CharField(
        "限于身份类别",
        max_length=40,
        blank=True,
        choices=category_choices,
        help_text="留空：通用标准；可为大学生等单设标准。",
    )
    t1 = models.DecimalField("一档个人缴费标准T1（元）", max_digits=14, decimal_places=2)
    t2 = models.DecimalField("二档个人缴费标准T2（元）", max_digits=14, decimal_places=2)

    class Meta(PolicyRecord.Meta):
        verbose_name = "城乡居民医保个人缴费标准"
        verbose_name_plural = "城乡居民医保个人缴费标准"
        constraints = [
            models.UniqueConstraint(
                fields=["year", "category", "area", "effective_from"], name="policy_standard_key_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}年 T1={self.t1} T2={self.t2}{' ' + self.category if self.category else ''}"

    def describe_zh(self) -> str:
        who = f"（{category_name(self.category)}）" if self.category else ""
        return f"{self.year}年{who} 一档T1={money(self.t1)}元，二档T2={money(self.t2)}元"

    def record_fields(self) -> dict:
        return {"year": self.year, "category": self.category or None, "t1": self.t1, "t2": self.t2}

    def validate_fields(self, errors: dict) -> None:
        if self.year is not None and not 2000 <= self.year <= 2100:
            errors["year"] = "年度不合理。"
        _check_category(self.category, "category", errors)
        _check_nonneg(self.t1, "t1", errors, "缴费标准")
        _check_nonneg(self.t2, "t2", errors, "缴费标准")


class SubsidyRule(AreaPolicyRecord):
    SECTION = "subsidy_rules"
    PERCENT_FIELDS = ("share",)
    KEY_FIELDS = ("group", "enrolment")
    group = models.CharField("资助组", max_length=40, help_text="SUB_ 开头，如 SUB_T1")
    enrolment = models.CharField(
        "参保方式",
        max_length=24,
        choices=[(e.value, e.value) for e in Enrolment if e != Enrolment.EMPLOYEE_EMPLOYER],
    )
    standard = models.CharField("按标准", max_length=2, choices=[("T1", "一档T1"), ("T2", "二档T2")])
    share = models.DecimalField("资助比例", max_digits=5, decimal_places=4)

    class Meta(PolicyRecord.Meta):
        verbose_name = "资助参保规则"
        verbose_name_plural = "资助参保规则"
        constraints = [
            models.UniqueConstraint(
                fields=["group", "enrolment", "area", "effective_from"], name="policy_subsidyrule_key_date"
            )
        ]

    def __str__(self) -> str:
        return self.describe_zh()

    def describe_zh(self) -> str:
        return (f"{group_name(self.group)} {ENROLMENT_ZH.get(self.enrolment, self.enrolment)}："
                f"{pct(self.share)} × {self.get_standard_display()}")

    def record_fields(self) -> dict:
        return {
            "group": self.group,
            "enrolment": self.enrolment,
            "standard": self.standard,
            "share": self.share,
        }

    def validate_fields(self, errors: dict) -> None:
        if not (self.group or "").startswith("SUB_") or not GROUP_RE.match(self.group or ""):
            errors["group"] = "资助组编码无效：应为 SUB_ 开头的大写编码。"
        _check_known_group(self, errors)
        _check_ratio(self.share, "share", errors)


class YoufuRule(AreaPolicyRecord):
    SECTION = "youfu_rules"
    PERCENT_FIELDS = ("ratio",)
    KEY_FIELDS = ("category",)
    category = models.CharField(
        "限于身份类别",
        max_length=40,
        blank=True,
        choices=category_choices,
        help_text="留空：适用于所有优抚对象。",
    )
    ratio = models.DecimalField("补助比例", max_digits=5, decimal_places=4)
    threshold = models.DecimalField("起付额（元）", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    annual_cap = models.DecimalField(
        "年度补助限额（元）",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="区级数据，无默认值；未填写则优抚对象医疗补助不启用。",
    )
    inpatient_only = models.BooleanField(
        "仅限住院费用", default=False, help_text="如晋退役军人规〔2024〕2号 第八条：仅对住院发生的医疗费用补助。"
    )
    annual_threshold = models.DecimalField(
        "年度起付额（元）",
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="本年度累计救助后自付超过该数的部分才予补助（个人负担较重部分）；0为不设。",
    )

    class Meta(PolicyRecord.Meta):
        verbose_name = "优抚对象医疗补助规则"
        verbose_name_plural = "优抚对象医疗补助规则"
        constraints = [
            models.UniqueConstraint(fields=["category", "area", "effective_from"], name="policy_youfu_key_date")
        ]

    def __str__(self) -> str:
        cap = "未设定（不启用）" if self.annual_cap is None else self.annual_cap
        return f"优抚补助 {self.category or '全部'}：{self.ratio}，限额{cap}"

    def describe_zh(self) -> str:
        cap = "未设定（不启用）" if self.annual_cap is None else f"{money(self.annual_cap)}元"
        who = category_name(self.category) if self.category else "全部身份"
        return f"优抚补助 {who}：比例{pct(self.ratio)}，年度限额{cap}"

    def record_fields(self) -> dict:
        return {
            "category": self.category or None,
            "ratio": self.ratio,
            "threshold": self.threshold,
            "annual_cap": self.annual_cap,
            "inpatient_only": self.inpatient_only,
            "annual_threshold": self.annual_threshold,
        }

    def validate_fields(self, errors: dict) -> None:
        _check_category(self.category, "category", errors)
        _check_ratio(self.ratio, "ratio", errors)
        _check_nonneg(self.threshold, "threshold", errors, "起付额")
        _check_nonneg(self.annual_cap, "annual_cap", errors, "年度限额")
        _check_nonneg(self.annual_threshold, "annual_threshold", errors, "年度起付额")


class EmployeePoolingRule(AreaPolicyRecord):
    SECTION = "employee_pooling"
    PERCENT_FIELDS = ("ratio_level1", "ratio_level2", "ratio_level3", "account_base_share")
    KEY_FIELDS = ("employment",)
    employment = models.CharField(
        "人员类别", max_length=12, choices=[("IN_SERVICE", "在职"), ("RETIRED", "退休")]
    )
    deductible = models.DecimalField("年度起付标准（元）", max_digits=14, decimal_places=2)
    ratio_level1 = models.DecimalField("一级比例", max_digits=5, decimal_places=4)
    ratio_level2 = models.DecimalField("二级比例", max_digits=5, decimal_places=4)
    ratio_level3 = models.DecimalField("三级比例", max_digits=5, decimal_places=4)
    limit_tier2 = models.DecimalField("年度限额：随单位或个人二档（元）", max_digits=14, decimal_places=2)
    limit_tier1 = models.DecimalField("年度限额：个人一档（元）", max_digits=14, decimal_places=2)
    account_base_share = models.DecimalField(
        "个人账户：缴费基数比例", max_digits=5, decimal_places=4, null=True, blank=True
    )
    account_monthly = models.DecimalField(
        "个人账户：每月定额（元）", max_digits=14, decimal_places=2, null=True, blank=True
    )
    account_monthly_elder = models.DecimalField(
        "个人账户：高龄每月定额（元）", max_digits=14, decimal_places=2, null=True, blank=True
    )
    elder_age = models.PositiveSmallIntegerField("高龄起始年龄（含）", null=True, blank=True)

    class Meta(PolicyRecord.Meta):
        verbose_name = "职工医保普通门诊统筹规则"
        verbose_name_plural = "职工医保普通门诊统筹规则"
        constraints = [
            models.UniqueConstraint(fields=["employment", "area", "effective_from"], name="policy_pooling_key_date")
        ]

    def __str__(self) -> str:
        return f"门诊统筹 {self.get_employment_display()}"

    def record_fields(self) -> dict:
        return {
            f: getattr(self, f)
            for f in (
                "employment",
                "deductible",
                "ratio_level1",
                "ratio_level2",
                "ratio_level3",
                "limit_tier2",
                "limit_tier1",
                "account_base_share",
                "account_monthly",
                "account_monthly_elder",
                "elder_age",
            )
        }

    def validate_fields(self, errors: dict) -> None:
        for f in ("ratio_level1", "ratio_level2", "ratio_level3", "account_base_share"):
            _check_ratio(getattr(self, f), f, errors)
        for f in ("deductible", "limit_tier2", "limit_tier1", "account_monthly", "account_monthly_elder"):
            _check_nonneg(getattr(self, f), f, errors)


RECORD_MODELS: tuple[type[PolicyRecord], ...] = (
    CategoryCondition,
    PolicyParameter,
    GroupMembership,
    SchemeRule,
    CatalogueDisease,
    ContributionStandard,
    SubsidyRule,
    YoufuRule,
    EmployeePoolingRule,
)
