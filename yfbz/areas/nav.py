ITEMS = [("区域与辖区", "areas:tree", "areas.view_area")]
