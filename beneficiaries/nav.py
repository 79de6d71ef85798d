ITEMS = [
    ("身份名单", "beneficiaries:roster-list", "beneficiaries.view_identity"),
    ("报送情况", "beneficiaries:duty-board", "beneficiaries.view_identity"),
    ("追溯变化", "beneficiaries:retroactive-list", "beneficiaries.view_identity"),
]
