"""The policy admin's forms: rates as percentages, a new group only on purpose, and a back-dated row
saved only after its effect on existing decisions has been shown (never rewriting them)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import PolicyRecord

HUNDRED = Decimal("100")
PERCENT_HELP = "填写百分数：90表示90%，72.5表示72.5%。"


class PercentField(forms.DecimalField):
    """A ratio entered and shown as a percentage (``90`` = 90 %), stored as a fraction (``0.9000``)."""

    default_error_messages = {"invalid": "请填写百分数（如90表示90%）。"}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", PERCENT_HELP)
        super().__init__(max_digits=None, decimal_places=None, **kwargs)
        self.widget.attrs.setdefault("step", "0.01")

    def prepare_value(self, value):
        if isinstance(value, Decimal):  # the stored fraction → the percentage staff read
            return format((value * HUNDRED).normalize(), "f")
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().replace("％", "%").rstrip("%").strip()
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not d.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return d

    def validate(self, value):
        super(forms.DecimalField, self).validate(value)
        if value is None:
            return
        shown = format(value.normalize(), "f")
        if value < 0 or value > HUNDRED:
            raise ValidationError(f"比例应为0到100之间的百分数（90表示90%），不能是{shown}。", code="range")
        if 0 < value < 1:
            raise ValidationError(
                f"请按百分数填写：{shown}将被当作{shown}%。如指{format((value * HUNDRED).normalize(), 'f')}%，请填"
                f"{format((value * HUNDRED).normalize(), 'f')}。",
                code="fraction",
            )
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError(f"百分数最多两位小数：{shown}。", code="decimals")

    def clean(self, value):
        pct = super().clean(value)
        return None if pct is None else (pct / HUNDRED).quantize(Decimal("0.0001"))


class PolicyRecordForm(forms.ModelForm):
    """Base of every policy row's admin form (built per model by ``form_for``)."""

    confirm_backdated = forms.BooleanField(
        label="我已查看上述影响，确认保存（已作出的决定不会被改写）", required=False, widget=forms.HiddenInput
    )

    #: set when a back-dated row was checked: what it would have changed (yfbz.policy.impact.Impact)
    impact = None

    def clean(self):
        data = super().clean()
        if "new_group" in self.fields:
            self.instance.allow_new_group = bool(data.get("new_group"))
            self.instance.new_group_name = (data.get("new_group_name") or "").strip() if data.get("new_group") else ""
        return data

    def _post_clean(self):
        super()._post_clean()  # the model's own validation (Chinese messages per field)
        if self.errors or not self._backdated():
            return
        if self.cleaned_data.get("confirm_backdated"):
            return
        from .services import impact_of

        self.impact = impact_of(self.instance)
        self.fields["confirm_backdated"].widget = forms.CheckboxInput()
        self.add_error(
            None,
            f"该记录自{self.instance.effective_from}起生效，早于或等于今天：请先查看下方它对已作出决定的影响，"
            "勾选“我已查看上述影响，确认保存”后再保存。",
        )

    def _backdated(self) -> bool:
        inst = self.instance
        if inst.effective_from is None or inst.effective_from > timezone.localdate():
            return False
        if inst.pk is None:
            return True
        return bool(self.changed_data and set(self.changed_data) - {"note", "confirm_backdated", "new_group", "new_group_name"})


def form_for(model: type[PolicyRecord]) -> type[PolicyRecordForm]:
    """The admin form of one policy table: its ratios as PercentFields, and for tables with a group
    code the "新设待遇组" tick that lets a group no row names yet through."""
    attrs: dict = {"Meta": type("Meta", (), {"model": model, "fields": "__all__"})}
    for name in model.PERCENT_FIELDS:
        f = model._meta.get_field(name)
        attrs[name] = PercentField(label=f"{f.verbose_name}（%）", required=not f.null)
    if any(f.name == "group" for f in model._meta.concrete_fields):
        attrs["new_group"] = forms.BooleanField(
            label="新设待遇组", required=False,
            help_text="待遇组编码须为现有政策中已有的编码；确需新设时勾选（如为新类别设立新的待遇组）。",
        )
        attrs["new_group_name"] = forms.CharField(
            label="新待遇组名称", required=False, max_length=60,
            help_text="新设待遇组时必填，如“住院90%比例组”：页面、文书和报表只显示名称。",
        )
    return type(f"{model.__name__}Form", (PolicyRecordForm,), attrs)
