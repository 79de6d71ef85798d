from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .formats import FORMATS


def _kind_choices():
    return [(f.kind, f.name) for f in FORMATS.values()]


class HeaderAlias(models.Model):
    """A header wording staff met in a file, mapped to one column of one kind of file (like the
    category wordings of rosters). Added in the admin by the system administrator; the built-in
    wordings of ``yfbz.files.formats`` always work and need no row."""

    kind = models.CharField("文件", max_length=20, choices=_kind_choices)
    column = models.CharField("对应的列", max_length=30, help_text="该文件的列，见 docs/files.md")
    wording = models.CharField("表头写法", max_length=60)
    note = models.CharField("说明", max_length=200, blank=True, help_text="在哪个单位的文件中见到")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="添加人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        verbose_name = "表头写法"
        verbose_name_plural = "表头写法"
        ordering = ["kind", "column", "wording"]
        constraints = [models.UniqueConstraint(fields=["kind", "wording"], name="header_alias_once_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.wording} → {self.column_label}"

    @property
    def column_label(self) -> str:
        fmt = FORMATS.get(self.kind)
        return fmt.labels.get(self.column, self.column) if fmt else self.column

    def clean(self):
        from .reader import header_key

        fmt = FORMATS.get(self.kind)
        if fmt is None:
            return
        if self.column not in fmt.labels:
            raise ValidationError({"column": f"{fmt.name}没有这一列；可选：{'、'.join(f'{c.key}（{c.label}）' for c in fmt.columns)}"})
        key = header_key(self.wording)
        if not key:
            raise ValidationError({"wording": "表头写法不能为空"})
        for col in fmt.columns:
            if col.key != self.column and key in {header_key(w) for w in col.wordings}:
                raise ValidationError({"wording": f"“{self.wording}”已是{fmt.name}“{col.label}”列的写法"})
        others = HeaderAlias.objects.filter(kind=self.kind).exclude(pk=self.pk).exclude(column=self.column)
        for other in others:
            if header_key(other.wording) == key:
                raise ValidationError({"wording": f"“{self.wording}”已是{fmt.name}“{other.column_label}”列的写法"})
