ITEMS = [
    ("手工报销", "claims:bill-list", "claims.view_bill"),
    ("一站式结算审核", "claims:settlement-list", "claims.view_settlementline"),
]
