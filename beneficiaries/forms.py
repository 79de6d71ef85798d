from datetime import date

from django import forms

from yfbz.core.uploads import DataFileField

from .models import Department, RosterUpload


class RosterUploadForm(forms.Form):
    department = forms.ModelChoiceField(label="认定部门", queryset=Department.objects.none())
    month = forms.CharField(label="名单月份", widget=forms.DateInput(attrs={"type": "month"}), help_text="例如 2025-03")
    mode = forms.ChoiceField(label="名单类型", choices=RosterUpload.Mode.choices, initial=RosterUpload.Mode.SNAPSHOT)
    file = DataFileField(label="名单文件", kind="roster")

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        if departments.count() == 1:
            self.fields["department"].initial = departments.first()

    def clean_month(self):
        text = self.cleaned_data["month"].strip()
        try:
            year, month = text.split("-")[:2]
            return date(int(year), int(month), 1)
        except ValueError as exc:
            raise forms.ValidationError("月份格式应为 YYYY-MM，例如 2025-03") from exc


class PersonTownForm(forms.Form):
    """A person's town from a date, outside a roster (a correction; the reference is kept)."""

    town = forms.ModelChoiceField(label="迁入镇街", queryset=None)
    on = forms.DateField(label="自何日起", widget=forms.DateInput(attrs={"type": "date"}))
    source_ref = forms.CharField(label="依据（更正单号、迁移证明等）", max_length=120)

    def __init__(self, *args, **kwargs):
        from .models import Town

        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = Town.objects.filter(active=True).order_by("code")
