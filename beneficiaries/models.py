"""Reference data (towns, departments, identity categories and their wordings), people and identities."""

from django.db import models

from yfbz.core.scoping import ScopedManager


class Town(models.Model):
    """镇街 of the district. Loaded from yfbz/reference/towns.csv by migration 0002; editable."""

    code = models.CharField("代码", max_length=10, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    kind = models.CharField("类型", max_length=4, choices=[("街道", "街道"), ("镇", "镇")])
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "镇街"
        verbose_name_plural = "镇街"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def short_name(self) -> str:
        """双龙湖街道 → 双龙湖, 统景镇 → 统景 (rosters write either)."""
        for suffix in ("街道", "镇"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


class Department(models.Model):
    """A certifying department (认定部门) that sends a monthly roster."""

    code = models.CharField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=30)

    class Meta:
        verbose_name = "认定部门"
        verbose_name_plural = "认定部门"
        ordering = ["id"]

    def __str__(self):
        return self.name


class Category(models.Model):
    """An identity category (身份类别) of POLICY.md §2. Benefit groups are policy data (yfbz.policy)."""

    code = models.CharField("代码", max_length=30, unique=True)
    name = models.CharField("类别名称", max_length=80)
    department = models.ForeignKey(Department, verbose_name="认定部门", on_delete=models.PROTECT, related_name="categories")
    youfu = models.BooleanField("优抚对象", default=False, help_text="渝退役军人局〔2022〕52号 第二条所称优抚对象，可享受优抚对象医疗补助")

    class Meta:
        verbose_name = "身份类别"
        verbose_name_plural = "身份类别"
        ordering = ["id"]

    def __str__(self):
        return self.name


class CategoryAlias(models.Model):
    """A department's own wording of a category (e.g. 城市低保 → DIBAO). Editable: an unknown
    wording in a roster is a row error until an administrator adds it here."""

    wording = models.CharField("名单中的写法", max_length=80)
    department = models.ForeignKey(Department, verbose_name="部门", on_delete=models.PROTECT)
    category = models.ForeignKey(Category, verbose_name="身份类别", on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        verbose_name = "类别写法"
        verbose_name_plural = "类别写法"
        constraints = [models.UniqueConstraint(fields=["department", "wording"], name="alias_unique_per_department")]

    def __str__(self):
        return f"{self.wording} → {self.category.code}"


class Person(models.Model):
    """One record per resident ID number."""

    SEX_CHOICES = [("M", "男"), ("F", "女")]

    id_number = models.CharField("公民身份号码", max_length=18, unique=True)
    name = models.CharField("姓名", max_length=50)
    birth_date = models.DateField("出生日期")
    sex = models.CharField("性别", max_length=1, choices=SEX_CHOICES)
    town = models.ForeignKey(Town, verbose_name="所属镇街", null=True, blank=True, on_delete=models.PROTECT, related_name="people")
    village = models.CharField("村（社区）", max_length=60, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    needs_maintenance_treatment = models.BooleanField(
        "需院外维持治疗的重病患者", default=False, help_text="渝北府办发〔2025〕2号 二(三)：低保对象中经认定需院外维持治疗的重病患者，普通门诊年限额700元"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Scoping:
        town = "town"
        department = "identities__category__department"

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        indexes = [models.Index(fields=["town", "name"]), models.Index(fields=["name"])]

    def __str__(self):
        return f"{self.name}（{self.masked_id_number}）"

    @property
    def masked_id_number(self) -> str:
        """Lists show 500112********0436; the full number is shown on request and the view is audited."""
        n = self.id_number
        return n[:6] + "*" * (len(n) - 10) + n[-4:] if len(n) > 10 else n


class Identity(models.Model):
    """One identity of a person: a category certified by a department, valid from/to (to = open while certified)."""

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="identities")
    category = models.ForeignKey(Category, verbose_name="身份类别", on_delete=models.PROTECT, related_name="identities")
    valid_from = models.DateField("起始日期")
    valid_to = models.DateField("终止日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = ScopedManager()

    class Scoping:
        town = "person__town"
        department = "category__department"

    class Meta:
        verbose_name = "身份"
        verbose_name_plural = "身份"
        ordering = ["person_id", "valid_from"]
        indexes = [models.Index(fields=["person", "category"]), models.Index(fields=["category", "valid_to"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="identity_to_not_before_from",
            )
        ]

    def __str__(self):
        return f"{self.person.name} {self.category.name} {self.valid_from}～{self.valid_to or '至今'}"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
