"""Stable codes shared by the engine, the database, notices and tests.

Scheme and group codes are those of POLICY.md. Reason codes are numbered once and
never renumbered: notices, reports and tests refer to them (cf. openIMIS
``REJECTION_REASON_*``). Add new codes at the end of their hundred.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Scheme(StrEnum):
    OUTPATIENT = "OUTPATIENT"
    INPATIENT = "INPATIENT"
    MAJOR_DISEASE = "MAJOR_DISEASE"
    LARGE_EXPENSE = "LARGE_EXPENSE"

    @property
    def zh(self) -> str:
        return SCHEME_ZH[self]

    @property
    def specificity(self) -> int:
        """D2 tie-break: major > large-expense > ordinary."""
        return _SPECIFICITY[self]


SCHEME_ZH = {
    Scheme.OUTPATIENT: "普通疾病门诊医疗救助",
    Scheme.INPATIENT: "普通疾病住院医疗救助",
    Scheme.MAJOR_DISEASE: "重特大疾病医疗救助",
    Scheme.LARGE_EXPENSE: "大额费用医疗救助",
}
_SPECIFICITY = {Scheme.MAJOR_DISEASE: 3, Scheme.LARGE_EXPENSE: 2, Scheme.INPATIENT: 1, Scheme.OUTPATIENT: 1}

#: Group code prefix -> the scheme its rules belong to.
GROUP_PREFIX_SCHEME = {
    "OUT": Scheme.OUTPATIENT,
    "IN": Scheme.INPATIENT,
    "MAJ": Scheme.MAJOR_DISEASE,
    "LRG": Scheme.LARGE_EXPENSE,
}
SUBSIDY_PREFIX = "SUB"
#: Group of the 优抚对象 of 52号 第二条; also the key of the veterans' subsidy in a caps-used mapping.
YOUFU = "YOUFU"
YOUFU_ZH = "优抚对象医疗补助"
#: Caps-used key of the year's remaining self-pay counted toward the veterans' subsidy's annual
#: threshold (晋 第八条 "个人负担较重部分"): a running total, not a cap.
YOUFU_BURDEN = "YOUFU_BURDEN"


class BillKind(StrEnum):
    INPATIENT = "INPATIENT"
    OUTPATIENT = "OUTPATIENT"


class Enrolment(StrEnum):
    RESIDENT_T1 = "RESIDENT_T1"
    RESIDENT_T2 = "RESIDENT_T2"
    EMPLOYEE_INDIVIDUAL = "EMPLOYEE_INDIVIDUAL"
    EMPLOYEE_EMPLOYER = "EMPLOYEE_EMPLOYER"


ENROLMENT_ZH = {
    Enrolment.RESIDENT_T1: "城乡居民医保一档",
    Enrolment.RESIDENT_T2: "城乡居民医保二档",
    Enrolment.EMPLOYEE_INDIVIDUAL: "以个人身份参加职工医保",
    Enrolment.EMPLOYEE_EMPLOYER: "随单位参加职工医保",
}


class Status(StrEnum):
    CONFIRMED = "confirmed"
    PROVISIONAL = "provisional"


def group_scheme(group: str) -> Scheme | None:
    """The assistance scheme a group code belongs to (None for SUB_* and YOUFU)."""
    return GROUP_PREFIX_SCHEME.get(group.split("_", 1)[0])


class Reason(IntEnum):
    # 1xx: medical assistance on a bill
    PAID = 100
    NO_IDENTITY_ON_DATE = 101
    NO_SCHEME_FOR_IDENTITY = 102
    CAP_USED_UP = 103
    CAP_LIMITED = 104
    NOTHING_LEFT_TO_PAY = 105
    NOT_IN_CATALOGUE = 106
    LARGE_BELOW_THRESHOLD = 107
    LARGE_LEVEL_TOO_LOW = 108
    LARGE_DISEASE_IN_CATALOGUE = 109
    LARGE_NOT_INPATIENT = 110
    OTHER_SCHEME_PAYS_MORE = 111
    TIE_MORE_SPECIFIC = 112
    PROVISIONAL_RULE = 113
    UNGRADED_AS_LEVEL_1 = 114
    BEST_OF_SEVERAL_IDENTITIES = 115
    NO_RULE_IN_FORCE = 116
    COMPARED_SCHEMES = 117
    NOT_DESIGNATED_INSTITUTION = 118
    CATEGORY_AGE_NOT_MET = 119
    # 12x: 优抚对象医疗补助
    YOUFU_PAID = 120
    YOUFU_NO_CAP = 121
    YOUFU_CAP_USED_UP = 122
    YOUFU_NOTHING_REMAINS = 123
    YOUFU_CAP_LIMITED = 124
    YOUFU_INPATIENT_ONLY = 125
    YOUFU_BELOW_ANNUAL_THRESHOLD = 126
    # 2xx: contribution subsidy
    SUBSIDY_PAID = 200
    SUBSIDY_EMPLOYER_INSURED = 201
    SUBSIDY_NOT_ENROLLED = 202
    SUBSIDY_NO_QUALIFYING_IDENTITY = 203
    SUBSIDY_NO_STANDARD = 204
    SUBSIDY_PROVISIONAL_STANDARD = 205
    SUBSIDY_NO_RULE_FOR_ENROLMENT = 206
    SUBSIDY_AGE_NOT_MET = 207
    # 3xx: employees' outpatient pooling (渝医保发〔2023〕32号)
    POOLING_PAID = 300
    POOLING_DEDUCTIBLE_NOT_REACHED = 301
    POOLING_LIMIT_USED_UP = 302
    POOLING_LIMIT_REACHED = 303
    POOLING_FIXED_ITEMS_EXCLUDED = 304
    POOLING_PRESCRIBER_LEVEL = 305

    @property
    def zh(self) -> str:
        return REASON_ZH[self]

    @property
    def label(self) -> str:
        """'R103 年度救助限额已用完' — the form used in outputs and on notices."""
        return f"R{self.value} {REASON_ZH[self]}"


REASON_ZH: dict[Reason, str] = {
    Reason.PAID: "按规定给予医疗救助",
    Reason.NO_IDENTITY_ON_DATE: "结算日无有效的医疗救助对象身份",
    Reason.NO_SCHEME_FOR_IDENTITY: "所持身份不享受该项医疗救助",
    Reason.CAP_USED_UP: "本年度该项救助限额已用完",
    Reason.CAP_LIMITED: "按本年度该项救助限额的剩余部分支付",
    Reason.NOTHING_LEFT_TO_PAY: "经基本医保、大病保险报销后无政策范围内自付费用",
    Reason.NOT_IN_CATALOGUE: "疾病不在重特大疾病救助目录内",
    Reason.LARGE_BELOW_THRESHOLD: "单次住院政策范围内费用未超过大额费用救助起点",
    Reason.LARGE_LEVEL_TOO_LOW: "就诊医疗机构低于大额费用救助要求的等级",
    Reason.LARGE_DISEASE_IN_CATALOGUE: "疾病属于重特大疾病救助目录，不适用大额费用救助",
    Reason.LARGE_NOT_INPATIENT: "大额费用救助仅适用于单次住院",
    Reason.OTHER_SCHEME_PAYS_MORE: "其他救助方案金额更高，未采用",
    Reason.TIE_MORE_SPECIFIC: "金额相同，按更具体的救助方案（重特大疾病>大额费用>普通疾病）",
    Reason.PROVISIONAL_RULE: "适用的规则为暂行规则，数额待确认",
    Reason.UNGRADED_AS_LEVEL_1: "未定级医疗机构按一级医疗机构计算",
    Reason.BEST_OF_SEVERAL_IDENTITIES: "多重身份，按待遇最优的身份计算",
    Reason.NO_RULE_IN_FORCE: "结算日无有效的救助规则",
    Reason.COMPARED_SCHEMES: "符合多个救助方案，按救助金额最高的方案计算，不重复救助",
    Reason.NOT_DESIGNATED_INSTITUTION: "就诊医疗机构在结算日不是定点医疗机构，不适用重特大疾病医疗救助",
    Reason.CATEGORY_AGE_NOT_MET: "结算日不符合所持身份类别的年龄条件",
    Reason.YOUFU_PAID: "按规定给予优抚对象医疗补助",
    Reason.YOUFU_NO_CAP: "优抚对象医疗补助年度限额尚未设定，暂不启用",
    Reason.YOUFU_CAP_USED_UP: "本年度优抚对象医疗补助限额已用完",
    Reason.YOUFU_NOTHING_REMAINS: "前序报销和救助后无需补助的自付费用",
    Reason.YOUFU_CAP_LIMITED: "按本年度优抚对象医疗补助限额的剩余部分支付",
    Reason.YOUFU_INPATIENT_ONLY: "优抚对象医疗补助仅适用于住院费用",
    Reason.YOUFU_BELOW_ANNUAL_THRESHOLD: "本年度累计自付费用未超过优抚对象医疗补助年度起付额",
    Reason.SUBSIDY_PAID: "按规定资助参保",
    Reason.SUBSIDY_EMPLOYER_INSURED: "随单位参加职工医保，不予资助",
    Reason.SUBSIDY_NOT_ENROLLED: "当年未参保（漏保、断保），无法资助",
    Reason.SUBSIDY_NO_QUALIFYING_IDENTITY: "当年无享受资助参保的身份",
    Reason.SUBSIDY_NO_STANDARD: "当年个人缴费标准尚未录入",
    Reason.SUBSIDY_PROVISIONAL_STANDARD: "个人缴费标准为暂定数，待确认",
    Reason.SUBSIDY_NO_RULE_FOR_ENROLMENT: "所持身份在该参保方式下不予资助",
    Reason.SUBSIDY_AGE_NOT_MET: "当年持有该身份期间均不符合身份类别的年龄条件",
    Reason.POOLING_PAID: "按职工医保普通门诊统筹报销",
    Reason.POOLING_DEDUCTIBLE_NOT_REACHED: "未超过年度起付标准",
    Reason.POOLING_LIMIT_USED_UP: "年度普通门诊统筹支付限额已用完",
    Reason.POOLING_LIMIT_REACHED: "按年度支付限额的剩余部分支付",
    Reason.POOLING_FIXED_ITEMS_EXCLUDED: "定额报销项目不计入普通门诊统筹",
    Reason.POOLING_PRESCRIBER_LEVEL: "药店外配处方按开具处方医疗机构的等级结算",
}
assert set(REASON_ZH) == set(Reason)

#: The document and clause behind a reason code, for the codes whose basis is one clause (the pages
#: engineer keeps the full table as data; these are the texts for the codes added with them).
REASON_BASIS: dict[Reason, str] = {
    Reason.NOT_DESIGNATED_INSTITUTION: "渝北府办发〔2025〕2号 二(五)（在定点医疗机构发生的住院或门诊费用）",
    Reason.CATEGORY_AGE_NOT_MET: "渝退役军人局〔2022〕52号 第二条（60周岁以上农村籍退役人员）；年龄按结算日计算（POLICY.md §3、D1）",
    Reason.YOUFU_INPATIENT_ONLY: "晋退役军人规〔2024〕2号 第八条（优抚对象住院发生的符合规定的医疗费用）",
    Reason.YOUFU_BELOW_ANNUAL_THRESHOLD: "晋退役军人规〔2024〕2号 第八条（个人负担较重部分医疗费用）",
    Reason.SUBSIDY_AGE_NOT_MET: "渝北府办发〔2025〕2号 二(一)；渝退役军人局〔2022〕52号 第二条；年度内任一日有效且当日符合年龄条件（D8）",
}
