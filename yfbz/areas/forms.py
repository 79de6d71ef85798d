from django import forms

from beneficiaries.models import Town

from .models import Area


def _districts():
    return Area.objects.filter(kind=Area.Kind.DISTRICT).order_by("code")


class MoveTownsForm(forms.Form):
    towns = forms.ModelMultipleChoiceField(label="镇街", queryset=Town.objects.order_by("code"),
                                           widget=forms.SelectMultiple(attrs={"size": 8}))
    district = forms.ModelChoiceField(label="划入区", queryset=_districts())
    on = forms.DateField(label="自何日起", widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.CharField(label="依据", max_length=200, help_text="如：渝府发〔2025〕XX号、本局过渡期安排通知")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = _districts()


class AddTownForm(forms.Form):
    code = forms.CharField(label="代码", max_length=10)
    name = forms.CharField(label="名称", max_length=30)
    kind = forms.ChoiceField(label="类型", choices=[("街道", "街道"), ("镇", "镇")])
    district = forms.ModelChoiceField(label="划入区", queryset=_districts())
    on = forms.DateField(label="自何日起", widget=forms.DateInput(attrs={"type": "date"}))
    previous_district = forms.ModelChoiceField(label="原属区", queryset=_districts(), required=False)
    group = forms.ModelChoiceField(label="政策适用的镇街组合", required=False,
                                   queryset=Area.objects.filter(kind=Area.Kind.GROUP).order_by("code"))
    source = forms.CharField(label="依据", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = _districts()
        self.fields["previous_district"].queryset = _districts()
        self.fields["group"].queryset = Area.objects.filter(kind=Area.Kind.GROUP).order_by("code")


class ImportTownsForm(forms.Form):
    file = forms.FileField(label="镇街文件", help_text="xlsx或CSV；表头：代码、名称、类型、所属区、起始日期，可选：原属区、镇街组合")
    source = forms.CharField(label="依据", max_length=200)
