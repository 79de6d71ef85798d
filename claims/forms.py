"""Forms of the claims pages. They check what a clerk typed; services do the rest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.urls import reverse

from beneficiaries.models import Person
from yfbz.core.uploads import DataFileField
from yfbz.rules.idcard import IdNumberError, parse_id_number

from .models import Bill, Institution, SettlementLine

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}
DATE = forms.DateInput(attrs={"type": "date"})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Scanned papers: PDF, JPEG or PNG by their bytes, each at most SCAN_MAX (yfbz.core.uploads)."""

    def __init__(self, *args, **kwargs):
        from yfbz.core.uploads import SCAN_MAX

        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        kwargs.setdefault("help_text", f"PDF、JPEG或PNG，每个不超过{SCAN_MAX // 1024 // 1024} MB")
        super().__init__(*args, **kwargs)

    def _one(self, f, initial):
        from yfbz.core.uploads import UploadRefused, check_scan

        f = super().clean(f, initial)
        data = f.read()
        f.seek(0)
        try:
            check_scan(f.name, data)
        except UploadRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return f

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [self._one(d, initial) for d in data]
        return [self._one(data, initial)] if data else []


class BillForm(forms.ModelForm):
    id_number = forms.CharField(label="公民身份号码", max_length=18)
    attachments = MultipleFileField(label="票据扫描件（可多选）", required=False)
    duplicate_reason = forms.CharField(
        label="重复录入理由", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="仅当本票据与已录入的票据相同（同一人、医疗机构、日期和政策范围内费用）而确需再次录入时填写",
    )

    class Meta:
        model = Bill
        fields = [
            "institution", "kind", "disease", "admitted_on", "settled_on", "total_cost", "in_policy_cost",
            "basic_paid", "critical_paid", "employee_pooling", "employment", "tier", "fixed_items_paid", "pharmacy",
            "prescribing_level", "account_holder", "bank_name", "bank_account", "note",
        ]
        widgets = {"admitted_on": DATE, "settled_on": DATE, "note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["institution"].queryset = Institution.objects.filter(active=True)
        self.fields["disease"].widget.attrs["list"] = "catalogue"
        self.fields["disease"].help_text = "重特大疾病目录内的病种名称；不在目录内留空"
        # the person card follows the ID number and the settlement date as they are typed (htmx, GET only)
        card = {"hx-get": reverse("claims:bill-person"), "hx-target": "#person-card", "hx-swap": "outerHTML"}
        self.fields["id_number"].widget.attrs.update(card, **{
            "hx-trigger": "input changed delay:300ms", "hx-include": "[name=settled_on]", "autofocus": True,
            "data-testid": "id-number", "autocomplete": "off"})
        self.fields["settled_on"].widget.attrs.update(card, **{"hx-trigger": "change", "hx-include": "[name=id_number]"})
        self.person = None

    def clean_id_number(self):
        raw = self.cleaned_data["id_number"]
        try:
            number = parse_id_number(raw).number
        except IdNumberError as exc:
            raise forms.ValidationError(f"公民身份号码有误：{exc}") from None
        person = Person.objects.visible_to(self.user).filter(id_number=number).first()
        if person is None:
            raise forms.ValidationError("没有找到此人（或无权查看）。请先在人员库中登记。")
        self.person = person
        return number

    def clean(self):
        data = super().clean()
        total, inpol = data.get("total_cost"), data.get("in_policy_cost")
        basic, crit = data.get("basic_paid") or 0, data.get("critical_paid") or 0
        if total is not None and inpol is not None and inpol > total:
            self.add_error("in_policy_cost", f"政策范围内费用{inpol}大于医疗总费用{total}。")
        if inpol is not None and not data.get("employee_pooling") and basic + crit > inpol:
            self.add_error("basic_paid", f"基本医保与大病保险之和{basic + crit}大于政策范围内费用{inpol}。")
        settled, admitted = data.get("settled_on"), data.get("admitted_on")
        if settled and settled > date.today():
            self.add_error("settled_on", "结算日期不能晚于今天。")
        if admitted and settled and admitted > settled:
            self.add_error("admitted_on", "入院日期晚于结算（出院）日期。")
        if data.get("kind") == Bill.Kind.OUTPATIENT and admitted:
            self.add_error("admitted_on", "门诊票据不填入院日期。")
        if data.get("employee_pooling"):
            if data.get("kind") != Bill.Kind.OUTPATIENT:
                self.add_error("employee_pooling", "职工普通门诊统筹只适用于门诊票据。")
            for f in ("employment", "tier"):
                if not data.get(f):
                    self.add_error(f, "职工普通门诊须填写。")
            if data.get("pharmacy") and data.get("prescribing_level") is None:
                self.add_error("prescribing_level", "药店外配处方须填写开具处方机构的等级。")
        self._check_duplicate(data)
        for f in ("total_cost", "in_policy_cost", "basic_paid", "critical_paid", "fixed_items_paid"):
            v = data.get(f)
            if v is not None and v < 0:
                self.add_error(f, "金额不能为负数。")
        if not data.get("bank_account"):
            self.add_error("bank_account", "请填写收款银行账号。")
        return data

    def _check_duplicate(self, data) -> None:
        """Show the matching bill and ask for a reason, or refuse when it is approved (issue 10, finding 3)."""
        from .services import duplicate_problem

        if self.person is None or not data.get("institution") or not data.get("settled_on") or data.get("in_policy_cost") is None:
            return
        problem = duplicate_problem(
            person_id=self.person.pk, institution_id=data["institution"].pk, admitted_on=data.get("admitted_on"),
            settled_on=data["settled_on"], in_policy_cost=data["in_policy_cost"],
            reason=(data.get("duplicate_reason") or "").strip() or (self.instance.duplicate_reason if self.instance.pk else ""),
            exclude=self.instance.pk,
        )
        if problem is not None:
            self.duplicate_match = problem[1]
            self.add_error("duplicate_reason", str(problem[0]))

    def bill_fields(self) -> dict:
        data = {f: self.cleaned_data.get(f) for f in self.Meta.fields}
        for f in ("disease", "employment", "tier", "account_holder", "bank_name", "bank_account", "note"):
            data[f] = data[f] or ""
        for f in ("basic_paid", "critical_paid", "fixed_items_paid"):
            data[f] = data[f] or Decimal("0.00")
        data["person"] = self.person
        data["duplicate_reason"] = (self.cleaned_data.get("duplicate_reason") or "").strip()
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class ApproveForm(forms.Form):
    confirm_provisional = forms.BooleanField(label="已核对暂行规则的数额和依据", required=False)
    note = forms.CharField(label="审批意见", required=False, max_length=500)


class SettlementUploadForm(forms.Form):
    institution = forms.ModelChoiceField(label="医疗机构", queryset=Institution.objects.filter(active=True, networked=True))
    month = forms.CharField(label="结算月份", help_text="如 2025-03", max_length=7)
    file = DataFileField(label="结算文件", kind="settlement")

    def clean_month(self):
        raw = self.cleaned_data["month"].strip()
        try:
            y, m = (int(x) for x in raw.split("-"))
            return date(y, m, 1)
        except ValueError:
            raise forms.ValidationError("月份格式应为YYYY-MM，如2025-03。") from None


class PlatformUploadForm(forms.Form):
    """The city platform's settlement detail of a month: all institutions in one file (issue 18)."""

    month = forms.CharField(label="结算月份", help_text="如 2025-03", max_length=7)
    file = DataFileField(label="平台结算明细（全部机构）", kind="settlement",
                         help_text="医保信息平台导出的结算明细，按就诊医疗机构拆分后逐家核对")

    clean_month = SettlementUploadForm.clean_month


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(label="处理", choices=[c for c in SettlementLine.Resolution.choices if c[0]])
    note = forms.CharField(label="说明", required=False, max_length=500)
