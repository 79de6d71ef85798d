"""Sample files of each real shape (made-up people, valid ID numbers, the title rows the systems
write): the city platform's settlement detail (结算明细) and the tax system's 代缴明细. Tests build
them here and the demo data too (demo_data); docs/files.md lists their columns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from yfbz.core.spreadsheets import SafeWorkbook

#: the city platform's settlement detail, as a Chongqing district's own tool reads it (issue 18)
PLATFORM_HEADER = [
    "清算期", "费款所属期", "结算id", "认定地", "镇街", "参保地", "参保类别", "身份证号", "姓名", "救助身份", "就诊地",
    "就诊医疗机构名称", "医保就诊类别", "医疗救助类别", "病种编码", "病种名称", "入院日期", "出院日期", "结算日期", "费用总额",
    "符合医保报销金额", "基本医疗保险报销金额", "大病报销金额", "大额报销金额", "进入医疗救助金额", "医疗救助", "倾斜救助",
    "扶贫济困金额（元）", "渝快保支出金额（元）", "个人账户支付金额（元）", "个人现金支付金额（元）",
]

#: the tax system's 税务代缴明细: two title rows, the header on row 3
TAX_HEADER = ["序号", "人员编号", "姓名", "身份证件类型", "身份证件号码", "街道乡镇", "代缴类别", "代缴金额", "个人缴费日期"]


def titled_xlsx(title_rows, header, rows) -> bytes:
    wb = SafeWorkbook()
    ws = wb.create_sheet("Sheet1")
    for t in title_rows:
        ws.append([t])
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    return wb.to_bytes()


def platform_row(sno, id_number, name, institution, advanced, *, in_policy="10000.00", basic="5000.00",
                 critical="0.00", large="0.00", tilted="0.00", kind="普通住院", settled=date(2025, 3, 15),
                 town="双龙湖街道", identity="低保对象", insured="城乡居民") -> list:
    """One settlement as the platform writes it (amounts as numbers, dates as text)."""
    inpol = Decimal(in_policy)
    entering = max(inpol - Decimal(basic) - Decimal(critical) - Decimal(large), Decimal("0"))
    admitted = settled.replace(day=max(settled.day - 5, 1))
    return [
        f"{settled:%Y%m}", f"{settled:%Y%m}", sno, "渝北区", town, "渝北区", insured, id_number, name, identity, "渝北区",
        institution, kind, "住院救助" if "住院" in kind else "门诊救助", "", "", admitted.isoformat(), settled.isoformat(),
        settled.isoformat(), float(inpol), float(inpol), float(Decimal(basic)), float(Decimal(critical)),
        float(Decimal(large)), float(entering), float(Decimal(advanced)), float(Decimal(tilted)), 0, 0, 0,
        float(max(entering - Decimal(advanced) - Decimal(tilted), Decimal("0"))),
    ]


def platform_xlsx(rows, month: date = date(2025, 3, 1)) -> bytes:
    """The platform's monthly settlement detail of all institutions, with its two title rows."""
    return titled_xlsx(
        (f"重庆市医疗保障信息平台 医疗救助一站式结算明细（{month:%Y年%m月}）", f"统筹区：渝北区　导出时间：{month:%Y-%m}-28"),
        PLATFORM_HEADER, rows,
    )


def tax_row(serial, id_number, name, town, category, amount, paid_on=date(2025, 1, 10)) -> list:
    return [serial, f"5001120{serial:07d}", name, "居民身份证（户口簿）", id_number, town, category, amount, paid_on.isoformat()]


def tax_xlsx(rows, year: int = 2025) -> bytes:
    """The tax system's 代缴明细 of a year: two title rows, the header on row 3."""
    return titled_xlsx(
        (f"城乡居民基本医疗保险{year}年度税务代缴明细", "填报单位：国家税务总局重庆市渝北区税务局　单位：元"),
        TAX_HEADER, rows,
    )
