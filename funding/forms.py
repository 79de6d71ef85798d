from datetime import date
from decimal import Decimal

from django import forms

from yfbz.core.uploads import DataFileField

from .models import EnrolmentKind

SELF_PAID_KINDS = [(k, v) for k, v in EnrolmentKind.choices if k in ("RESIDENT_T1", "RESIDENT_T2", "EMPLOYEE_INDIVIDUAL")]


class MonthForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    month = forms.IntegerField(label="月份", min_value=1, max_value=12)


class YearForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)


class TransferForm(forms.Form):
    on = forms.DateField(label="到账日期", initial=date.today)
    source_document = forms.CharField(label="拨款文件号/银行回单号", max_length=120)


class ConfirmForm(forms.Form):
    paid_on = forms.DateField(label="银行支付日期", initial=date.today)
    failures = forms.CharField(
        label="支付失败的明细（每行：明细号 原因）", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="例如：1203 账号有误。留空表示全部支付成功。",
    )

    def clean_failures(self):
        out = {}
        for n, line in enumerate(self.cleaned_data["failures"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            pid, _, reason = line.partition(" ")
            if not pid.isdigit() or not reason.strip():
                raise forms.ValidationError(f"第{n}行「{line}」格式应为：明细号 原因")
            out[int(pid)] = reason.strip()
        return out


class SelfPaidForm(forms.Form):
    id_number = forms.CharField(label="公民身份号码", max_length=18)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    enrolment = forms.ChoiceField(label="参保类型", choices=SELF_PAID_KINDS)
    paid_amount = forms.DecimalField(label="个人已缴金额", max_digits=14, decimal_places=2, min_value=0)
    bank_name = forms.CharField(label="开户银行", max_length=60)
    bank_account = forms.CharField(label="银行账号", max_length=40)
    account_holder = forms.CharField(label="户名", max_length=50)


class ImportForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    file = DataFileField(label="参保数据", kind="enrolment")


class TaxDetailForm(forms.Form):
    """The tax system's 税务代缴明细 of a year (two title rows, the header on row 3: docs/files.md)."""

    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    file = DataFileField(label="税务代缴明细", kind="enrolment",
                         help_text="税务系统导出的代缴明细（序号、人员编号、姓名、身份证件号码、街道乡镇、代缴类别、代缴金额…）")


def _choices(kind):
    from .models import Account

    return [(a.code, a.name) for a in Account.objects.filter(kind=kind).order_by("pk")]


class IncomeForm(forms.Form):
    account = forms.ChoiceField(label="收款账户")
    kind = forms.ChoiceField(label="类别")
    counterpart = forms.ChoiceField(label="付款单位")
    amount = forms.DecimalField(label="金额（元）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    on = forms.DateField(label="到账日期", widget=forms.DateInput(attrs={"type": "date"}))
    source_document = forms.CharField(label="原始凭据（文件号/回单号）", max_length=120)
    description = forms.CharField(label="摘要", max_length=200)

    def __init__(self, *args, **kwargs):
        from .models import Account, EntryKind
        from .services.ledger import INCOME_KINDS

        super().__init__(*args, **kwargs)
        self.fields["account"].choices = _choices(Account.Kind.OWN)
        self.fields["counterpart"].choices = _choices(Account.Kind.EXTERNAL)
        kinds = sorted(set().union(*INCOME_KINDS.values()))
        self.fields["kind"].choices = [(k, EntryKind(k).label) for k in kinds]


class EnrolmentForm(forms.Form):
    id_number = forms.CharField(label="公民身份号码", max_length=18)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label="参保类型", choices=EnrolmentKind.choices)


class ReceivableForm(forms.Form):
    debtor_name = forms.CharField(label="欠款方（个人或医疗机构）", max_length=100)
    fund = forms.ChoiceField(label="资金", choices=[("ASSISTANCE", "医疗救助资金"), ("YOUFU", "优抚对象医疗补助资金")])
    amount = forms.DecimalField(label="应收金额", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    source_key = forms.CharField(label="来源编号（如检查通报文号）", max_length=80)
    reason = forms.CharField(label="原因", max_length=300)


class RecoveryForm(forms.Form):
    amount = forms.DecimalField(label="追回金额", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    on = forms.DateField(label="到账日期", widget=forms.DateInput(attrs={"type": "date"}))
    source_document = forms.CharField(label="缴款书号/银行回单号", max_length=120)
