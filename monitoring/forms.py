"""Forms of the monitoring pages (they check what was typed; monitoring.applications does the rest)."""

from __future__ import annotations

from datetime import date

from django import forms

from beneficiaries.models import Person
from claims.forms import DATE, MultipleFileField
from claims.models import Institution
from yfbz.rules.idcard import IdNumberError, parse_id_number

from .models import Application


class ApplicationForm(forms.ModelForm):
    id_number = forms.CharField(label="申请人公民身份号码", max_length=18)
    papers = MultipleFileField(label="申请资料扫描件（可多选：申请书、票据、费用清单、出院小结、委托书等）", required=False)

    class Meta:
        model = Application
        fields = ["on_behalf", "agent_name", "agent_relation", "reason", "institution", "kind", "disease", "admitted_on",
                  "settled_on", "total_cost", "in_policy_cost", "basic_paid", "critical_paid", "account_holder",
                  "bank_name", "bank_account"]
        widgets = {"admitted_on": DATE, "settled_on": DATE, "reason": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user=None, known_number: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.person = None
        # from a person or an alert: the number is known and never written into the page in full (issue 9,
        # finding 7); the field is left empty (masked as its placeholder) and may be filled to change the applicant
        self.known_number = known_number
        if known_number:
            from yfbz.core.pii import mask

            self.fields["id_number"].required = False
            self.fields["id_number"].widget.attrs["placeholder"] = mask(known_number)
            self.fields["id_number"].help_text = f"已带出 {mask(known_number)}；如需更换申请人请填写其公民身份号码"
        self.fields["institution"].queryset = Institution.objects.filter(active=True).order_by("name")
        self.fields["institution"].label_from_instance = lambda i: i.name
        self.fields["on_behalf"].help_text = "申请人委托他人代为办理时勾选，并填写代办人"

    def clean_id_number(self):
        try:
            number = parse_id_number(self.cleaned_data["id_number"] or self.known_number).number
        except IdNumberError as exc:
            raise forms.ValidationError(f"公民身份号码有误：{exc}") from None
        person = Person.objects.visible_to(self.user).filter(id_number=number).first()
        if person is None:
            raise forms.ValidationError("没有找到此人（或不属于您的镇街）。")
        self.person = person
        return number

    def clean(self):
        data = super().clean()
        total, inpol = data.get("total_cost"), data.get("in_policy_cost")
        basic, crit = data.get("basic_paid") or 0, data.get("critical_paid") or 0
        for f in ("total_cost", "in_policy_cost", "basic_paid", "critical_paid"):
            if data.get(f) is not None and data[f] < 0:
                self.add_error(f, "金额不能为负数。")
        if total is not None and inpol is not None and inpol > total:
            self.add_error("in_policy_cost", f"政策范围内费用{inpol}大于医疗总费用{total}。")
        if inpol is not None and basic + crit > inpol:
            self.add_error("basic_paid", f"基本医保与大病保险之和{basic + crit}大于政策范围内费用{inpol}。")
        settled, admitted = data.get("settled_on"), data.get("admitted_on")
        if settled and settled > date.today():
            self.add_error("settled_on", "结算日期不能晚于今天。")
        if admitted and settled and admitted > settled:
            self.add_error("admitted_on", "入院日期晚于结算（出院）日期。")
        if data.get("on_behalf") and not (data.get("agent_name") and data.get("agent_relation")):
            self.add_error("agent_name", "委托代办须填写代办人姓名及与申请人的关系。")
        return data
