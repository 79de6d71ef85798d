"""What ``load_history`` brought in (docs/adoption.md): one row per loaded file, keyed by the hash of
its content so that loading it again writes nothing, and the bills it made in file order so that
the output can be rebuilt from the database at any time."""

from django.conf import settings
from django.db import models

from yfbz.core.scoping import ScopedManager


class HistoryLoad(models.Model):
    """One history file loaded when the bureau adopted the product in a year already under way."""

    file_name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("内容SHA-256", max_length=64, unique=True, help_text="按JSON内容计算，与空白和缩进无关")
    historic = models.BooleanField("原系统核定结果", help_text="是：按原系统核定结果记录（--historic），不再支付；否：由本系统核定并审批")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", on_delete=models.PROTECT, related_name="+")
    loaded_at = models.DateTimeField("导入时间", auto_now_add=True)
    persons_created = models.PositiveIntegerField("新建人员", default=0)
    persons_matched = models.PositiveIntegerField("已有人员", default=0)
    identities_added = models.PositiveIntegerField("迁移身份", default=0)
    identities_skipped = models.PositiveIntegerField("已有身份（未重复添加）", default=0)
    institutions_created = models.PositiveIntegerField("新建医疗机构", default=0)
    bills = models.PositiveIntegerField("票据", default=0)

    class Meta:
        verbose_name = "历史数据导入"
        verbose_name_plural = "历史数据导入"
        ordering = ["-loaded_at", "-id"]

    def __str__(self):
        return f"{self.file_name}（{self.loaded_at:%Y-%m-%d %H:%M}）"


class HistoryLoadBill(models.Model):
    """A bill of a loaded file: its position and reference in the file, and the bill it became."""

    load = models.ForeignKey(HistoryLoad, verbose_name="导入", on_delete=models.PROTECT, related_name="load_bills")
    position = models.PositiveIntegerField("文件中的顺序")
    ref = models.CharField("原系统票据编号", max_length=60)
    bill = models.OneToOneField("claims.Bill", verbose_name="票据", on_delete=models.PROTECT, related_name="history_load")

    objects = ScopedManager()

    class Scoping:
        town = "bill__town"
        on = "bill__settled_on"

    class Meta:
        verbose_name = "历史数据导入票据"
        verbose_name_plural = "历史数据导入票据"
        ordering = ["load_id", "position"]
        constraints = [models.UniqueConstraint(fields=["load", "position"], name="history_load_bill_position")]

    def __str__(self):
        return f"{self.load.file_name} {self.ref}"
