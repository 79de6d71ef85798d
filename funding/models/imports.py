"""Data files imported by a background job (enrolment for subsidies, bank returns for the treasury)."""

from __future__ import annotations

from django.db import models

from yfbz.core import jobs
from yfbz.core.bytes import BytesDeferredManager, BytesDeferredModel
from yfbz.core.jobs import JobSpec
from yfbz.core.workflow import StatusHistory

from .base import USER


@jobs.register
class FileImport(BytesDeferredModel, models.Model):
    """An uploaded data file imported by a background task (issue 9, finding 10): the web request only
    stores the file and queues; the task reads, checks and applies it in one transaction (yfbz.core.jobs:
    failed with the reason, "重新运行", never stuck)."""

    class Kind(models.TextChoices):
        ENROLMENT = "enrolment", "参保数据导入"
        BANK_RETURN = "bank_return", "银行回单导入"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "导入中"
        DONE = "done", "已导入"
        FAILED = "failed", "导入失败"

    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    params = models.JSONField("参数", default=dict, blank=True, help_text="年度；支付批次和银行支付日期")
    file_name = models.CharField("文件名", max_length=200)
    data = models.BinaryField("文件内容", editable=False)
    file_size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    created_by = models.ForeignKey(USER, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField("错误", blank=True)
    result = models.TextField("结果", blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    job_token = models.CharField("任务标记", max_length=40, blank=True)
    job_tries = models.PositiveSmallIntegerField("已尝试次数", default=0)

    JOB = JobSpec(label="数据文件导入", task="funding.tasks.file_import", queued=Status.QUEUED, running=Status.RUNNING,
                  done=Status.DONE, failed=Status.FAILED)
    MOVES = JOB.moves()  # yfbz.core.workflow: every move of the job row leaves a history row

    objects = BytesDeferredManager()  # the bytes are read by the import only (yfbz.core.bytes)

    class Meta:
        verbose_name = "数据文件导入"
        verbose_name_plural = "数据文件导入"
        ordering = ["-id"]
        base_manager_name = "objects"

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def can_rerun_by(self, user) -> bool:
        """Only the one who uploaded the file reruns it (it is applied in their name)."""
        return user.is_superuser or user.pk == self.created_by_id


class FileImportStatusChange(StatusHistory):
    """Append-only: every move of the job row — queued, claimed by a worker, failed and why, 重新运行 by
    whom, done (yfbz.core.workflow, yfbz.core.jobs)."""

    SUBJECT = "file_import"
    file_import = models.ForeignKey(FileImport, verbose_name="数据文件导入", on_delete=models.PROTECT, related_name="status_changes")

    class Meta(StatusHistory.Meta):
        verbose_name = verbose_name_plural = "数据文件导入状态记录"
