ITEMS = [
    ("资助参保", "funding:subsidy", "funding.view_subsidyresult"),
    ("自缴资助申报", "funding:selfpaid", "funding.view_selfpaidreport"),
    ("资金申请与支付", "funding:home", "funding.view_fundrequest"),
    ("记账", "funding:ledger", "funding.view_journalentry"),
    ("应收追回", "funding:receivables", "funding.view_receivable"),
    ("资金报表", "funding:report", "funding.view_journalentry"),
]
