from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import DISTRICT_WIDE, Role


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
        return self.is_superuser or bool(self.roles & DISTRICT_WIDE)
