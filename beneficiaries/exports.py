"""xlsx exports. They take a queryset already scoped by the caller (visible_to)."""

import io

from openpyxl import Workbook


def people_xlsx(people) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人员")
    ws.append(["公民身份号码", "姓名", "性别", "出生日期", "所属镇街", "村（社区）", "联系电话"])
    for p in people.iterator(chunk_size=2000):
        ws.append([p.id_number, p.name, p.get_sex_display(), p.birth_date, p.town.name if p.town else "", p.village, p.phone])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
