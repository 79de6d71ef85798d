"""Every file the product reads, as data: its columns, the headers each column goes by, which are
required. The one reader (``yfbz.files.reader``) maps a file's header row through these built-in
wordings and through the wordings staff added (``HeaderAlias``, editable in the admin like the
category wordings). ``docs/files.md`` lists the same (a test keeps the two in step).

The first wording of a column is the one our own templates write; when a file carries two headers
of one column (结算日期 and 出院日期), the earlier wording in this list wins and the other column is
reported as not used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str  # the name staff read in messages
    aliases: tuple[str, ...]  # built-in header wordings, best first (the label is always one)
    required: bool = False

    @property
    def wordings(self) -> tuple[str, ...]:
        return self.aliases if self.label in self.aliases else (self.label, *self.aliases)


@dataclass(frozen=True, slots=True)
class FileFormat:
    kind: str
    name: str  # what staff call the file
    columns: tuple[Column, ...]
    #: groups of columns of which at least one must be present (an institution by code or by name)
    one_of: tuple[tuple[str, ...], ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def labels(self) -> dict[str, str]:
        return {c.key: c.label for c in self.columns}


FORMATS: dict[str, FileFormat] = {}


def register(fmt: FileFormat) -> FileFormat:
    FORMATS[fmt.kind] = fmt
    return fmt


def C(key, label, *aliases, required=False) -> Column:  # noqa: N802 - reads as a table below
    return Column(key, label, tuple(dict.fromkeys((label, *aliases))), required)


ID_NUMBER = ("身份证号", "身份证号码", "公民身份号码", "身份证件号码", "证件号码", "身份证")
TOWN = ("所属镇街", "镇街", "乡镇（街道）", "街道（乡镇）", "街道乡镇", "乡镇街道", "参保地镇街", "街道", "乡镇")

ROSTER = register(FileFormat("roster", "身份名单", (
    C("id_number", ID_NUMBER[0], *ID_NUMBER[1:], required=True),
    C("name", "姓名", required=True),
    C("category", "身份类别", "人员类别", "救助类别", "对象类别", "优抚类别", "救助身份", required=True),
    C("town", *TOWN, required=True),
    C("village", "村（社区）", "社区", "村"),
    C("certified_on", "认定日期", "认定时间", "纳入日期"),
    C("exits_on", "退出日期", "取消日期"),
    C("phone", "联系电话", "电话"),
    C("note", "备注"),
)))

SETTLEMENT = register(FileFormat("settlement", "一站式结算明细", (
    C("settlement_no", "结算编号", "结算流水号", "结算单号", "结算id", required=True),
    C("id_number", "公民身份号码", *ID_NUMBER, required=True),
    C("name", "姓名", required=True),
    C("kind", "类型", "就诊类型", "结算类型", "医保就诊类别", "医疗类别", required=True),
    C("disease", "疾病", "病种", "疾病名称", "病种名称", "诊断"),
    C("disease_code", "病种编码", "疾病编码"),
    C("admitted_on", "入院日期"),
    C("settled_on", "结算日期", "出院日期", required=True),
    C("total_cost", "医疗总费用", "总费用", "费用总额"),
    C("in_policy_cost", "政策范围内费用", "政策内费用", "符合医保报销金额", required=True),
    C("basic_paid", "基本医保支付", "统筹支付", "基本医疗保险报销金额", required=True),
    C("critical_paid", "大病保险支付", "大病报销金额"),
    C("large_paid", "职工大额医疗保险支付", "大额报销金额", "大额医疗支付"),
    C("advanced", "医疗救助垫付", "医疗救助支付", "救助金额", "医疗救助", required=True),
    C("tilted_paid", "倾斜救助", "倾斜救助金额"),
    C("institution_code", "医疗机构编码", "定点机构编码", "机构编码"),
    C("institution_name", "医疗机构名称", "就诊医疗机构名称", "定点医疗机构名称", "机构名称"),
    C("platform_identity", "救助身份", "医疗救助身份"),
    C("clearing_period", "清算期", "清算月份", "清算年月"),
    # written by the split of the platform's settlement detail: the line's row in the platform's file
    C("source_row", "原文件行号"),
)))

ENROLMENT = register(FileFormat("enrolment", "参保数据", (
    C("id_number", "公民身份号码", *ID_NUMBER, required=True),
    C("name", "姓名", required=True),
    C("kind", "参保类型", "参保档次", "缴费档次", "险种类型", required=True),
    C("self_paid", "是否自行缴费", "自行缴费"),
)))

BANK_RETURN = register(FileFormat("bank_return", "银行回单", (
    C("payment", "明细号", "明细编号", "流水号", required=True),
    C("status", "状态", "支付状态", "交易状态", "处理结果", required=True),
    C("reason", "失败原因", "退票原因", "失败说明"),
)))

INSTITUTIONS = register(FileFormat("institutions", "定点医药机构", (
    C("code", "机构编码", "医疗机构编码", "定点机构编码", "定点医药机构编码", "code", required=True),
    C("name", "机构名称", "医疗机构名称", "定点医药机构名称", "name", required=True),
    C("level", "医院等级", "医疗机构等级", "机构等级", "等级", "level"),
    C("in_city", "市内", "是否市内", "in_city"),
    C("networked", "联网一站式结算", "是否联网", "联网结算", "networked"),
    C("designated", "定点", "是否定点", "定点医疗机构", "designated"),
    C("designated_from", "定点起始日期", "定点开始日期", "designated_from"),
    C("designated_to", "定点终止日期", "定点结束日期", "designated_to"),
    C("active", "启用", "是否启用", "active"),
)))

HIGH_COST = register(FileFormat("high_cost", "高额医疗费用明细", (
    C("settlement_no", "结算编号", "结算流水号", "结算id", required=True),
    C("id_number", ID_NUMBER[0], *ID_NUMBER[1:], required=True),
    C("name", "姓名", required=True),
    C("town", *TOWN, required=True),
    C("settled_on", "结算日期", "出院日期", required=True),
    C("institution_code", "医疗机构编码", "定点机构编码"),
    C("institution_name", "就诊医疗机构名称", "医疗机构名称"),
    C("institution_level", "医疗机构等级", "机构等级"),
    C("kind", "就诊类型", "医疗类别", "医保就诊类别", required=True),
    C("disease", "疾病名称", "诊断", "病种名称"),
    C("total_cost", "医疗总费用", "总费用", "费用总额", required=True),
    C("in_policy_cost", "政策范围内费用", "政策内费用", "符合医保报销金额", required=True),
    C("basic_paid", "基本医保支付", "统筹支付", "基本医疗保险报销金额", required=True),
    C("critical_paid", "大病保险支付", "大病报销金额", required=True),
    C("large_paid", "大额报销金额", "职工大额医疗保险支付"),
    C("assistance_paid", "医疗救助支付", "救助支付", "医疗救助", required=True),
    C("tilted_paid", "倾斜救助"),
    C("youfu_paid", "优抚补助支付"),
    C("charity_paid", "扶贫济困金额", "扶贫济困金额（元）"),
    C("commercial_paid", "渝快保支出金额", "渝快保支出金额（元）"),
    C("account_paid", "个人账户支付金额", "个人账户支付金额（元）"),
    C("cash_paid", "个人现金支付金额", "个人现金支付金额（元）"),
), one_of=(("institution_code", "institution_name"),)))

TAX_DETAIL = register(FileFormat("tax_detail", "税务代缴明细", (
    C("serial", "序号"),
    C("person_no", "人员编号", "个人编号"),
    C("name", "姓名", required=True),
    C("id_type", "身份证件类型", "证件类型"),
    C("id_number", "身份证件号码", *ID_NUMBER, required=True),
    C("town", "街道乡镇", *TOWN, required=True),
    C("category", "代缴类别", "资助类别", "资助身份", required=True),
    C("amount", "代缴金额", "资助金额", required=True),
    C("paid_on", "个人缴费日期", "缴费日期"),
)))

#: the area tree's towns (镇街区划, docs/areas.md): a town under its district from a date
TOWNS = register(FileFormat("towns", "镇街区划", (
    C("code", "代码", "镇街代码", required=True),
    C("name", "名称", "镇街名称", "镇街", required=True),
    C("kind", "类型", required=True),
    C("district", "所属区", "划入区", required=True),
    C("valid_from", "起始日期", "划入日期", "生效日期", required=True),
    C("previous_district", "原属区"),
    C("group", "镇街组合", "政策区域"),
)))

#: the rosters' category wordings (类别写法): a department's wording of one of our categories
CATEGORY_ALIASES = register(FileFormat("category_aliases", "类别写法", (
    C("wording", "名单中的写法", "写法", "类别写法", "wording", required=True),
    C("category", "身份类别", "类别代码", "身份类别代码", "code", required=True),
    C("department", "认定部门", "部门", "部门代码", "department", required=True),
)))
