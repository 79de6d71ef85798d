"""The ledger's accounts (POLICY.md §12): the bureau's three own accounts and the counterparts.
Created by migration 0002 and re-created after every migrate/flush (apps.py), never by hand."""

ACCOUNTS = [
    # code, name, kind, fund
    ("SPECIAL", "医疗救助资金 财政专户", "own", "ASSISTANCE"),
    ("EXPENDITURE", "医疗救助资金 医保部门支出户", "own", "ASSISTANCE"),
    ("YOUFU", "优抚对象医疗补助资金", "own", "YOUFU"),
    ("CENTRAL", "中央财政", "external", ""),
    ("CITY", "市级财政", "external", ""),
    ("DISTRICT", "区财政局", "external", ""),
    ("BANK", "开户银行（利息）", "external", ""),
    ("AUDIT_REFUND", "整改退款单位", "external", ""),
    ("DONOR", "社会捐赠人", "external", ""),
    ("PAYEE_PERSON", "个人收款人", "external", ""),
    ("PAYEE_INSTITUTION", "定点医疗机构", "external", ""),
    ("DEBTOR", "追回款缴款人", "external", ""),
]


def ensure_accounts(apps=None, **kwargs) -> None:
    from django.apps import apps as global_apps

    Account = (apps or global_apps).get_model("funding", "Account")
    existing = set(Account.objects.values_list("code", flat=True))
    for code, name, kind, fund in ACCOUNTS:
        if code not in existing:
            Account.objects.create(code=code, name=name, kind=kind, fund=fund)
