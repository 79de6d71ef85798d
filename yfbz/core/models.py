from django.contrib.auth.models import AbstractUser
from django.db import models

from .bytes import BytesDeferredManager, BytesDeferredModel
from .jobs import JobSpec, register
from .roles import CITY_WIDE, DISTRICT_WIDE, Role
from .workflow import StatusHistory


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


@register
class ExportJob(BytesDeferredModel, models.Model):
    """A large export built by a Celery task instead of in the request (issue 14): over
    ``YFBZ_EXPORT_INLINE_ROWS`` rows a list's export becomes one of these (yfbz.core.exports). The
    filters are kept as the user sent them and the rows are read again at run time through the same
    scoped selector, as the user who asked; only that user downloads the file."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "排队中"
        RUNNING = "RUNNING", "生成中"
        DONE = "DONE", "已完成"
        FAILED = "FAILED", "失败"

    kind = models.CharField("导出内容", max_length=60)
    title = models.CharField("名称", max_length=200)
    params = models.JSONField("筛选条件", default=dict)
    full = models.BooleanField("含完整号码", default=False)
    requested_by = models.ForeignKey("core.User", verbose_name="申请人", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    rows = models.PositiveIntegerField("行数（估计）", default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    data = models.BinaryField("文件", null=True, editable=False)
    file_name = models.CharField("文件名", max_length=200, blank=True)
    error = models.TextField("错误", blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)

    JOB = JobSpec(label="导出文件", task="yfbz.core.tasks.export_run", queued=Status.QUEUED, running=Status.RUNNING,
                  done=Status.DONE, failed=Status.FAILED)
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    objects = BytesDeferredManager()  # the file is read by its download only

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        base_manager_name = "objects"
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"导出“{self.title}”（{self.get_status_display()}）"

    def can_rerun_by(self, user) -> bool:
        """Only the one who asked reruns it (the rows are read again in their area)."""
        return user.pk == self.requested_by_id


class ExportJobStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "job"
    job = models.ForeignKey(ExportJob, verbose_name="导出任务", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "导出任务状态记录"


class JobStep(models.Model):
    """One step of a job's current claim taken by a worker (yfbz.core.jobs: the coordinator under
    ``run``, a part or the last step under ``helping``): started when the worker holds the job's lock,
    ended just before it lets go. Between two steps nobody holds the lock, but every step of the claim
    has ended: the job is handing over, not interrupted. A step started and never ended while nobody
    holds the lock is a worker killed mid-step: 运行已中断 at once. Only the claims in flight keep rows
    (a new claim, "done" and a failure remove the job's rows); no page shows them."""

    job = models.CharField("任务类型", max_length=100)  # the job row's model, label_lower
    job_pk = models.BigIntegerField("任务编号")
    token = models.CharField("任务标记", max_length=40)
    step = models.CharField("步骤", max_length=64)  # the Celery task's id (a message delivered again is the same step)
    started_at = models.DateTimeField("开始时间")
    ended_at = models.DateTimeField("结束时间", null=True)

    class Meta:
        verbose_name = verbose_name_plural = "后台任务步骤"
        constraints = [models.UniqueConstraint(fields=["token", "step"], name="core_jobstep_token_step")]
        indexes = [models.Index(fields=["job", "job_pk"], name="core_jobstep_job")]

    def __str__(self):
        return f"{self.job} #{self.job_pk} {self.step}"
