from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import CITY_WIDE, DISTRICT_WIDE, Role


class User(AbstractUser):
    """A member of staff. A town clerk is bound to one town, a department officer to one department."""

    town = models.ForeignKey(
        "beneficiaries.Town", verbose_name="所属镇街", null=True, blank=True, on_delete=models.PROTECT,
        help_text="镇街经办员必须指定所属镇街；只能看到本镇街的人员。",
    )
    department = models.ForeignKey(
        "beneficiaries.Department", verbose_name="所属部门", null=True, blank=True, on_delete=models.PROTECT,
        help_text="部门数据员必须指定所属部门；只能看到本部门的名单。",
    )
    district = models.ForeignKey(
        "areas.Area", verbose_name="所属区", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"kind": "DISTRICT"},
        help_text="区级和镇街人员所属的区；为空即本局管辖区。只能看到镇街隶属该区期间形成的记录（市级医保看到全市）。",
    )
    full_name = models.CharField("姓名", max_length=50, blank=True)
    password_changed_at = models.DateTimeField(
        "密码修改时间", null=True, blank=True,
        help_text="为空表示首次登录须修改密码；超过规定天数（默认90天）也须修改。",
    )

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"

    def __str__(self):
        return self.full_name or self.username

    @property
    def roles(self) -> frozenset[Role]:
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            names = set(self.groups.values_list("name", flat=True)) if self.pk else set()
            cached = frozenset(r for r in Role if r.value in names)
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_everything(self) -> bool:
        """District-wide staff (every town of their district); see ``sees_every_district`` for the city."""
        return self.is_superuser or bool(self.roles & DISTRICT_WIDE)

    @property
    def sees_every_district(self) -> bool:
        return self.is_superuser or bool(self.roles & CITY_WIDE)


class AuditSeal(models.Model):
    """One link of the audit trail's hash chain (yfbz.core.auditchain): the entry it seals, by id (no
    foreign key: a deleted entry leaves its seal behind, which is how the deletion shows), the hash
    of the seal before it and its own. Append-only (a trigger on PostgreSQL)."""

    seq = models.BigIntegerField("序号", primary_key=True)
    entry_pk = models.BigIntegerField("审计记录", unique=True)
    prev_hash = models.CharField("前一哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)
    sealed_at = models.DateTimeField("封记时间", auto_now_add=True)

    class Meta:
        verbose_name = "审计记录封记"
        verbose_name_plural = "审计记录封记"
        ordering = ["seq"]

    def __str__(self):
        return f"#{self.seq} {self.hash[:12]}"


class BooksVerification(models.Model):
    """One run of ``manage.py verify_books`` (yfbz.core.books): whether the books add up, and what not."""

    ran_at = models.DateTimeField("核对时间", auto_now_add=True)
    ok = models.BooleanField("无误")
    summary = models.CharField("结论", max_length=500)
    findings = models.JSONField("发现的问题", default=list)
    counts = models.JSONField("各项检查问题数", default=dict)
    source = models.CharField("运行方式", max_length=20, help_text="命令 / 定时任务")

    class Meta:
        verbose_name = "账目核对"
        verbose_name_plural = "账目核对"
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return f"{self.ran_at:%Y-%m-%d %H:%M} {self.summary}"


class LoginFailure(models.Model):
    """The time of one failed login, under the django-axes attempt row it counted toward
    (yfbz.core.lockout): the sliding window "5 failures within 15 minutes" needs each failure's time,
    axes keeps only a counter. Deleting the attempt (a successful login, 解除锁定, expiry) deletes
    these with it."""

    attempt = models.ForeignKey("axes.AccessAttempt", verbose_name="登录失败（计入锁定）", on_delete=models.CASCADE,
                                related_name="failure_times")
    at = models.DateTimeField("失败时间", db_index=True)

    class Meta:
        verbose_name = "登录失败时间"
        verbose_name_plural = "登录失败时间"
        ordering = ["at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S}"
