ITEMS = [("政策参数", "policy:in-force", None)]
